package lakeformation

// The emulator tier: every step runs against the moto server through the
// real SDK clients, twice, to prove it converges. Faults are injected in
// front of the real clients (faultyLF, faultyGlue) for the retry and error
// paths. Where moto differs from Lake Formation, the test says so:
//   - GetLFTag answers an empty value list for a missing key instead of
//     EntityNotFoundException: the real answer is injected where it matters;
//   - RevokePermissions never answers "Grantee has no permissions": injected;
//   - ListPermissions rejects the resource types LF_TAG,
//     LF_TAG_POLICY_DATABASE and LF_TAG_POLICY_TABLE ("is not a valid
//     RessourceType", HTTP 500), the one request EnsureLFTags and
//     GrantTagPermissions send to read LF-tag grants: faultyLF answers
//     exactly that request as the API reference documents it, from moto's
//     grants (listByLFTagResourceType), and the tests check the request
//     sent; TestMotoRejectsListPermissionsByLFTagResourceType fails when
//     moto starts to accept it;
//   - GrantPermissions and AddLFTagsToResource never check ASSOCIATE or
//     GRANT_WITH_LF_TAG_EXPRESSION, and PutDataLakeSettings and
//     GrantPermissions accept principals that do not exist: the tests check
//     the grants EnsureLFTags makes, and inject "Invalid principal";
//   - DescribeResource has no RoleArn for service-linked registrations (Lake
//     Formation names the service-linked role); the step accepts a missing
//     RoleArn as the service-linked role;
//   - AddLFTagsToResource replaces every LF-tag of the resource instead of
//     adding to them, and GetResourceLFTags fails (HTTP 500) on a database
//     that never had an LF-tag; so the tag-output test does not check that
//     other tags survive (the request it sends names only its own tag), and
//     the ensure-database test of an untagged lake database (a manual build) answers
//     that read as Lake Formation does (untaggedReadsLF).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
	"github.com/lakeforge/lakeforge/pkg/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

const (
	acct            = motoserver.AccountID
	existingAdmin   = "arn:aws:iam::" + acct + ":role/existing-admin"
	stepRole        = "arn:aws:iam::" + acct + ":role/lakeforge-step"
	configuredAdmin = "arn:aws:iam::" + acct + ":role/dl-admin"
	workflowRole    = "arn:aws:iam::" + acct + ":role/lakeforge-workflow"
	analystRole     = "arn:aws:iam::" + acct + ":role/lakeforge-analyst"
	otherAnalyst    = "arn:aws:iam::" + acct + ":user/datalake_user"
	locationARN     = "arn:aws:s3:::lake-bucket/lake"
	locationURI     = "s3://lake-bucket/lake"
	database        = "kthr01"
)

var (
	slrARN      = ServiceLinkedRoleARN("aws", acct)
	workflowTag = config.TagRef{Key: "maintenance", Value: "crawler"}
	analystTag  = config.TagRef{Key: "source", Value: "product"}
)

// scenario is one path of a step's handler, run against a fresh account.
type scenario struct {
	name string
	run  func(t *testing.T, a *account)
}

// steps lists, per function, every path its tests exercise; the golden IAM
// action file of the function is the union of the calls of all of them.
var steps = map[string][]scenario{
	"configure-lake-formation": configureScenarios,
	"ensure-lf-tags":           tagScenarios,
	"register-location":        locationScenarios,
	"ensure-database":          databaseScenarios,
	"grant-tag-permissions":    grantScenarios,
	"tag-output":               tagOutputScenarios,
	"cleanup-lake-formation":   cleanupScenarios,
}

func runScenarios(t *testing.T, function string) {
	for _, sc := range steps[function] {
		t.Run(sc.name, func(t *testing.T) {
			a := newAccount(t)
			sc.run(t, a)
		})
	}
}

func TestConfigureLakeFormation(t *testing.T) { runScenarios(t, "configure-lake-formation") }
func TestEnsureLFTags(t *testing.T)           { runScenarios(t, "ensure-lf-tags") }
func TestRegisterLocation(t *testing.T)       { runScenarios(t, "register-location") }
func TestEnsureDatabase(t *testing.T)         { runScenarios(t, "ensure-database") }
func TestGrantTagPermissions(t *testing.T)    { runScenarios(t, "grant-tag-permissions") }
func TestTagOutput(t *testing.T)              { runScenarios(t, "tag-output") }

// TestIAMActionsGolden runs every path of every function again and compares
// the IAM actions of the SDK calls made with functions/<name>/testdata.
func TestIAMActionsGolden(t *testing.T) {
	for function, scenarios := range steps {
		t.Run(function, func(t *testing.T) {
			var actions []string
			for _, sc := range scenarios {
				a := newAccount(t)
				t.Run(sc.name, func(t *testing.T) { sc.run(t, a) })
				actions = append(actions, a.Rec.Actions()...)
			}
			awscalls.CheckGolden(t, "../../"+awscalls.GoldenPath(function), actions)
		})
	}
}

