package lakeformation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// TagGrant is one grant on an LF-tag expression of a single tag.
type TagGrant struct {
	Principal    string
	ResourceType types.ResourceType
	Tag          config.TagRef
	Permissions  []types.Permission
}

func (g TagGrant) String() string {
	perms := make([]string, len(g.Permissions))
	for i, p := range g.Permissions {
		perms[i] = string(p)
	}
	return fmt.Sprintf("%s on %s with %s to %s", strings.Join(perms, "+"), g.ResourceType, g.Tag, g.Principal)
}

func (g TagGrant) resource() *types.Resource {
	return &types.Resource{LFTagPolicy: &types.LFTagPolicyResource{
		ResourceType: g.ResourceType,
		Expression:   []types.LFTag{{TagKey: aws.String(g.Tag.Key), TagValues: []string{g.Tag.Value}}},
	}}
}

// AccessGrants are the grants of the access model: the workflow role ALL on
// databases and tables with the workflow tag; each analyst DESCRIBE on
// databases and SELECT+DESCRIBE on tables with the analyst tag.
func AccessGrants(workflowRole string, workflowTag config.TagRef, analysts []string, analystTag config.TagRef) []TagGrant {
	grants := []TagGrant{
		{Principal: workflowRole, ResourceType: types.ResourceTypeDatabase, Tag: workflowTag, Permissions: []types.Permission{types.PermissionAll}},
		{Principal: workflowRole, ResourceType: types.ResourceTypeTable, Tag: workflowTag, Permissions: []types.Permission{types.PermissionAll}},
	}
	for _, a := range analysts {
		grants = append(grants,
			TagGrant{Principal: a, ResourceType: types.ResourceTypeDatabase, Tag: analystTag, Permissions: []types.Permission{types.PermissionDescribe}},
			TagGrant{Principal: a, ResourceType: types.ResourceTypeTable, Tag: analystTag, Permissions: []types.Permission{types.PermissionSelect, types.PermissionDescribe}},
		)
	}
	return grants
}

// GrantTagPermissions makes every grant of Grants that is missing.
type GrantTagPermissions struct {
	LF     GrantAPI
	Retry  awsretry.Policy
	Grants []TagGrant
}

func (g *GrantTagPermissions) Run(ctx context.Context) ([]string, error) {
	var changes []string
	for _, grant := range g.Grants {
		missing, err := g.missing(ctx, grant)
		if err != nil {
			return changes, err
		}
		if len(missing) == 0 {
			continue
		}
		// A principal created moments ago answers "Invalid principal" for a
		// while; the retry policy waits that out.
		err = g.Retry.Do(ctx, "lakeformation:GrantPermissions", func(ctx context.Context) error {
			_, err := g.LF.GrantPermissions(ctx, &lf.GrantPermissionsInput{
				Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(grant.Principal)},
				Resource:    grant.resource(),
				Permissions: missing,
			})
			return err
		})
		if err != nil {
			return changes, fail("lakeformation:GrantPermissions", grant.String(), err)
		}
		done := grant
		done.Permissions = missing
		changes = append(changes, "granted "+done.String())
	}
	return changes, nil
}

// missing returns the permissions of grant the principal lacks on the tag
// expression. ALL covers everything.
func (g *GrantTagPermissions) missing(ctx context.Context, grant TagGrant) ([]types.Permission, error) {
	var have []types.Permission
	err := g.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
		perms, err := listPermissions(ctx, g.LF, &lf.ListPermissionsInput{
			Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(grant.Principal)},
			Resource:  grant.resource(),
		})
		if err != nil {
			return err
		}
		have = nil
		for _, p := range perms {
			// Keep only this principal's grants on the exact expression:
			// the answer may include grants on wider expressions.
			if p.Principal == nil || aws.ToString(p.Principal.DataLakePrincipalIdentifier) != grant.Principal ||
				p.Resource == nil || !sameExpression(p.Resource.LFTagPolicy, grant) {
				continue
			}
			have = append(have, p.Permissions...)
		}
		return nil
	})
	if err != nil {
		return nil, fail("lakeformation:ListPermissions", grant.String(), err)
	}
	if slices.Contains(have, types.PermissionAll) {
		return nil, nil
	}
	var missing []types.Permission
	for _, p := range grant.Permissions {
		if !slices.Contains(have, p) {
			missing = append(missing, p)
		}
	}
	return missing, nil
}

func sameExpression(p *types.LFTagPolicyResource, grant TagGrant) bool {
	if p == nil || p.ResourceType != grant.ResourceType || len(p.Expression) != 1 {
		return false
	}
	e := p.Expression[0]
	return aws.ToString(e.TagKey) == grant.Tag.Key && len(e.TagValues) == 1 && e.TagValues[0] == grant.Tag.Value
}
