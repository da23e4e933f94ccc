package lakeformation

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// RevokeAPI revokes grants; *lf.Client satisfies it.
type RevokeAPI interface {
	RevokePermissions(ctx context.Context, in *lf.RevokePermissionsInput, optFns ...func(*lf.Options)) (*lf.RevokePermissionsOutput, error)
}

var _ RevokeAPI = (*lf.Client)(nil)

// GovernedGrants are the access model's grants with governance on:
//   - the analysts' TABLE grant narrowed to the columns whose sensitivity is
//     one of gov.AnalystValues (analyst tag AND sensitivity in (...));
//   - each reader persona: DESCRIBE on databases with the analyst tag, and
//     SELECT+DESCRIBE on tables with the analyst tag AND its values;
//   - the workflow role's grants unchanged: on the workflow tag alone, so
//     column tags never narrow the import job's full table access.
//
// superseded are the analysts' grants on every column (the grants without
// governance), which GrantTagPermissions revokes once the narrowed ones are
// in place: while one exists, column sensitivity hides nothing.
func GovernedGrants(grants []TagGrant, analystTag stepcontract.TagRef, gov access.Governance) (out, superseded []TagGrant) {
	if !gov.Enabled {
		return grants, nil
	}
	key := gov.Sensitivity.Key
	for _, g := range grants {
		if g.ResourceType == types.ResourceTypeTable && g.Tag == analystTag && g.Narrow == nil && !slices.Contains(g.Permissions, types.PermissionAll) {
			superseded = append(superseded, g)
			g.Narrow = &access.Condition{Key: key, Values: slices.Clone(gov.AnalystValues)}
		}
		out = append(out, g)
	}
	for i, r := range gov.Readers {
		for _, p := range r.PrincipalARNs {
			out = append(out,
				TagGrant{Principal: p, ResourceType: types.ResourceTypeDatabase, Tag: analystTag, Permissions: []types.Permission{types.PermissionDescribe}, Origin: Configured(access.ReadersSetting(i))},
				TagGrant{Principal: p, ResourceType: types.ResourceTypeTable, Tag: analystTag, Permissions: []types.Permission{types.PermissionSelect, types.PermissionDescribe}, Origin: Configured(access.ReadersSetting(i)),
					Narrow: &access.Condition{Key: key, Values: slices.Clone(r.Values)}},
			)
		}
	}
	return out, superseded
}

// revokeSuperseded revokes the permissions of Superseded that the listing
// shows, and only those the superseded grant gave.
func (g *GrantTagPermissions) revokeSuperseded(ctx context.Context, have map[grantKey][]types.Permission) ([]string, error) {
	var changes []string
	if len(g.Superseded) > 0 && g.Revoke == nil {
		return nil, permanent("lakeformation:RevokePermissions", errors.New("no client to revoke superseded grants with"), "report it as a lakeforge defect: the grant-tag-permissions wiring sets GrantTagPermissions.Revoke")
	}
	for _, old := range g.Superseded {
		var held []types.Permission
		for _, p := range old.Permissions {
			if slices.Contains(have[old.key()], p) {
				held = append(held, p)
			}
		}
		if len(held) == 0 {
			continue
		}
		err := g.Retry.Do(ctx, "lakeformation:RevokePermissions", func(ctx context.Context) error {
			_, err := g.Revoke.RevokePermissions(ctx, &lf.RevokePermissionsInput{
				Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(old.Principal)},
				Resource:    old.resource(),
				Permissions: held,
			})
			return err
		})
		if err != nil {
			return changes, fail("lakeformation:RevokePermissions", old.String(), err)
		}
		done := old
		done.Permissions = held
		changes = append(changes, "revoked "+done.String()+" (governance: superseded by the grant on the columns of governance.analystValues)")
	}
	return changes, nil
}

// Resource is the LF-tag policy resource of the grant, as GrantPermissions
// takes it (lakeforge doctor lists it).
func (g TagGrant) Resource() *types.Resource { return g.resource() }

// Matches says whether a listed grant is on g's principal, resource type and
// expression (keys and values in any order).
func (g TagGrant) Matches(p types.PrincipalResourcePermissions) bool {
	k, ok := singleTagPolicy(p)
	return ok && k == g.key()
}