// converges runs step a second time and checks it changes nothing and makes
// no mutating call.
func converges(t *testing.T, a *account, step Runner) {
	t.Helper()
	a.markCalls()
	changes, err := step.Run(context.Background())
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if len(changes) != 0 {
		t.Fatalf("second run changed %v; want nothing", changes)
	}
	if m := a.mutatingSince(); len(m) != 0 {
		t.Fatalf("second run made mutating calls %v", m)
	}
}

func mustRun(t *testing.T, step Runner) []string {
	t.Helper()
	changes, err := step.Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return changes
}

func wantErr[T error](t *testing.T, err error, contains ...string) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("err = %v (%T); want %T", err, err, target)
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Fatalf("error %q does not mention %q", err.Error(), c)
		}
	}
	return target
}

func ctx() context.Context { return context.Background() }

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
		Own: []string{stepRole}, Configured: []string{configuredAdmin}, AccountSettings: AccountSettingsManage, Log: quietLog}
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
		step.AccountSettings = AccountSettingsLeave
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
		step.AccountSettings = AccountSettingsLeave
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

// ---- EnsureLFTags ----

func lfTagValues(t *testing.T, a *account, key string) []string {
	t.Helper()
	out, err := a.SeedLF.GetLFTag(ctx(), &lf.GetLFTagInput{TagKey: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return out.TagValues
}

func manyValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%03d", i)
	}
	return out
}

// The roles of the steps that assign and grant on LF-tags.
const (
	databaseStepRole  = "arn:aws:iam::" + acct + ":role/lakeforge-ensure-database"
	tagOutputStepRole = "arn:aws:iam::" + acct + ":role/lakeforge-tag-output"
	grantStepRole     = "arn:aws:iam::" + acct + ":role/lakeforge-grant-tag-permissions"
)

func tagsStep(a *account) *EnsureLFTags {
	return &EnsureLFTags{LF: a.LF, Principals: NewPrincipals(a.IAM, databaseStepRole), Retry: fastRetry(), Tags: map[string][]string{
		"maintenance": {"crawler", "manual"},
		"source":      {"product"},
		"many":        manyValues(120),
	}, Permissions: TagPermissionsFor(databaseStepRole, tagOutputStepRole, grantStepRole, workflowTag, analystTag)}
}

// lfTagGrants reads the LF-tag grants from moto (unfiltered: the one query
// moto accepts) as "principal key=values" -> sorted permissions.
func lfTagGrants(t *testing.T, a *account) map[string][]types.Permission {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]types.Permission{}
	for _, p := range out.PrincipalResourcePermissions {
		if p.Resource.LFTag == nil {
			continue
		}
		k := aws.ToString(p.Principal.DataLakePrincipalIdentifier) + " " + aws.ToString(p.Resource.LFTag.TagKey) + "=" + strings.Join(p.Resource.LFTag.TagValues, ",")
		m[k] = append(m[k], p.Permissions...)
		slices.Sort(m[k])
	}
	return m
}

// wantTagGrants is issue 8 defect 2: ASSOCIATE (and DESCRIBE) on the tag
// each tagging role assigns, DESCRIBE and GRANT_WITH_LF_TAG_EXPRESSION on
// both grant tags for the granting role.
var wantTagGrants = map[string][]types.Permission{
	databaseStepRole + " maintenance=crawler": {"ASSOCIATE", "DESCRIBE"},
	tagOutputStepRole + " source=product":     {"ASSOCIATE", "DESCRIBE"},
	grantStepRole + " maintenance=crawler":    {"DESCRIBE", "GRANT_WITH_LF_TAG_EXPRESSION"},
	grantStepRole + " source=product":         {"DESCRIBE", "GRANT_WITH_LF_TAG_EXPRESSION"},
}

