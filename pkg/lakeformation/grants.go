package lakeformation

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// TagGrant is one grant on an LF-tag expression of a single tag.
type TagGrant struct {
	Principal    string
	ResourceType types.ResourceType
	Tag          stepcontract.TagRef
	Permissions  []types.Permission
	// Origin is where the principal comes from; errors about the
	// principal name it.
	Origin Origin
	// Narrow, when set, is a second condition of the expression: with
	// governance, the sensitivity values the principal reads
	// (grants_governed.go).
	Narrow *access.Condition
}

// expression is the grant's LF-tag expression.
func (g TagGrant) expression() access.Expression {
	e := access.Expression{{Key: g.Tag.Key, Values: []string{g.Tag.Value}}}
	if g.Narrow != nil {
		e = append(e, *g.Narrow)
	}
	return e
}

func (g TagGrant) String() string {
	perms := make([]string, len(g.Permissions))
	for i, p := range g.Permissions {
		perms[i] = string(p)
	}
	return fmt.Sprintf("%s on %s with %s to %s", strings.Join(perms, "+"), g.ResourceType, g.expression(), g.Principal)
}

func (g TagGrant) resource() *types.Resource {
	var expr []types.LFTag
	for _, c := range g.expression() {
		expr = append(expr, types.LFTag{TagKey: aws.String(c.Key), TagValues: c.Values})
	}
	return &types.Resource{LFTagPolicy: &types.LFTagPolicyResource{ResourceType: g.ResourceType, Expression: expr}}
}

// listingType is the ListPermissions resource type that lists g's kind of
// grant: LF_TAG_POLICY alone lists only the DATABASE policies
// (aws-sdk-js#4583), so each resource type is listed on its own.
func (g TagGrant) listingType() types.DataLakeResourceType {
	if g.ResourceType == types.ResourceTypeTable {
		return types.DataLakeResourceTypeLfTagPolicyTable
	}
	return types.DataLakeResourceTypeLfTagPolicyDatabase
}

// AnalystsSetting is the configuration key of the configured analysts.
const AnalystsSetting = "personas.analysts.principalArns"

// The stack resources of the stack's own roles that steps name in errors
// (the construct ids of infra/stack).
const (
	WorkflowRoleResource     = "WorkflowRole (the Glue import workflow's role)"
	AnalystRoleResource      = "AnalystRole (the stack's analyst role)"
	RegistrationRoleResource = "LakeLocationRegistrationRole (the role Lake Formation reads and writes the lake with)"
)

// AccessGrants are the grants of the access model: the workflow role ALL on
// databases and tables with the workflow tag; each analyst DESCRIBE on
// databases and SELECT+DESCRIBE on tables with the analyst tag. analysts
// are the stack's analyst role (when it creates one) and the configured
// ones; configured marks the latter, for error messages.
func AccessGrants(workflowRole string, workflowTag stepcontract.TagRef, analysts []string, analystTag stepcontract.TagRef, configured ...string) []TagGrant {
	workflow := StackRole(WorkflowRoleResource)
	grants := []TagGrant{
		{Principal: workflowRole, ResourceType: types.ResourceTypeDatabase, Tag: workflowTag, Permissions: []types.Permission{types.PermissionAll}, Origin: workflow},
		{Principal: workflowRole, ResourceType: types.ResourceTypeTable, Tag: workflowTag, Permissions: []types.Permission{types.PermissionAll}, Origin: workflow},
	}
	for _, a := range analysts {
		origin := StackRole(AnalystRoleResource)
		if slices.Contains(configured, a) {
			origin = Configured(AnalystsSetting)
		}
		grants = append(grants,
			TagGrant{Principal: a, ResourceType: types.ResourceTypeDatabase, Tag: analystTag, Permissions: []types.Permission{types.PermissionDescribe}, Origin: origin},
			TagGrant{Principal: a, ResourceType: types.ResourceTypeTable, Tag: analystTag, Permissions: []types.Permission{types.PermissionSelect, types.PermissionDescribe}, Origin: origin},
		)
	}
	return grants
}

// GrantTagPermissions makes every grant of Grants that is missing, and
// DESCRIBE on the default database for AthenaReaders.
//
// It reads the existing grants with one ListPermissions query per resource
// type (LF_TAG_POLICY_DATABASE, LF_TAG_POLICY_TABLE), unfiltered by
// principal, and matches principal and expression in code: a principal
// filter requires a Resource, and a query filtered by an LF-tag policy
// resource is unreliable (terraform-provider-aws#26602) and answers
// effective rather than granted permissions.
type GrantTagPermissions struct {
	LF         GrantAPI
	Principals *Principals
	Retry      awsretry.Policy
	Grants     []TagGrant
	// Superseded are grants the access model made before and must no
	// longer hold (governance: the analyst grant on every column), revoked
	// through Revoke after Grants are in place (grants_governed.go).
	Superseded []TagGrant
	Revoke     RevokeAPI
	// AthenaReaders get DESCRIBE on the default database (grants_default.go).
	AthenaReaders []AthenaReader
	// Log hears that the account has no default database (nil: slog's
	// default logger).
	Log *slog.Logger
}

