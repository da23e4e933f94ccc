package lakeformation

// lakeFormation.accountSettings "import-only", the default (issue 17 item
// 10): of the account-wide settings only full table access, which the
// import needs, is changed; the default permissions and
// IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE, which other stacks of the
// account rely on, stay as they are.

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

func TestConfigureLakeFormationImportOnly(t *testing.T) {
	t.Run("turns on full table access and nothing else account-wide", func(t *testing.T) {
		a := newAccount(t)
		seedSettings(t, a) // a fresh account: ALL to IAM_ALLOWED_PRINCIPALS, CREATE_DATABASE granted
		before := settingsNow(t, a)
		step := configureStep(a)
		step.AccountSettings = stepcontract.AccountSettingsImportOnly
		changes := mustRun(t, step)
		want := []string{"added data lake administrator " + stepRole, "added data lake administrator " + configuredAdmin}
		if len(changes) != 3 || !slices.Equal(changes[:2], want) || !strings.Contains(changes[2], "AllowFullTableExternalDataAccess") || !strings.Contains(changes[2], `"import-only"`) {
			t.Fatalf("changes = %q; want the two administrators and full table access only", changes)
		}
		after := settingsNow(t, a)
		if !aws.ToBool(after.AllowFullTableExternalDataAccess) {
			t.Fatal("AllowFullTableExternalDataAccess not turned on: the import job needs it")
		}
		allToIAM := "ALL to " + IAMAllowedPrincipals
		for name, list := range map[string][]types.PrincipalPermissions{
			"new databases before": before.CreateDatabaseDefaultPermissions, "new tables before": before.CreateTableDefaultPermissions,
			"new databases after": after.CreateDatabaseDefaultPermissions, "new tables after": after.CreateTableDefaultPermissions,
		} {
			if got := describeDefaults(list); got != allToIAM {
				t.Errorf("default permissions for %s = %q, want %q (untouched)", name, got, allToIAM)
			}
		}
		if !catalogCreateDatabaseGranted(t, a) {
			t.Fatal("IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE was revoked: other stacks of the account create Glue databases with it")
		}
		for _, c := range a.since() {
			if c == "lakeformation:RevokePermissions" {
				t.Fatalf("calls %v revoke", a.since())
			}
		}
		converges(t, a, step)
	})
	t.Run("someone turning full table access off is reversed and reported; the defaults they set stay", func(t *testing.T) {
		a := newAccount(t)
		seedSettings(t, a)
		step := configureStep(a)
		step.AccountSettings = stepcontract.AccountSettingsImportOnly
		mustRun(t, step)
		s := settingsNow(t, a)
		s.AllowFullTableExternalDataAccess = aws.Bool(false)
		s.CreateTableDefaultPermissions = []types.PrincipalPermissions{}
		if _, err := a.SeedLF.PutDataLakeSettings(ctx(), &lf.PutDataLakeSettingsInput{DataLakeSettings: s}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		changes := mustRun(t, step)
		if len(changes) != 1 || !strings.Contains(changes[0], "someone turned it off") {
			t.Fatalf("changes = %q; want only the reversal of full table access", changes)
		}
		if got := settingsNow(t, a).CreateTableDefaultPermissions; len(got) != 0 {
			t.Fatalf("default table permissions = %+v; someone emptied them and import-only leaves them so", got)
		}
	})
}