var tagScenarios = []scenario{
	{"fresh keys, added values, existing values kept, then converged", func(t *testing.T, a *account) {
		if _, err := a.SeedLF.CreateLFTag(ctx(), &lf.CreateLFTagInput{TagKey: aws.String("maintenance"), TagValues: []string{"legacy"}}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		mustRun(t, tagsStep(a))
		calls := a.since()
		creates, updates := 0, 0
		for _, c := range calls {
			switch c {
			case "lakeformation:CreateLFTag":
				creates++
			case "lakeformation:UpdateLFTag":
				updates++
			}
		}
		// many: create with 50, then 50 and 20; maintenance: one update; source: create.
		if creates != 2 || updates != 3 {
			t.Fatalf("calls %v; want 2 CreateLFTag and 3 UpdateLFTag (batches of 50)", calls)
		}
		if got := lfTagValues(t, a, "maintenance"); !slices.Equal(got, []string{"legacy", "crawler", "manual"}) {
			t.Fatalf("maintenance = %v; the existing value must survive", got)
		}
		if got := lfTagValues(t, a, "many"); len(got) != 120 {
			t.Fatalf("many has %d values", len(got))
		}
		if got := lfTagValues(t, a, "source"); !slices.Equal(got, []string{"product"}) {
			t.Fatalf("source = %v", got)
		}
		if got := lfTagGrants(t, a); fmt.Sprint(got) != fmt.Sprint(wantTagGrants) {
			t.Fatalf("LF-tag grants:\n got %v\nwant %v", got, wantTagGrants)
		}
		// One read of every LF-tag grant, by resource type only.
		if want := []lf.ListPermissionsInput{{ResourceType: types.DataLakeResourceTypeLfTag}}; fmt.Sprintf("%+v", a.LF.listed) != fmt.Sprintf("%+v", want) {
			t.Fatalf("ListPermissions requests %+v; want exactly %+v", a.LF.listed, want)
		}
		converges(t, a, tagsStep(a))
	}},
	{"tags from a manual build: the tagging roles get ASSOCIATE", func(t *testing.T, a *account) {
		// The tags exist, created by someone else: a data lake
		// administrator must be granted ASSOCIATE before it can assign them.
		createTag(t, a, "maintenance", "crawler", "manual")
		createTag(t, a, "source", "product")
		createTag(t, a, "many", manyValues(120)...)
		a.markCalls()
		changes := mustRun(t, tagsStep(a))
		if len(changes) != 4 {
			t.Fatalf("changes = %q; want the 4 LF-tag grants only", changes)
		}
		if !slices.Contains(changes, "granted ASSOCIATE+DESCRIBE on LF-tag maintenance=crawler to "+databaseStepRole) {
			t.Fatalf("changes = %q", changes)
		}
		if got := lfTagGrants(t, a); fmt.Sprint(got) != fmt.Sprint(wantTagGrants) {
			t.Fatalf("LF-tag grants:\n got %v\nwant %v", got, wantTagGrants)
		}
		converges(t, a, tagsStep(a))
	}},
	{"a tagging role deleted outside CloudFormation: redeploy, not retried for minutes", func(t *testing.T, a *account) {
		createPrincipals(t, a, tagOutputStepRole, grantStepRole) // databaseStepRole is gone
		step := tagsStep(a)
		step.LF = &invalidPrincipalLF{faultyLF: a.LF, principal: databaseStepRole}
		_, err := step.Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, databaseStepRole)
		if !strings.Contains(pe.Fix, "redeploy") {
			t.Fatalf("fix %q", pe.Fix)
		}
	}},
	{"a partial LF-tag grant gets only what is missing", func(t *testing.T, a *account) {
		if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
			Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(tagOutputStepRole)},
			Resource:    &types.Resource{LFTag: &types.LFTagKeyResource{TagKey: aws.String("source"), TagValues: []string{"product", "other"}}},
			Permissions: []types.Permission{types.PermissionDescribe},
		}); err != nil {
			t.Fatal(err)
		}
		changes := mustRun(t, tagsStep(a))
		if !slices.Contains(changes, "granted ASSOCIATE on LF-tag source=product to "+tagOutputStepRole) {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, tagsStep(a))
	}},
	{"missing key answered EntityNotFound as Lake Formation does", func(t *testing.T, a *account) {
		a.LF.inject("GetLFTag", apiErr("EntityNotFoundException", "Tag key does not exist"), 1)
		step := &EnsureLFTags{LF: a.LF, Retry: fastRetry(), Tags: map[string][]string{"source": {"product"}}}
		if len(step.Permissions) != 0 {
			t.Fatal("this scenario converges tags only")
		}
		if changes := mustRun(t, step); len(changes) != 1 || !strings.Contains(changes[0], "created LF-tag source") {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, step)
	}},
	{"concurrent modification once on create, update and grant", func(t *testing.T, a *account) {
		a.LF.inject("CreateLFTag", apiErr("ConcurrentModificationException", "busy"), 1)
		a.LF.inject("UpdateLFTag", apiErr("ConcurrentModificationException", "busy"), 1)
		a.LF.inject("GrantPermissions", apiErr("ConcurrentModificationException", "busy"), 1)
		mustRun(t, tagsStep(a))
		converges(t, a, tagsStep(a))
	}},
	{"validation error is permanent", func(t *testing.T, a *account) {
		a.LF.inject("CreateLFTag", apiErr("InvalidInputException", "Tag value is invalid"), 1)
		_, err := tagsStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "CreateLFTag", "cdk.json")
	}},
}

