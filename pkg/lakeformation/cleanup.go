package lakeformation

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Properties of the stack-delete cleanup custom resource.
const (
	// CleanupRoleARNsProperty lists the stack's roles: they leave the data
	// lake administrators, and their Lake Formation grants are revoked.
	CleanupRoleARNsProperty = "StackRoleArns"
	// CleanupKeptProperty describes what the cleanup keeps, for its log:
	// the databases, LF-tags and the registered location.
	CleanupKeptProperty = "Kept"
	// CleanupPhysicalID is the resource's one physical ID: an update never
	// replaces it, so it is deleted only with the stack.
	CleanupPhysicalID = "lakeforge-lake-formation-cleanup"
)

// grantResourceTypes are the resource types of every grant the stack's
// steps make: LF-tag permissions, LF-tag-policy grants, data location access.
var grantResourceTypes = []types.DataLakeResourceType{
	types.DataLakeResourceTypeLfTag,
	types.DataLakeResourceTypeLfTagPolicyDatabase,
	types.DataLakeResourceTypeLfTagPolicyTable,
	types.DataLakeResourceTypeDataLocation,
}

// StackCleanup undoes, when the stack is deleted, what the pipeline did
// outside CloudFormation to the principals CloudFormation deletes: it
// revokes every Lake Formation grant of the stack's roles and removes
// exactly those roles from the data lake administrators. A deleted role
// left among the administrators makes every later PutDataLakeSettings fail
// with "Invalid principal" (aws-cdk#19492).
//
// It keeps the catalog databases, the LF-tags and the registered location:
// they describe the kept lake bucket's data, and a redeploy adopts them.
type StackCleanup struct {
	LF    SettingsAPI
	Retry awsretry.Policy
	Log   *slog.Logger
}

// Handler is the custom resource's handler (wrap it with cfn.LambdaWrap).
// Create and Update check the properties; Delete cleans up and never fails
// the stack's deletion: what it could not remove it logs, and the next
// deployment's ConfigureLakeFormation drops administrators that no longer
// exist anyway.
func (c *StackCleanup) Handler(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	roles, err := cleanupRoles(ev.ResourceProperties)
	if ev.RequestType != cfn.RequestDelete {
		return CleanupPhysicalID, nil, err
	}
	if err != nil {
		c.Log.ErrorContext(ctx, "stack-delete cleanup skipped", "error", err.Error())
		return CleanupPhysicalID, nil, nil
	}
	changes, err := c.Remove(ctx, roles)
	kept, _ := ev.ResourceProperties[CleanupKeptProperty].(string)
	if err != nil {
		c.Log.ErrorContext(ctx, "stack-delete cleanup incomplete: remove the rest by hand (docs/operations.md, Teardown)", "error", err.Error(), "changes", changes, "kept", kept)
	} else {
		c.Log.InfoContext(ctx, "stack-delete cleanup done", "changes", changes, "kept", kept)
	}
	return CleanupPhysicalID, map[string]any{"Changes": strings.Join(changes, "; ")}, nil
}

func cleanupRoles(props map[string]any) ([]string, error) {
	raw, ok := props[CleanupRoleARNsProperty].([]any)
	var roles []string
	for _, r := range raw {
		if s, isString := r.(string); isString && strings.HasPrefix(s, "arn:") {
			roles = append(roles, s)
		} else {
			ok = false
		}
	}
	if !ok || len(roles) == 0 {
		return nil, &steperr.InvalidInputError{Field: "ResourceProperties." + CleanupRoleARNsProperty,
			Fix: "a non-empty list of the stack's role ARNs (the stack sets it; redeploy)"}
	}
	return roles, nil
}

// Remove revokes the grants of roles, then removes roles from the data lake
// administrators (in that order: revoking needs the admin rights).
func (c *StackCleanup) Remove(ctx context.Context, roles []string) ([]string, error) {
	var changes []string
	for _, rt := range grantResourceTypes {
		var perms []types.PrincipalResourcePermissions
		err := c.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
			var err error
			perms, err = listPermissions(ctx, c.LF, &lf.ListPermissionsInput{ResourceType: rt})
			return err
		})
		if err != nil {
			return changes, fail("lakeformation:ListPermissions", "the "+string(rt)+" grants", err)
		}
		for _, p := range perms {
			who := ""
			if p.Principal != nil {
				who = aws.ToString(p.Principal.DataLakePrincipalIdentifier)
			}
			if !slices.Contains(roles, who) || p.Resource == nil || len(p.Permissions)+len(p.PermissionsWithGrantOption) == 0 {
				continue
			}
			// Permissions is a required member: a row with grant options
			// only revokes an empty list, never a nil one (which the SDK
			// refuses before sending).
			permissions := p.Permissions
			if permissions == nil {
				permissions = []types.Permission{}
			}
			err := c.Retry.Do(ctx, "lakeformation:RevokePermissions", func(ctx context.Context) error {
				_, err := c.LF.RevokePermissions(ctx, &lf.RevokePermissionsInput{
					Principal:                  p.Principal,
					Resource:                   p.Resource,
					Permissions:                permissions,
					PermissionsWithGrantOption: p.PermissionsWithGrantOption,
				})
				if awsretry.IsCode(err, "InvalidInputException") && strings.Contains(awsretry.Message(err), "Grantee has no permissions") {
					return nil // gone already
				}
				return err
			})
			if err != nil {
				return changes, fail("lakeformation:RevokePermissions", "the grants of "+who, err)
			}
			changes = append(changes, fmt.Sprintf("revoked %s on %s from %s", joinPermissions(p.Permissions), describeResource(p.Resource), who))
		}
	}

	got, err := c.LF.GetDataLakeSettings(ctx, &lf.GetDataLakeSettingsInput{})
	if err != nil {
		return changes, fail("lakeformation:GetDataLakeSettings", "the data lake settings", err)
	}
	if got.DataLakeSettings == nil {
		return changes, nil
	}
	settings := *got.DataLakeSettings
	var admins []types.DataLakePrincipal
	for _, a := range settings.DataLakeAdmins {
		if arn := aws.ToString(a.DataLakePrincipalIdentifier); slices.Contains(roles, arn) {
			changes = append(changes, "removed data lake administrator "+arn)
			continue
		}
		admins = append(admins, a)
	}
	if len(admins) == len(settings.DataLakeAdmins) {
		return changes, nil
	}
	settings.DataLakeAdmins = admins
	if settings.DataLakeAdmins == nil {
		settings.DataLakeAdmins = []types.DataLakePrincipal{}
	}
	err = c.Retry.Do(ctx, "lakeformation:PutDataLakeSettings", func(ctx context.Context) error {
		_, err := c.LF.PutDataLakeSettings(ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &settings})
		return err
	})
	if err != nil {
		return changes, fail("lakeformation:PutDataLakeSettings", "the data lake settings", err)
	}
	return changes, nil
}

func joinPermissions(perms []types.Permission) string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = string(p)
	}
	return strings.Join(out, "+")
}

func describeResource(r *types.Resource) string {
	switch {
	case r.LFTag != nil:
		return "LF-tag " + aws.ToString(r.LFTag.TagKey) + "=" + strings.Join(r.LFTag.TagValues, ",")
	case r.LFTagPolicy != nil && len(r.LFTagPolicy.Expression) > 0:
		e := r.LFTagPolicy.Expression[0]
		return string(r.LFTagPolicy.ResourceType) + " with " + aws.ToString(e.TagKey) + "=" + strings.Join(e.TagValues, ",")
	case r.DataLocation != nil:
		return aws.ToString(r.DataLocation.ResourceArn)
	}
	return "a catalog resource"
}