// grantKey identifies a grant of one principal on one expression (its
// access.Expression Canonical form).
type grantKey struct {
	principal    string
	resourceType types.ResourceType
	expression   string
}

func (g TagGrant) key() grantKey {
	return grantKey{g.Principal, g.ResourceType, g.expression().Canonical()}
}

func (g *GrantTagPermissions) Run(ctx context.Context) ([]string, error) {
	have, err := g.existing(ctx)
	if err != nil {
		return nil, err
	}
	var changes []string
	for _, grant := range g.Grants {
		missing := missingPermissions(grant.Permissions, have[grant.key()])
		if len(missing) == 0 {
			continue
		}
		// A principal created moments ago answers "Invalid principal" for a
		// while; the retry policy waits that out, and asks IAM whether the
		// principal exists when it persists.
		err = g.Retry.DoChecked(ctx, "lakeformation:GrantPermissions", func(ctx context.Context) error {
			_, err := g.LF.GrantPermissions(ctx, &lf.GrantPermissionsInput{
				Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(grant.Principal)},
				Resource:    grant.resource(),
				Permissions: missing,
			})
			return err
		}, principalCheck(g.Principals, map[string]Origin{grant.Principal: grant.Origin}))
		if err != nil {
			return changes, fail("lakeformation:GrantPermissions", grant.String(), err)
		}
		done := grant
		done.Permissions = missing
		changes = append(changes, "granted "+done.String())
	}
	described, err := g.describeDefault(ctx)
	changes = append(changes, described...)
	if err != nil {
		return changes, err
	}
	revoked, err := g.revokeSuperseded(ctx, have)
	return append(changes, revoked...), err
}

// existing lists the LF-tag-policy grants of the resource types of Grants.
func (g *GrantTagPermissions) existing(ctx context.Context) (map[grantKey][]types.Permission, error) {
	have := map[grantKey][]types.Permission{}
	var listed []types.DataLakeResourceType
	for _, grant := range append(slices.Clone(g.Grants), g.Superseded...) {
		rt := grant.listingType()
		if slices.Contains(listed, rt) {
			continue
		}
		listed = append(listed, rt)
		var perms []types.PrincipalResourcePermissions
		err := g.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
			var err error
			perms, err = listPermissions(ctx, g.LF, &lf.ListPermissionsInput{ResourceType: rt})
			return err
		})
		if err != nil {
			return nil, fail("lakeformation:ListPermissions", "the "+string(rt)+" grants", err)
		}
		for _, p := range perms {
			k, ok := singleTagPolicy(p)
			if ok {
				have[k] = append(have[k], p.Permissions...)
			}
		}
	}
	return have, nil
}

// singleTagPolicy is the key of a grant on an LF-tag expression: a grant
// matches a listed one only on exactly the same expression (keys and
// values in any order); grants on other expressions are not the access
// model's.
func singleTagPolicy(p types.PrincipalResourcePermissions) (grantKey, bool) {
	if p.Principal == nil || p.Resource == nil || p.Resource.LFTagPolicy == nil || len(p.Resource.LFTagPolicy.Expression) == 0 {
		return grantKey{}, false
	}
	return grantKey{
		principal:    aws.ToString(p.Principal.DataLakePrincipalIdentifier),
		resourceType: p.Resource.LFTagPolicy.ResourceType,
		expression:   listedExpression(p.Resource.LFTagPolicy.Expression).Canonical(),
	}, true
}

// listedExpression is an expression as ListPermissions answers it.
func listedExpression(tags []types.LFTag) access.Expression {
	e := make(access.Expression, 0, len(tags))
	for _, t := range tags {
		e = append(e, access.Condition{Key: aws.ToString(t.TagKey), Values: t.TagValues})
	}
	return e
}

// missingPermissions is want minus have; ALL covers everything.
func missingPermissions(want, have []types.Permission) []types.Permission {
	if slices.Contains(have, types.PermissionAll) {
		return nil
	}
	var missing []types.Permission
	for _, p := range want {
		if !slices.Contains(have, p) {
			missing = append(missing, p)
		}
	}
	return missing
}