// TestMotoRejectsListPermissionsByLFTagResourceType sends moto the exact
// requests EnsureLFTags and GrantTagPermissions send to read LF-tag grants,
// and expects moto 5.2.5's rejection. When it fails, moto has learnt them:
// drop faultyLF.listByLFTagResourceType and let the requests reach moto.
func TestMotoRejectsListPermissionsByLFTagResourceType(t *testing.T) {
	a := newAccount(t)
	for _, rt := range lfTagResourceTypes {
		_, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{ResourceType: rt})
		if err == nil || !strings.Contains(err.Error(), "not a valid RessourceType") && !strings.Contains(err.Error(), "500") {
			t.Errorf("moto answered ListPermissions{ResourceType: %s} with %v; want its rejection", rt, err)
		}
	}
	// The old GrantTagPermissions query, and the principal-filtered one
	// without a resource, are rejected too (by Lake Formation as well).
	for name, in := range map[string]*lf.ListPermissionsInput{
		"principal and LF-tag policy": {Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(analystRole)}, Resource: TagGrant{ResourceType: types.ResourceTypeTable, Tag: analystTag}.resource()},
		"principal without resource":  {Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(analystRole)}, ResourceType: types.DataLakeResourceTypeLfTagPolicyTable},
	} {
		if _, err := a.SeedLF.ListPermissions(ctx(), in); err == nil || !strings.Contains(err.Error(), "InvalidInputException") {
			t.Errorf("%s: moto answered %v; want InvalidInputException", name, err)
		}
	}
}

// ---- RegisterLocation ----

func locationStep(a *account) *RegisterLocation {
	return &RegisterLocation{LF: a.LF, Retry: fastRetry(), LocationARN: locationARN, RoleARN: slrARN, WorkflowRoleARN: workflowRole}
}

func locationGrants(t *testing.T, a *account) []types.PrincipalResourcePermissions {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{
		Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(workflowRole)},
		Resource:  &types.Resource{DataLocation: &types.DataLocationResource{ResourceArn: aws.String(locationARN)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.PrincipalResourcePermissions
}

var locationScenarios = []scenario{
	{"fresh then converged", func(t *testing.T, a *account) {
		if changes := mustRun(t, locationStep(a)); len(changes) != 2 {
			t.Fatalf("changes = %q; want registration and grant", changes)
		}
		if _, err := a.SeedLF.DescribeResource(ctx(), &lf.DescribeResourceInput{ResourceArn: aws.String(locationARN)}); err != nil {
			t.Fatalf("location not registered: %v", err)
		}
		if g := locationGrants(t, a); len(g) != 1 || !slices.Equal(g[0].Permissions, []types.Permission{types.PermissionDataLocationAccess}) {
			t.Fatalf("grants = %+v", g)
		}
		converges(t, a, locationStep(a))
	}},
	{"register the S3 path first, once, after registering", func(t *testing.T, a *account) {
		a.LF.inject("GrantPermissions", apiErr("InvalidInputException", "Please register the S3 path first"), 1)
		a.LF.inject("RegisterResource", apiErr("ConcurrentModificationException", "busy"), 1)
		if changes := mustRun(t, locationStep(a)); len(changes) != 2 {
			t.Fatalf("changes = %q", changes)
		}
	}},
	{"registered meanwhile: AlreadyExists is done", func(t *testing.T, a *account) {
		a.LF.inject("RegisterResource", apiErr("AlreadyExistsException", "Resource is already registered"), 1)
		changes := mustRun(t, locationStep(a))
		if len(changes) != 1 || !strings.Contains(changes[0], "DATA_LOCATION_ACCESS") {
			t.Fatalf("changes = %q; want only the grant", changes)
		}
	}},
	{"registered with another role is reported", func(t *testing.T, a *account) {
		other := "arn:aws:iam::" + acct + ":role/someone-elses-role"
		if _, err := a.SeedLF.RegisterResource(ctx(), &lf.RegisterResourceInput{ResourceArn: aws.String(locationARN), RoleArn: aws.String(other)}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		_, err := locationStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, other, slrARN)
		if !strings.Contains(pe.Fix, "deregister-resource") {
			t.Fatalf("fix %q", pe.Fix)
		}
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls %v after finding the conflict", m)
		}
	}},
	{"revoked grant is repaired", func(t *testing.T, a *account) {
		mustRun(t, locationStep(a))
		if _, err := a.SeedLF.RevokePermissions(ctx(), &lf.RevokePermissionsInput{
			Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(workflowRole)},
			Resource:    &types.Resource{DataLocation: &types.DataLocationResource{ResourceArn: aws.String(locationARN)}},
			Permissions: []types.Permission{types.PermissionDataLocationAccess},
		}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		changes := mustRun(t, locationStep(a))
		if len(changes) != 1 || !strings.Contains(changes[0], "granted") || len(locationGrants(t, a)) != 1 {
			t.Fatalf("changes = %q", changes)
		}
	}},
}

// ---- EnsureDatabase ----

func createTag(t *testing.T, a *account, key string, values ...string) {
	t.Helper()
	if _, err := a.SeedLF.CreateLFTag(ctx(), &lf.CreateLFTagInput{TagKey: aws.String(key), TagValues: values}); err != nil {
		t.Fatal(err)
	}
}

func databaseStep(a *account) *EnsureDatabase {
	return &EnsureDatabase{Glue: a.Glue, LF: a.LF, Retry: fastRetry(), Name: database, LocationURI: locationURI, Tag: workflowTag}
}

// tagsOf returns the LF-tags of database db.
func tagsOf(t *testing.T, a *account, db string) map[string][]string {
	t.Helper()
	out, err := a.SeedLF.GetResourceLFTags(ctx(), &lf.GetResourceLFTagsInput{Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(db)}}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, p := range out.LFTagOnDatabase {
		m[aws.ToString(p.TagKey)] = p.TagValues
	}
	return m
}

func databaseTags(t *testing.T, a *account) map[string][]string { return tagsOf(t, a, database) }

// seedDatabase creates db (at location, or without one when it is "") and,
// when tag is not empty, tags it, without recording the calls.
func seedDatabase(t *testing.T, a *account, db, location string, tag config.TagRef) {
	t.Helper()
	in := &gluetypes.DatabaseInput{Name: aws.String(db)}
	if location != "" {
		in.LocationUri = aws.String(location)
	}
	if _, err := a.SeedGlue.CreateDatabase(ctx(), &glue.CreateDatabaseInput{DatabaseInput: in}); err != nil {
		t.Fatal(err)
	}
	if tag.Key == "" {
		return
	}
	if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{
		Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(db)}},
		LFTags:   []types.LFTagPair{{TagKey: aws.String(tag.Key), TagValues: []string{tag.Value}}},
	}); err != nil {
		t.Fatal(err)
	}
}

