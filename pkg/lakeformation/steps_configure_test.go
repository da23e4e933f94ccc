package lakeformation

// The emulator scenarios of ConfigureLakeFormation (see steps_test.go).

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// ---- ConfigureLakeFormation ----

func seedSettings(t *testing.T, a *account) {
	t.Helper()
	createPrincipals(t, a, existingAdmin, stepRole, configuredAdmin)
	got, err := a.SeedLF.GetDataLakeSettings(ctx(), &lf.GetDataLakeSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	s := got.DataLakeSettings
	s.DataLakeAdmins = []types.DataLakePrincipal{{DataLakePrincipalIdentifier: aws.String(existingAdmin)}}
	s.TrustedResourceOwners = []string{"111122223333"}
	s.AllowExternalDataFiltering = aws.Bool(true)
	if _, err := a.SeedLF.PutDataLakeSettings(ctx(), &lf.PutDataLakeSettingsInput{DataLakeSettings: s}); err != nil {
		t.Fatal(err)
	}
	// A fresh account grants IAM_ALLOWED_PRINCIPALS CREATE_DATABASE; moto starts without.
	if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
		Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(IAMAllowedPrincipals)},
		Resource:    &types.Resource{Catalog: &types.CatalogResource{}},
		Permissions: []types.Permission{types.PermissionCreateDatabase},
	}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
}

