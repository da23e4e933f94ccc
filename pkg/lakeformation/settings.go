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

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// IAMAllowedPrincipals is Lake Formation's stand-in for "whatever IAM allows".
const IAMAllowedPrincipals = "IAM_ALLOWED_PRINCIPALS"

// AdminsSetting is the configuration key of the configured administrators.
const AdminsSetting = "personas.admins.principalArns"

// ConfigureLakeFormation makes the pipeline's roles (Own) and the configured
// principals (Configured) data lake administrators, drops administrators
// that IAM says no longer exist (never a live one, never one of Own), turns
// on full table access ("import-only" and "manage"), and, with
// AccountSettings "manage" only, empties both default-permission lists and
// revokes IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE on the catalog.
//
// Bootstrap order: PutDataLakeSettings is authorized by IAM alone (the role
// needs lakeformation:PutDataLakeSettings, not Lake Formation admin rights),
// so the step adds the pipeline's roles, its own included, as admins first;
// the revoke that follows needs those admin rights, and the minutes it may
// take to apply are the "not authorized to access requested permissions"
// condition the retry policy waits out.
type ConfigureLakeFormation struct {
	LF         SettingsAPI
	Principals *Principals
	Retry      awsretry.Policy
	// Own are the stack's roles: always administrators.
	Own []string
	// Configured are the administrators of personas.admins.principalArns.
	Configured []string
	// AccountSettings is one of stepcontract.AccountSettingsValues.
	AccountSettings string
	// Log receives a warning for every change that reverses someone's
	// change since the last run; nil uses slog.Default().
	Log *slog.Logger
}