// untaggedReadsLF answers GetResourceLFTags on a database that never had an
// LF-tag as Lake Formation does (no tags) instead of moto's HTTP 500; once
// the step has tagged the database, reads go to moto again.
type untaggedReadsLF struct {
	*faultyLF
	untagged map[string]bool
}

func (c *untaggedReadsLF) GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, o ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error) {
	if in.Resource != nil && in.Resource.Database != nil && c.untagged[aws.ToString(in.Resource.Database.Name)] {
		return &lf.GetResourceLFTagsOutput{}, nil
	}
	return c.faultyLF.GetResourceLFTags(ctx, in, o...)
}

func (c *untaggedReadsLF) AddLFTagsToResource(ctx context.Context, in *lf.AddLFTagsToResourceInput, o ...func(*lf.Options)) (*lf.AddLFTagsToResourceOutput, error) {
	out, err := c.faultyLF.AddLFTagsToResource(ctx, in, o...)
	if err == nil && len(out.Failures) == 0 && in.Resource != nil && in.Resource.Database != nil {
		delete(c.untagged, aws.ToString(in.Resource.Database.Name))
	}
	return out, err
}

var databaseScenarios = []scenario{
	{"fresh then converged: the lake database created and tagged, no other", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		a.markCalls()
		changes := mustRun(t, databaseStep(a))
		want := []string{
			"created database " + database + " at " + locationURI,
			"tagged database " + database + " maintenance=crawler",
		}
		if !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want %q", changes, want)
		}
		got, err := a.SeedGlue.GetDatabase(ctx(), &glue.GetDatabaseInput{Name: aws.String(database)})
		if err != nil || aws.ToString(got.Database.LocationUri) != locationURI {
			t.Fatalf("lake database = %+v, %v", got, err)
		}
		// Created with an empty default-table-permission list (sent as []),
		// so its tables never get the account's IAM_ALLOWED_PRINCIPALS default.
		if p := got.Database.CreateTableDefaultPermissions; p == nil || len(p) != 0 {
			t.Fatalf("lake database default table permissions = %+v; want an empty list", p)
		}
		// The job discovers the source tables over JDBC: no source catalog
		// database.
		all, err := a.SeedGlue.GetDatabases(ctx(), &glue.GetDatabasesInput{})
		if err != nil || len(all.DatabaseList) != 1 {
			t.Fatalf("databases = %+v, %v; want only %s", all, err, database)
		}
		if tags := tagsOf(t, a, database); len(tags) != 1 || !slices.Equal(tags["maintenance"], []string{"crawler"}) {
			t.Fatalf("tags of %s = %v; want only maintenance=crawler", database, tags)
		}
		converges(t, a, databaseStep(a))
	}},
	{"existing lake database at another location names both, touches nothing", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		seedDatabase(t, a, database, "s3://elsewhere/db", config.TagRef{})
		a.markCalls()
		_, err := databaseStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "s3://elsewhere/db", locationURI)
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls %v", m)
		}
	}},
	{"lake database left by a destroyed deployment: the user is told exactly what to do", func(t *testing.T, a *account) {
		// issue 13: destroy keeps the bucket and the database; a redeploy
		// with a generated bucket name points the lake elsewhere.
		createTag(t, a, "maintenance", "crawler", "manual")
		old := "s3://lakeforge-lakebucket-old123/lake"
		if _, err := a.SeedGlue.CreateDatabase(ctx(), &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{
			Name: aws.String(database), LocationUri: aws.String(old), Description: aws.String("lakeforge: tables imported from the source database")}}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		_, err := databaseStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, old, locationURI)
		for _, want := range []string{`lake.existingBucketName to "lakeforge-lakebucket-old123"`, "aws glue delete-database --name " + database, "data stays in s3://lakeforge-lakebucket-old123"} {
			if !strings.Contains(pe.Fix, want) {
				t.Errorf("fix %q does not say %q", pe.Fix, want)
			}
		}
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls %v", m)
		}
	}},
	{"untagged lake database from a manual build is adopted and tagged", func(t *testing.T, a *account) {
		// The blog's console build makes the database with no LF-tag. moto
		// answers GetResourceLFTags on such a database with HTTP 500, so
		// untaggedReadsLF gives Lake Formation's answer (no tags) until the
		// step has tagged it; everything else is moto.
		createTag(t, a, "maintenance", "crawler", "manual")
		seedDatabase(t, a, database, locationURI, config.TagRef{})
		step := databaseStep(a)
		step.LF = &untaggedReadsLF{faultyLF: a.LF, untagged: map[string]bool{database: true}}
		changes := mustRun(t, step)
		if want := []string{"tagged database " + database + " maintenance=crawler"}; !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want %q", changes, want)
		}
		if tags := tagsOf(t, a, database); !slices.Equal(tags["maintenance"], []string{"crawler"}) {
			t.Fatalf("tags = %v", tags)
		}
		converges(t, a, step)
	}},
	{"removed tag is repaired, retryable conditions once", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		a.Glue.inject("CreateDatabase", apiErr("ConcurrentModificationException", "busy"), 1)
		mustRun(t, databaseStep(a))
		if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{
			Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}},
			LFTags:   []types.LFTagPair{{TagKey: aws.String("maintenance"), TagValues: []string{"manual"}}},
		}); err != nil {
			t.Fatal(err)
		}
		a.LF.inject("AddLFTagsToResource", apiErr("ConcurrentModificationException", "busy"), 1)
		a.markCalls()
		changes := mustRun(t, databaseStep(a))
		if len(changes) != 1 || !strings.Contains(changes[0], database+" maintenance=crawler (was maintenance=manual)") {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, databaseStep(a))
	}},
	{"tag failures in a 200 answer are an error", func(t *testing.T, a *account) {
		// No LF-tag "maintenance" exists: moto, like Lake Formation, answers
		// AddLFTagsToResource with a per-tag failure.
		_, err := databaseStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "maintenance=crawler", "EntityNotFoundException")
	}},
}

