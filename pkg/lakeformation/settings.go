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
)

// IAMAllowedPrincipals is Lake Formation's stand-in for "whatever IAM allows".
const IAMAllowedPrincipals = "IAM_ALLOWED_PRINCIPALS"

// ConfigureLakeFormation makes Admins data lake administrators (never
// dropping one that exists), empties both default-permission lists, and
// revokes IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE on the catalog.
//
// Bootstrap order: PutDataLakeSettings is authorized by IAM alone (the role
// needs lakeformation:PutDataLakeSettings, not Lake Formation admin rights),
// so the step adds the pipeline's roles, its own included, as admins first;
// the revoke that follows needs those admin rights, and the minutes it may
// take to apply are the "not authorized to access requested permissions"
// condition the retry policy waits out.
type ConfigureLakeFormation struct {
	LF     SettingsAPI
	Retry  awsretry.Policy
	Admins []string
}

func (c *ConfigureLakeFormation) Run(ctx context.Context) ([]string, error) {
	var changes []string
	got, err := c.LF.GetDataLakeSettings(ctx, &lf.GetDataLakeSettingsInput{})
	if err != nil {
		return nil, fail("lakeformation:GetDataLakeSettings", "the data lake settings", err)
	}
	if got.DataLakeSettings == nil {
		return nil, permanent("lakeformation:GetDataLakeSettings", fmt.Errorf("the answer has no DataLakeSettings"),
			"retry later; if it persists, open the Lake Formation console once to initialize the account's settings")
	}
	// PutDataLakeSettings replaces the whole object: change only the three
	// fields lakeforge owns and send every other field back as read.
	settings := *got.DataLakeSettings
	have := map[string]bool{}
	for _, a := range settings.DataLakeAdmins {
		have[aws.ToString(a.DataLakePrincipalIdentifier)] = true
	}
	admins := slices.Clone(settings.DataLakeAdmins)
	for _, arn := range c.Admins {
		if !have[arn] {
			have[arn] = true
			admins = append(admins, types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(arn)})
			changes = append(changes, "added data lake administrator "+arn)
		}
	}
	settings.DataLakeAdmins = admins
	if len(settings.CreateDatabaseDefaultPermissions) > 0 {
		changes = append(changes, "emptied the default permissions for new databases (were "+describeDefaults(settings.CreateDatabaseDefaultPermissions)+")")
		settings.CreateDatabaseDefaultPermissions = []types.PrincipalPermissions{}
	}
	if len(settings.CreateTableDefaultPermissions) > 0 {
		changes = append(changes, "emptied the default permissions for new tables (were "+describeDefaults(settings.CreateTableDefaultPermissions)+")")
		settings.CreateTableDefaultPermissions = []types.PrincipalPermissions{}
	}
	if len(changes) > 0 {
		err := c.Retry.Do(ctx, "lakeformation:PutDataLakeSettings", func(ctx context.Context) error {
			_, err := c.LF.PutDataLakeSettings(ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &settings})
			return err
		})
		if err != nil {
			return nil, fail("lakeformation:PutDataLakeSettings", "the data lake settings", err)
		}
	}

	revoked, err := c.revokeCreateDatabase(ctx)
	if err != nil {
		return changes, err
	}
	if revoked {
		changes = append(changes, "revoked CREATE_DATABASE on the catalog from "+IAMAllowedPrincipals)
	}
	return changes, nil
}

// revokeCreateDatabase revokes IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE on
// the catalog when it is granted, and reports whether it did.
func (c *ConfigureLakeFormation) revokeCreateDatabase(ctx context.Context) (bool, error) {
	principal := &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(IAMAllowedPrincipals)}
	catalog := &types.Resource{Catalog: &types.CatalogResource{}}
	var granted bool
	err := c.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
		perms, err := listPermissions(ctx, c.LF, &lf.ListPermissionsInput{Principal: principal, Resource: catalog})
		if err != nil {
			return err
		}
		granted = false
		for _, p := range perms {
			if p.Resource != nil && p.Resource.Catalog != nil &&
				(slices.Contains(p.Permissions, types.PermissionCreateDatabase) || slices.Contains(p.Permissions, types.PermissionAll)) {
				granted = true
			}
		}
		return nil
	})
	if err != nil {
		return false, fail("lakeformation:ListPermissions", "the catalog permissions of "+IAMAllowedPrincipals, err)
	}
	if !granted {
		return false, nil
	}
	revoked := true
	err = c.Retry.Do(ctx, "lakeformation:RevokePermissions", func(ctx context.Context) error {
		_, err := c.LF.RevokePermissions(ctx, &lf.RevokePermissionsInput{
			Principal:   principal,
			Resource:    catalog,
			Permissions: []types.Permission{types.PermissionCreateDatabase},
		})
		// Already revoked (by someone else since the read): done.
		if awsretry.IsCode(err, "InvalidInputException") && strings.Contains(awsretry.Message(err), "Grantee has no permissions") {
			revoked = false
			return nil
		}
		return err
	})
	if err != nil {
		return false, fail("lakeformation:RevokePermissions", "CREATE_DATABASE of "+IAMAllowedPrincipals+" on the catalog", err)
	}
	return revoked, nil
}

func describeDefaults(list []types.PrincipalPermissions) string {
	parts := make([]string, 0, len(list))
	for _, p := range list {
		who := ""
		if p.Principal != nil {
			who = aws.ToString(p.Principal.DataLakePrincipalIdentifier)
		}
		perms := make([]string, len(p.Permissions))
		for i, x := range p.Permissions {
			perms[i] = string(x)
		}
		parts = append(parts, strings.Join(perms, "+")+" to "+who)
	}
	return strings.Join(parts, ", ")
}

// listPermissions reads every page of a ListPermissions query.
func listPermissions(ctx context.Context, api PermissionsAPI, in *lf.ListPermissionsInput) ([]types.PrincipalResourcePermissions, error) {
	var out []types.PrincipalResourcePermissions
	q := *in
	for {
		page, err := api.ListPermissions(ctx, &q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.PrincipalResourcePermissions...)
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		q.NextToken = page.NextToken
	}
}