// setFullTableAccess sets AllowFullTableExternalDataAccess without
// recording the call.
func setFullTableAccess(t *testing.T, a *account, on bool) {
	t.Helper()
	s := settingsNow(t, a)
	s.AllowFullTableExternalDataAccess = aws.Bool(on)
	if _, err := a.SeedLF.PutDataLakeSettings(ctx(), &lf.PutDataLakeSettingsInput{DataLakeSettings: s}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
}

func configureStep(a *account) *ConfigureLakeFormation {
	return &ConfigureLakeFormation{LF: a.LF, Principals: NewPrincipals(a.IAM, stepRole), Retry: fastRetry(),
		Own: []string{stepRole}, Configured: []string{configuredAdmin}, AccountSettings: stepcontract.AccountSettingsManage, Log: quietLog}
}

// settingsNow reads the data lake settings without recording the call.
func settingsNow(t *testing.T, a *account) *types.DataLakeSettings {
	t.Helper()
	got, err := a.SeedLF.GetDataLakeSettings(ctx(), &lf.GetDataLakeSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return got.DataLakeSettings
}

func adminsNow(t *testing.T, a *account) []string {
	t.Helper()
	var out []string
	for _, p := range settingsNow(t, a).DataLakeAdmins {
		out = append(out, aws.ToString(p.DataLakePrincipalIdentifier))
	}
	return out
}

// setAdmins writes the administrators without recording the call.
func setAdmins(t *testing.T, a *account, arns ...string) {
	t.Helper()
	s := settingsNow(t, a)
	s.DataLakeAdmins = nil
	for _, arn := range arns {
		s.DataLakeAdmins = append(s.DataLakeAdmins, types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(arn)})
	}
	if _, err := a.SeedLF.PutDataLakeSettings(ctx(), &lf.PutDataLakeSettingsInput{DataLakeSettings: s}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
}

// catalogCreateDatabaseGranted says whether IAM_ALLOWED_PRINCIPALS holds
// CREATE_DATABASE on the catalog.
func catalogCreateDatabaseGranted(t *testing.T, a *account) bool {
	t.Helper()
	perms, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{
		Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(IAMAllowedPrincipals)},
		Resource:  &types.Resource{Catalog: &types.CatalogResource{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(perms.PrincipalResourcePermissions) > 0
}

func grantCatalogCreateDatabase(t *testing.T, a *account) {
	t.Helper()
	if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
		Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(IAMAllowedPrincipals)},
		Resource:    &types.Resource{Catalog: &types.CatalogResource{}},
		Permissions: []types.Permission{types.PermissionCreateDatabase},
	}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
}

// logBuffer is a logger whose records the test reads.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, nil)), &buf
}

var configureScenarios = []scenario{
	{"fresh account then converged", func(t *testing.T, a *account) {
		seedSettings(t, a)
		changes := mustRun(t, configureStep(a))
		if len(changes) != 6 {
			t.Fatalf("changes = %q; want 2 admins, full table access, 2 default lists, 1 revoke", changes)
		}
		for _, c := range changes {
			if strings.Contains(c, "someone") {
				t.Errorf("first run reports %q as reversing someone's change", c)
			}
		}
		got, err := a.SeedLF.GetDataLakeSettings(ctx(), &lf.GetDataLakeSettingsInput{})
		if err != nil {
			t.Fatal(err)
		}
		s := got.DataLakeSettings
		var admins []string
		for _, p := range s.DataLakeAdmins {
			admins = append(admins, aws.ToString(p.DataLakePrincipalIdentifier))
		}
		if !slices.Equal(admins, []string{existingAdmin, stepRole, configuredAdmin}) {
			t.Fatalf("admins = %v; the existing admin must survive and the others be added", admins)
		}
		if len(s.CreateDatabaseDefaultPermissions) != 0 || len(s.CreateTableDefaultPermissions) != 0 {
			t.Fatalf("default permissions not emptied: %+v %+v", s.CreateDatabaseDefaultPermissions, s.CreateTableDefaultPermissions)
		}
		// Glue 5.0 full table access (the import job) needs it on.
		if !aws.ToBool(s.AllowFullTableExternalDataAccess) {
			t.Fatalf("AllowFullTableExternalDataAccess not turned on: %+v", s)
		}
		if !slices.Equal(s.TrustedResourceOwners, []string{"111122223333"}) || !aws.ToBool(s.AllowExternalDataFiltering) {
			t.Fatalf("other settings were not kept as read: %+v", s)
		}
		perms, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{
			Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(IAMAllowedPrincipals)},
			Resource:  &types.Resource{Catalog: &types.CatalogResource{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(perms.PrincipalResourcePermissions) != 0 {
			t.Fatalf("IAM_ALLOWED_PRINCIPALS still has %+v on the catalog", perms.PrincipalResourcePermissions)
		}
		converges(t, a, configureStep(a))
	}},
	{"each retryable condition once on every write", func(t *testing.T, a *account) {
		seedSettings(t, a)
		a.LF.inject("PutDataLakeSettings", apiErr("InvalidInputException", "Invalid principal "+stepRole), 1)
		a.LF.inject("PutDataLakeSettings", apiErr("ConcurrentModificationException", "settings are being updated"), 1)
		a.LF.inject("ListPermissions", apiErr("AccessDeniedException", "Resource does not exist or requester is not authorized to access requested permissions."), 1)
		a.LF.inject("RevokePermissions", apiErr("ConcurrentModificationException", "try again"), 1)
		if changes := mustRun(t, configureStep(a)); len(changes) != 6 {
			t.Fatalf("changes = %q", changes)
		}
	}},
	{"revoke answers grantee has no permissions", func(t *testing.T, a *account) {
		seedSettings(t, a)
		a.LF.inject("RevokePermissions", apiErr("InvalidInputException", "No permissions revoked. Grantee has no permissions and no grantable permissions on resource"), 1)
		changes := mustRun(t, configureStep(a))
		for _, c := range changes {
			if strings.Contains(c, "revoked") {
				t.Fatalf("reported %q although Lake Formation revoked nothing", c)
			}
		}
	}},
	{"access denied is permanent with a fix", func(t *testing.T, a *account) {
		seedSettings(t, a)
		a.LF.inject("PutDataLakeSettings", apiErr("AccessDeniedException", "User is not authorized to perform: lakeformation:PutDataLakeSettings"), 1)
		_, err := configureStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, "lakeformation:PutDataLakeSettings")
		if !strings.Contains(pe.Fix, "policy") {
			t.Fatalf("fix %q does not say what to change", pe.Fix)
		}
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls after the failure: %v", m)
		}
	}},
	{"budget exhausted is transient", func(t *testing.T, a *account) {
		seedSettings(t, a)
		a.LF.inject("PutDataLakeSettings", apiErr("ConcurrentModificationException", "busy"), 1000)
		_, err := configureStep(a).Run(ctx())
		wantErr[*steperr.TransientError](t, err, "lakeformation:PutDataLakeSettings")
	}},
	{"accountSettings leave with full table access off is a config error before any write", func(t *testing.T, a *account) {
		seedSettings(t, a)
		step := configureStep(a)
		step.AccountSettings = stepcontract.AccountSettingsLeave
		_, err := step.Run(ctx())
		wantErr[*steperr.ConfigError](t, err, "lakeFormation.accountSettings", "AllowFullTableExternalDataAccess")
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls %v", m)
		}
	}},
	{"full table access turned off by someone is turned on again and reported", func(t *testing.T, a *account) {
		seedSettings(t, a)
		mustRun(t, configureStep(a))
		setFullTableAccess(t, a, false)
		a.markCalls()
		changes := mustRun(t, configureStep(a))
		if len(changes) != 1 || !strings.Contains(changes[0], "full table access") || !strings.Contains(changes[0], "someone turned it off") {
			t.Fatalf("changes = %q; want the reversal of full table access", changes)
		}
		if !aws.ToBool(settingsNow(t, a).AllowFullTableExternalDataAccess) {
			t.Fatal("full table access still off")
		}
	}},
	{"stale read-only administrators are dropped too", func(t *testing.T, a *account) {
		seedSettings(t, a)
		deleted := "arn:aws:iam::" + acct + ":role/deleted-auditor"
		s := settingsNow(t, a)
		s.ReadOnlyAdmins = []types.DataLakePrincipal{{DataLakePrincipalIdentifier: aws.String(existingAdmin)}, {DataLakePrincipalIdentifier: aws.String(deleted)}}
		if _, err := a.SeedLF.PutDataLakeSettings(ctx(), &lf.PutDataLakeSettingsInput{DataLakeSettings: s}); err != nil {
			t.Fatal(err)
		}
		changes := mustRun(t, configureStep(a))
		if !slices.Contains(changes, "removed read-only administrator "+deleted+": IAM says it no longer exists") {
			t.Fatalf("changes %q do not report the stale read-only administrator", changes)
		}
		got := settingsNow(t, a).ReadOnlyAdmins
		if len(got) != 1 || aws.ToString(got[0].DataLakePrincipalIdentifier) != existingAdmin {
			t.Fatalf("read-only admins = %+v; want only the live %s", got, existingAdmin)
		}
	}},
	{"stale administrators are dropped and reported, live and unknown ones kept", func(t *testing.T, a *account) {
		// issue 8 defect 3: a deleted role among the admins makes
		// PutDataLakeSettings fail with "Invalid principal" (aws-cdk#19492).
		seedSettings(t, a)
		deletedRole := "arn:aws:iam::" + acct + ":role/deleted-by-make-destroy"
		deletedUser := "arn:aws:iam::" + acct + ":user/left-the-company"
		otherAccount := "arn:aws:iam::111122223333:role/partner-admin"
		unreadable := "arn:aws:iam::" + acct + ":role/iam-read-denied"
		setAdmins(t, a, existingAdmin, deletedRole, deletedUser, otherAccount, unreadable, stepRole)
		// IAM refuses to answer for one role: not knowing is no reason to drop it.
		step := configureStep(a)
		step.Principals = NewPrincipals(&deniedFor{faultyIAM: a.IAM, role: "iam-read-denied"}, stepRole)
		changes := mustRun(t, step)
		for _, gone := range []string{deletedRole, deletedUser} {
			if !slices.Contains(changes, "removed data lake administrator "+gone+": IAM says it no longer exists") {
				t.Errorf("changes %q do not report removing %s", changes, gone)
			}
		}
		want := []string{existingAdmin, otherAccount, unreadable, stepRole, configuredAdmin}
		if got := adminsNow(t, a); !slices.Equal(got, want) {
			t.Fatalf("admins = %v; want %v (live, other-account and unreadable kept, stale dropped, configured added)", got, want)
		}
		converges(t, a, step)
	}},
	{"a configured admin that does not exist fails fast, naming it and its setting", func(t *testing.T, a *account) {
		// issue 13: Lake Formation answers "Invalid principal" forever for a
		// deleted or mistyped principal; moto accepts any ARN, so the real
		// answer is injected on every PutDataLakeSettings.
		createPrincipals(t, a, stepRole) // configuredAdmin does not exist
		a.LF.inject("PutDataLakeSettings", apiErr("InvalidInputException", "Invalid principal: "+configuredAdmin), 1000)
		a.markCalls()
		_, err := configureStep(a).Run(ctx())
		ce := wantErr[*steperr.ConfigError](t, err, configuredAdmin, AdminsSetting)
		if ce.Field != AdminsSetting || ce.Value != configuredAdmin {
			t.Fatalf("ConfigError = %+v", ce)
		}
		puts := 0
		for _, c := range a.since() {
			if c == "lakeformation:PutDataLakeSettings" {
				puts++
			}
		}
		// Default: 1 s doubling, asked after 15 s: a handful of calls, not
		// the 16 of a whole 2-minute budget.
		if puts > 6 {
			t.Fatalf("%d PutDataLakeSettings calls before giving up; want a handful", puts)
		}
	}},
	{"an own role that does not exist is permanent: redeploy", func(t *testing.T, a *account) {
		a.LF.inject("PutDataLakeSettings", apiErr("InvalidInputException", "Invalid principal: "+stepRole), 1000)
		createPrincipals(t, a, configuredAdmin)
		_, err := configureStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, stepRole)
		if !strings.Contains(pe.Fix, "redeploy") {
			t.Fatalf("fix %q", pe.Fix)
		}
	}},
	{"accountSettings leave touches no account-wide setting", func(t *testing.T, a *account) {
		seedSettings(t, a)
		setFullTableAccess(t, a, true)
		before := settingsNow(t, a)
		step := configureStep(a)
		step.AccountSettings = stepcontract.AccountSettingsLeave
		changes := mustRun(t, step)
		if want := []string{"added data lake administrator " + stepRole, "added data lake administrator " + configuredAdmin}; !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want only %q", changes, want)
		}
		after := settingsNow(t, a)
		allToIAM := "ALL to " + IAMAllowedPrincipals
		if describeDefaults(before.CreateTableDefaultPermissions) != allToIAM ||
			describeDefaults(after.CreateDatabaseDefaultPermissions) != allToIAM || describeDefaults(after.CreateTableDefaultPermissions) != allToIAM {
			t.Fatalf("default permissions changed: before %+v, after %+v", before, after)
		}
		if !catalogCreateDatabaseGranted(t, a) {
			t.Fatal("CREATE_DATABASE of IAM_ALLOWED_PRINCIPALS was revoked although accountSettings is leave")
		}
		for _, c := range a.since() {
			if c == "lakeformation:RevokePermissions" {
				t.Fatalf("calls %v revoke", a.since())
			}
		}
		converges(t, a, step)
	}},
	{"a run that reverses someone's change says so in the output and the log", func(t *testing.T, a *account) {
		seedSettings(t, a)
		mustRun(t, configureStep(a))
		// Someone restores the AWS defaults after lakeforge's first run.
		s := settingsNow(t, a)
		s.CreateDatabaseDefaultPermissions = []types.PrincipalPermissions{{Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(IAMAllowedPrincipals)}, Permissions: []types.Permission{types.PermissionAll}}}
		if _, err := a.SeedLF.PutDataLakeSettings(ctx(), &lf.PutDataLakeSettingsInput{DataLakeSettings: s}); err != nil {
			t.Fatal(err)
		}
		grantCatalogCreateDatabase(t, a)
		log, buf := logBuffer()
		step := configureStep(a)
		step.Log = log
		changes := mustRun(t, step)
		if len(changes) != 2 {
			t.Fatalf("changes = %q; want the two reversals", changes)
		}
		for _, c := range changes {
			if !strings.Contains(c, "someone") || !strings.Contains(c, "lakeFormation.accountSettings") {
				t.Errorf("change %q does not say it reverses someone's change and which setting does it", c)
			}
		}
		if n := strings.Count(buf.String(), `"msg":"reversed a change made outside lakeforge"`); n != 2 || !strings.Contains(buf.String(), `"level":"WARN"`) {
			t.Fatalf("log has %d reversal warnings; want 2:\n%s", n, buf.String())
		}
	}},
	{"an unknown accountSettings value is a config error before any call", func(t *testing.T, a *account) {
		step := configureStep(a)
		step.AccountSettings = "yes"
		a.markCalls()
		_, err := step.Run(ctx())
		wantErr[*steperr.ConfigError](t, err, "lakeFormation.accountSettings", "yes")
		if calls := a.since(); len(calls) != 0 {
			t.Fatalf("calls %v", calls)
		}
	}},
	{"throttling after the SDK retries is transient", func(t *testing.T, a *account) {
		a.LF.inject("GetDataLakeSettings", apiErr("ThrottlingException", "Rate exceeded"), 1)
		_, err := configureStep(a).Run(ctx())
		wantErr[*steperr.TransientError](t, err, "GetDataLakeSettings")
		// The rest of the handler's calls, for the golden file.
		seedSettings(t, a)
		mustRun(t, configureStep(a))
	}},
}