// ---- GrantTagPermissions ----

func grantStep(a *account) *GrantTagPermissions {
	return &GrantTagPermissions{LF: a.LF, Principals: NewPrincipals(a.IAM, workflowRole), Retry: fastRetry(),
		Grants: AccessGrants(workflowRole, workflowTag, []string{analystRole, otherAnalyst}, analystTag, otherAnalyst)}
}

// invalidPrincipalLF answers GrantPermissions for one principal with
// "Invalid principal", as Lake Formation does for one that does not exist.
type invalidPrincipalLF struct {
	*faultyLF
	principal string
}

func (c *invalidPrincipalLF) GrantPermissions(ctx context.Context, in *lf.GrantPermissionsInput, o ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error) {
	if in.Principal != nil && aws.ToString(in.Principal.DataLakePrincipalIdentifier) == c.principal {
		return nil, apiErr("InvalidInputException", "Invalid principal: "+c.principal)
	}
	return c.faultyLF.GrantPermissions(ctx, in, o...)
}

func allGrants(t *testing.T, a *account) map[string][]types.Permission {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]types.Permission{}
	for _, p := range out.PrincipalResourcePermissions {
		if p.Resource.LFTagPolicy == nil {
			continue
		}
		e := p.Resource.LFTagPolicy.Expression[0]
		k := fmt.Sprintf("%s %s %s=%s", aws.ToString(p.Principal.DataLakePrincipalIdentifier), p.Resource.LFTagPolicy.ResourceType, aws.ToString(e.TagKey), strings.Join(e.TagValues, ","))
		perms := slices.Clone(p.Permissions)
		slices.Sort(perms)
		m[k] = perms
	}
	return m
}

