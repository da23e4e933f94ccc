package lakeformation

import (
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// GovernanceTagPermissions are the LF-tag permissions governance adds to
// TagPermissionsFor: ASSOCIATE (with DESCRIBE) on every sensitivity value
// for the role that tags columns (TagOutput), and DESCRIBE with
// GRANT_WITH_LF_TAG_EXPRESSION on every value for the role that grants
// on expressions over them. None without governance.
func GovernanceTagPermissions(tagOutputRole, grantRole string, gov access.Governance) []TagPermission {
	if !gov.Enabled {
		return nil
	}
	var out []TagPermission
	for _, v := range gov.Sensitivity.Values {
		tag := stepcontract.TagRef{Key: gov.Sensitivity.Key, Value: v}
		out = append(out,
			TagPermission{Principal: tagOutputRole, Tag: tag, Permissions: []types.Permission{types.PermissionAssociate, types.PermissionDescribe}},
			TagPermission{Principal: grantRole, Tag: tag, Permissions: []types.Permission{types.PermissionDescribe, types.PermissionGrantWithLfTagExpression}},
		)
	}
	return out
}