func (c *ConfigureLakeFormation) Run(ctx context.Context) ([]string, error) {
	if !slices.Contains(stepcontract.AccountSettingsValues, c.AccountSettings) {
		return nil, &steperr.ConfigError{Field: "lakeFormation.accountSettings", Value: c.AccountSettings,
			Fix: "must be \"" + strings.Join(stepcontract.AccountSettingsValues, "\", \"") + "\": set it in cdk.json and redeploy"}
	}
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	var changes []string
	// reverted records a change that undoes someone else's since the
	// last run, in the output and as a warning in the log.
	reverted := func(change string) {
		changes = append(changes, change)
		log.WarnContext(ctx, "reversed a change made outside lakeforge", "change", change)
	}
	got, err := c.LF.GetDataLakeSettings(ctx, &lf.GetDataLakeSettingsInput{})
	if err != nil {
		return nil, fail("lakeformation:GetDataLakeSettings", "the data lake settings", err)
	}
	if got.DataLakeSettings == nil {
		return nil, permanent("lakeformation:GetDataLakeSettings", fmt.Errorf("the answer has no DataLakeSettings"),
			"retry later; if it persists, open the Lake Formation console once to initialize the account's settings")
	}
	// PutDataLakeSettings replaces the whole object: change only the fields
	// lakeforge owns and send every other field back as read.
	settings := *got.DataLakeSettings
	manage := c.AccountSettings == stepcontract.AccountSettingsManage
	// The import job reads and writes its Lake Formation tables in Glue
	// 5.0's full-table-access mode, which Lake Formation serves only when
	// the account lets external engines have full table access. With
	// "leave", say so before anything is written.
	fullTableAccess := aws.ToBool(settings.AllowFullTableExternalDataAccess)
	if !fullTableAccess && c.AccountSettings == stepcontract.AccountSettingsLeave {
		return nil, &steperr.ConfigError{Field: "lakeFormation.accountSettings", Value: c.AccountSettings,
			Fix: "the import job (Glue 5.0, full table access) needs the account's Lake Formation setting AllowFullTableExternalDataAccess, which is off: turn it on (Lake Formation console, Administration, Application integration settings, \"Allow external engines to access data in Amazon S3 locations with full table access\", or put-data-lake-settings) or set lakeFormation.accountSettings to \"" + stepcontract.AccountSettingsImportOnly + "\" (lakeforge turns on only that) and redeploy"}
	}
	want := map[string]Origin{} // administrator -> where it comes from
	for _, arn := range c.Configured {
		want[arn] = Configured(AdminsSetting)
	}
	for _, arn := range c.Own {
		want[arn] = StackRole("")
	}
	have := map[string]bool{}
	for _, a := range settings.DataLakeAdmins {
		have[aws.ToString(a.DataLakePrincipalIdentifier)] = true
	}
	// The pipeline's roles are admins from the first run on: when all of
	// them are, lakeforge ran before, and what it finds changed since was
	// changed by someone else.
	ranBefore := len(c.Own) > 0
	for _, arn := range c.Own {
		ranBefore = ranBefore && have[arn]
	}
	// A deleted principal among the admins makes PutDataLakeSettings fail
	// with "Invalid principal": drop those IAM says no longer exist, from
	// the administrators (never one lakeforge wants) and from the
	// read-only administrators (which lakeforge never adds).
	admins, dropped := c.withoutMissing(ctx, settings.DataLakeAdmins, want)
	for _, arn := range dropped {
		changes = append(changes, "removed data lake administrator "+arn+": IAM says it no longer exists")
	}
	readOnly, dropped := c.withoutMissing(ctx, settings.ReadOnlyAdmins, nil)
	for _, arn := range dropped {
		changes = append(changes, "removed read-only administrator "+arn+": IAM says it no longer exists")
	}
	if len(dropped) > 0 {
		settings.ReadOnlyAdmins = readOnly
	}
	for _, arn := range append(slices.Clone(c.Own), c.Configured...) {
		if have[arn] {
			continue
		}
		have[arn] = true
		admins = append(admins, types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(arn)})
		if ranBefore {
			reverted("added data lake administrator " + arn + " again: it was removed from the administrators since the last run")
		} else {
			changes = append(changes, "added data lake administrator "+arn)
		}
	}
	settings.DataLakeAdmins = admins
	if !fullTableAccess {
		settings.AllowFullTableExternalDataAccess = aws.Bool(true)
		change := "allowed external engines full table access (AllowFullTableExternalDataAccess), which the Glue 5.0 import job needs (lakeFormation.accountSettings is \"" + c.AccountSettings + "\")"
		if ranBefore {
			reverted(change + ": someone turned it off since the last run")
		} else {
			changes = append(changes, change)
		}
	}
	for _, list := range []struct {
		what    string
		entries *[]types.PrincipalPermissions
	}{
		{"new databases", &settings.CreateDatabaseDefaultPermissions},
		{"new tables", &settings.CreateTableDefaultPermissions},
	} {
		if !manage || len(*list.entries) == 0 {
			continue
		}
		change := "emptied the account-wide default permissions for " + list.what + " (were " + describeDefaults(*list.entries) + "; lakeFormation.accountSettings is \"manage\")"
		if ranBefore {
			reverted(change + ": someone set them since the last run")
		} else {
			changes = append(changes, change)
		}
		*list.entries = []types.PrincipalPermissions{}
	}
	if len(changes) > 0 {
		err := c.Retry.DoChecked(ctx, "lakeformation:PutDataLakeSettings", func(ctx context.Context) error {
			_, err := c.LF.PutDataLakeSettings(ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &settings})
			return err
		}, principalCheck(c.Principals, want))
		if err != nil {
			return nil, fail("lakeformation:PutDataLakeSettings", "the data lake settings", err)
		}
	}
	if !manage {
		return changes, nil
	}
	revoked, err := c.revokeCreateDatabase(ctx)
	if err != nil {
		return changes, err
	}
	if revoked {
		change := "revoked the account-wide CREATE_DATABASE on the catalog from " + IAMAllowedPrincipals + " (lakeFormation.accountSettings is \"manage\")"
		if ranBefore {
			reverted(change + ": someone granted it since the last run")
		} else {
			changes = append(changes, change)
		}
	}
	return changes, nil
}

// withoutMissing returns list without the principals IAM says no longer
// exist, except those in keep, and the ARNs it dropped.
func (c *ConfigureLakeFormation) withoutMissing(ctx context.Context, list []types.DataLakePrincipal, keep map[string]Origin) (kept []types.DataLakePrincipal, dropped []string) {
	for _, p := range list {
		arn := aws.ToString(p.DataLakePrincipalIdentifier)
		if _, wanted := keep[arn]; !wanted && c.Principals.Missing(ctx, arn) {
			dropped = append(dropped, arn)
			continue
		}
		kept = append(kept, p)
	}
	return kept, dropped
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