var grantScenarios = []scenario{
	{"fresh then converged", func(t *testing.T, a *account) {
		if changes := mustRun(t, grantStep(a)); len(changes) != 6 {
			t.Fatalf("changes = %q; want 6 grants", changes)
		}
		// issue 8 defect 1: one query per resource type, no principal and
		// no resource filter (the old LF-tag-policy filter is rejected).
		want := []lf.ListPermissionsInput{{ResourceType: types.DataLakeResourceTypeLfTagPolicyDatabase}, {ResourceType: types.DataLakeResourceTypeLfTagPolicyTable}}
		if fmt.Sprintf("%+v", a.LF.listed) != fmt.Sprintf("%+v", want) {
			t.Fatalf("ListPermissions requests %+v; want exactly %+v", a.LF.listed, want)
		}
		wantGrants := map[string][]types.Permission{
			workflowRole + " DATABASE maintenance=crawler": {"ALL"},
			workflowRole + " TABLE maintenance=crawler":    {"ALL"},
			analystRole + " DATABASE source=product":       {"DESCRIBE"},
			analystRole + " TABLE source=product":          {"DESCRIBE", "SELECT"},
			otherAnalyst + " DATABASE source=product":      {"DESCRIBE"},
			otherAnalyst + " TABLE source=product":         {"DESCRIBE", "SELECT"},
		}
		got := allGrants(t, a)
		if fmt.Sprint(got) != fmt.Sprint(wantGrants) {
			t.Fatalf("grants:\n got %v\nwant %v", got, wantGrants)
		}
		converges(t, a, grantStep(a))
	}},
	{"partial grant gets only the missing permission", func(t *testing.T, a *account) {
		if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
			Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(analystRole)},
			Resource:    TagGrant{ResourceType: types.ResourceTypeTable, Tag: analystTag}.resource(),
			Permissions: []types.Permission{types.PermissionDescribe},
		}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		changes := mustRun(t, grantStep(a))
		if !slices.Contains(changes, "granted SELECT on TABLE with source=product to "+analystRole) {
			t.Fatalf("changes = %q", changes)
		}
	}},
	{"new principal invalid once, then granted", func(t *testing.T, a *account) {
		a.LF.inject("GrantPermissions", apiErr("InvalidInputException", "Invalid principal "+analystRole), 1)
		a.LF.inject("GrantPermissions", apiErr("InvalidInputException", "Grantee has no permissions and no grantable permissions"), 1)
		if changes := mustRun(t, grantStep(a)); len(changes) != 6 {
			t.Fatalf("changes = %q", changes)
		}
	}},
	{"still invalid after the budget, for a principal IAM knows, is transient", func(t *testing.T, a *account) {
		createPrincipals(t, a, workflowRole, analystRole, otherAnalyst)
		a.LF.inject("GrantPermissions", apiErr("InvalidInputException", "Invalid principal "+analystRole), 1000)
		_, err := grantStep(a).Run(ctx())
		wantErr[*steperr.TransientError](t, err, "GrantPermissions")
	}},
	{"a configured analyst that does not exist fails fast, naming it and its setting", func(t *testing.T, a *account) {
		// issue 13: "Invalid principal" forever for a mistyped analyst.
		createPrincipals(t, a, workflowRole, analystRole) // otherAnalyst does not exist
		step := grantStep(a)
		step.LF = &invalidPrincipalLF{faultyLF: a.LF, principal: otherAnalyst}
		_, err := step.Run(ctx())
		ce := wantErr[*steperr.ConfigError](t, err, otherAnalyst, AnalystsSetting)
		if ce.Field != AnalystsSetting {
			t.Fatalf("field %q", ce.Field)
		}
	}},
	{"the stack's analyst role deleted outside CloudFormation: redeploy", func(t *testing.T, a *account) {
		createPrincipals(t, a, workflowRole, otherAnalyst)
		step := grantStep(a)
		step.LF = &invalidPrincipalLF{faultyLF: a.LF, principal: analystRole}
		_, err := step.Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, analystRole)
		if !strings.Contains(pe.Fix, "redeploy") {
			t.Fatalf("fix %q", pe.Fix)
		}
	}},
	{"a rejected read is a lakeforge defect, not a cdk.json fix", func(t *testing.T, a *account) {
		a.LF.inject("ListPermissions", apiErr("InvalidInputException", "Resource must have either the catalog, table or database field populated."), 1)
		_, err := grantStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, "ListPermissions")
		if strings.Contains(pe.Fix, "cdk.json") || !strings.Contains(pe.Fix, "defect") {
			t.Fatalf("fix %q sends the user to cdk.json for lakeforge's own request", pe.Fix)
		}
	}},
	{"grants on wider expressions or to others do not count", func(t *testing.T, a *account) {
		for _, g := range []struct {
			who string
			tag []string
		}{{analystRole, []string{"product", "other"}}, {"arn:aws:iam::" + acct + ":role/someone-else", []string{"product"}}} {
			if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
				Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(g.who)},
				Resource:    &types.Resource{LFTagPolicy: &types.LFTagPolicyResource{ResourceType: types.ResourceTypeTable, Expression: []types.LFTag{{TagKey: aws.String("source"), TagValues: g.tag}}}},
				Permissions: []types.Permission{types.PermissionSelect, types.PermissionDescribe},
			}); err != nil {
				t.Fatal(err)
			}
		}
		a.markCalls()
		if changes := mustRun(t, grantStep(a)); !slices.Contains(changes, "granted SELECT+DESCRIBE on TABLE with source=product to "+analystRole) {
			t.Fatalf("changes = %q", changes)
		}
	}},
}

// ---- TagOutput ----

func tagOutputStep(a *account) *TagOutput {
	return &TagOutput{LF: a.LF, Retry: fastRetry(), Database: database, Tag: analystTag}
}

// seedOutputDatabase is the state after EnsureDatabase: the database exists
// and carries the workflow tag.
func seedOutputDatabase(t *testing.T, a *account, createAnalystTag bool) {
	t.Helper()
	createTag(t, a, "maintenance", "crawler")
	if createAnalystTag {
		createTag(t, a, "source", "product")
	}
	if _, err := a.SeedGlue.CreateDatabase(ctx(), &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(database), LocationUri: aws.String(locationURI)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{
		Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}},
		LFTags:   []types.LFTagPair{{TagKey: aws.String(workflowTag.Key), TagValues: []string{workflowTag.Value}}},
	}); err != nil {
		t.Fatal(err)
	}
}

var tagOutputScenarios = []scenario{
	{"state machine input then converged", func(t *testing.T, a *account) {
		seedOutputDatabase(t, a, true)
		h := Handler("tag-output", tagOutputStep(a), quietLog)
		out, err := h(ctx(), StepInput{})
		if err != nil || len(out.Changes) != 1 {
			t.Fatalf("out = %+v, err = %v", out, err)
		}
		if tags := databaseTags(t, a); !slices.Equal(tags["source"], []string{"product"}) {
			t.Fatalf("tags = %v", tags)
		}
		converges(t, a, tagOutputStep(a))
	}},
	{"tag failures in a 200 answer are an error", func(t *testing.T, a *account) {
		seedOutputDatabase(t, a, false)
		_, err := tagOutputStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "source=product", "not assigned")
	}},
	{"after EnsureDatabase, the lake database gets the analyst tag", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		createTag(t, a, "source", "product")
		// EnsureDatabase through the unrecorded clients: its calls are not
		// tag-output's.
		ensure := databaseStep(a)
		ensure.Glue, ensure.LF = a.SeedGlue, a.SeedLF
		mustRun(t, ensure)
		mustRun(t, tagOutputStep(a))
		// (moto's AddLFTagsToResource replaces the database's other tags, so
		// maintenance=crawler is not checked here; see the file comment.)
		if tags := tagsOf(t, a, database); !slices.Equal(tags["source"], []string{"product"}) {
			t.Fatalf("lake database tags = %v; want source=product", tags)
		}
	}},
	{"no ASSOCIATE on the tag: the fix names the step that grants it", func(t *testing.T, a *account) {
		// Lake Formation refuses the assignment of a tag the caller did not
		// create and holds no ASSOCIATE on; moto never checks: injected.
		seedOutputDatabase(t, a, true)
		a.LF.inject("AddLFTagsToResource", apiErr("AccessDeniedException", "Insufficient Lake Formation permission(s): Required Associate on source"), 1)
		_, err := tagOutputStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, "AddLFTagsToResource")
		if !strings.Contains(pe.Fix, "ASSOCIATE") || !strings.Contains(pe.Fix, "EnsureLFTags") {
			t.Fatalf("fix %q", pe.Fix)
		}
	}},
	{"database missing is permanent and names it", func(t *testing.T, a *account) {
		a.LF.inject("GetResourceLFTags", apiErr("EntityNotFoundException", "Database kthr01 not found"), 1)
		_, err := tagOutputStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "database kthr01")
	}},
}

// deniedFor answers GetRole for one role name with AccessDenied, as IAM does
// for a caller without iam:GetRole on it.
type deniedFor struct {
	*faultyIAM
	role string
}

func (d *deniedFor) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if aws.ToString(in.RoleName) == d.role {
		return nil, apiErr("AccessDenied", "User is not authorized to perform: iam:GetRole")
	}
	return d.faultyIAM.GetRole(ctx, in, o...)
}
