package lakeformation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakeforge/lakeforge/internal/motoserver"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func TestStackCleanup(t *testing.T) { runScenarios(t, "cleanup-lake-formation") }

// stackRoles are the roles CloudFormation deletes with the stack.
var stackRoles = []string{stepRole, workflowRole, analystRole, databaseStepRole, tagOutputStepRole, grantStepRole}

func cleanupEvent(kind cfn.RequestType, roles ...string) cfn.Event {
	list := make([]any, len(roles))
	for i, r := range roles {
		list[i] = r
	}
	return cfn.Event{RequestType: kind, PhysicalResourceID: CleanupPhysicalID,
		ResourceProperties: map[string]any{CleanupRoleARNsProperty: list, CleanupKeptProperty: "catalog database kthr01", CleanupDatabaseProperty: database}}
}

// convergedAccount runs the access-model steps through unrecorded clients:
// the state a deployment leaves, plus an administrator and an analyst grant
// that are not the stack's.
func convergedAccount(t *testing.T, a *account) {
	t.Helper()
	seed := a.SeedLF
	createPrincipals(t, a, existingAdmin, configuredAdmin, stepRole, workflowRole, analystRole, otherAnalyst, databaseStepRole, tagOutputStepRole, grantStepRole)
	setAdmins(t, a, existingAdmin)
	setFullTableAccess(t, a, true) // "leave" below expects it on
	for _, step := range []Runner{
		&ConfigureLakeFormation{LF: seed, Retry: fastRetry(), Own: []string{stepRole, databaseStepRole, tagOutputStepRole, grantStepRole}, Configured: []string{configuredAdmin}, AccountSettings: stepcontract.AccountSettingsLeave, Log: quietLog},
		&EnsureLFTags{LF: seed, Retry: fastRetry(), Tags: map[string][]string{"maintenance": {"crawler", "manual"}, "source": {"product"}},
			Permissions: TagPermissionsFor(databaseStepRole, tagOutputStepRole, grantStepRole, workflowTag, analystTag)},
		&RegisterLocation{LF: seed, Retry: fastRetry(), LocationARN: locationARN, RoleARN: registrationRole, WorkflowRoleARN: workflowRole},
		&EnsureDatabase{Glue: a.SeedGlue, LF: seed, Retry: fastRetry(), Name: database, LocationURI: locationURI, Tag: workflowTag, TaggerRole: tagOutputStepRole},
		&GrantTagPermissions{LF: seed, Retry: fastRetry(), Grants: AccessGrants(workflowRole, workflowTag, []string{analystRole, otherAnalyst}, analystTag, otherAnalyst),
			AthenaReaders: []AthenaReader{{Principal: analystRole, Origin: StackRole(AnalystRoleResource)}, {Principal: otherAnalyst, Origin: Configured(AnalystsSetting)}}},
	} {
		mustRun(t, step)
	}
	// The import job makes a table and writes its data; Lake Formation
	// records the creators' rows: EnsureDatabase's role on the database,
	// the workflow role on the table (moto records none by itself: seeded).
	if _, err := a.SeedGlue.CreateTable(ctx(), &glue.CreateTableInput{DatabaseName: aws.String(database), TableInput: &gluetypes.TableInput{
		Name: aws.String(lakeTable), StorageDescriptor: &gluetypes.StorageDescriptor{Location: aws.String(locationURI + "/" + lakeTable)}}}); err != nil {
		t.Fatal(err)
	}
	for _, creator := range []struct {
		role     string
		resource *types.Resource
	}{
		{databaseStepRole, &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}}},
		{workflowRole, &types.Resource{Table: &types.TableResource{DatabaseName: aws.String(database), Name: aws.String(lakeTable)}}},
	} {
		if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
			Principal:                  &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(creator.role)},
			Resource:                   creator.resource,
			Permissions:                []types.Permission{types.PermissionAll},
			PermissionsWithGrantOption: []types.Permission{types.PermissionAll},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if a.Backend != motoBackend {
		a.markCalls()
		return // the lake's data is checked on moto: the fake has no S3
	}
	s3c := s3.NewFromConfig(motoserver.Current(t).Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx(), &s3.CreateBucketInput{Bucket: aws.String("lake-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx(), &s3.PutObjectInput{Bucket: aws.String("lake-bucket"), Key: aws.String(lakeObject), Body: strings.NewReader("rows")}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
}

// The lake table and one of its data files, in the converged account.
const (
	lakeTable  = "products"
	lakeObject = "lake/" + lakeTable + "/data/00000-0.parquet"
)

// assertLakeKept checks that the lake database, its table, its data and
// the tags are all still there.
func assertLakeKept(t *testing.T, a *account) {
	t.Helper()
	if _, err := a.SeedGlue.GetTable(ctx(), &glue.GetTableInput{DatabaseName: aws.String(database), Name: aws.String(lakeTable)}); err != nil {
		t.Errorf("lake table %s.%s: %v", database, lakeTable, err)
	}
	if a.Backend != motoBackend {
		return // the fake has no S3: moto checks the data
	}
	s3c := s3.NewFromConfig(motoserver.Current(t).Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.HeadObject(ctx(), &s3.HeadObjectInput{Bucket: aws.String("lake-bucket"), Key: aws.String(lakeObject)}); err != nil {
		t.Errorf("lake data s3://lake-bucket/%s: %v", lakeObject, err)
	}
	if got := lfTagValues(t, a, "source"); !slices.Equal(got, []string{"product"}) {
		t.Errorf("LF-tag source = %v", got)
	}
	if tags := tagsOf(t, a, database); !slices.Equal(tags["maintenance"], []string{"crawler"}) {
		t.Errorf("tags of database %s = %v; want maintenance=crawler kept", database, tags)
	}
	if _, err := a.SeedLF.DescribeResource(ctx(), &lf.DescribeResourceInput{ResourceArn: aws.String(locationARN)}); err != nil {
		t.Errorf("location deregistered: %v", err)
	}
}

// grantsByPrincipal reads every grant (unfiltered: moto accepts that) as
// principal -> count.
func grantsByPrincipal(t *testing.T, a *account) map[string]int {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, p := range out.PrincipalResourcePermissions {
		m[aws.ToString(p.Principal.DataLakePrincipalIdentifier)]++
	}
	return m
}

func cleanupStep(a *account) *StackCleanup {
	return &StackCleanup{LF: a.LF, Glue: a.Glue, Retry: fastRetry(), Log: quietLog}
}

var cleanupScenarios = []scenario{
	{"stack delete removes exactly the stack's administrators and grants, keeps the lake, then nothing", func(t *testing.T, a *account) {
		convergedAccount(t, a)
		before := grantsByPrincipal(t, a)
		// workflow role: 2 tag-policy grants, data location, the table's
		// creator row; ensure-database's: ASSOCIATE and the database's
		// creator row; tag-output's: ASSOCIATE, ALL on the database and
		// ALL on every table of it; each analyst: 2 tag-policy grants and
		// DESCRIBE on the default database.
		if before[workflowRole] != 4 || before[databaseStepRole] != 2 || before[tagOutputStepRole] != 3 || before[analystRole] != 3 || before[otherAnalyst] != 3 {
			t.Fatalf("converged account has grants %v", before)
		}
		id, data, reason, err := cleanupStep(a).Handle(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...))
		if err != nil || id != CleanupPhysicalID || reason != "" {
			t.Fatalf("id %q reason %q err %v", id, reason, err)
		}
		if got := adminsNow(t, a); !slices.Equal(got, []string{existingAdmin, configuredAdmin}) {
			t.Fatalf("admins after delete = %v; want only the ones that are not the stack's", got)
		}
		after := grantsByPrincipal(t, a)
		// The configured analyst is not the stack's: its grants stay, its
		// DESCRIBE on default included.
		if want := map[string]int{otherAnalyst: 3}; fmt.Sprint(after) != fmt.Sprint(want) {
			t.Fatalf("grants after delete = %v; want only the configured analyst's %v", after, want)
		}
		changes := fmt.Sprint(data["Changes"])
		for _, want := range []string{
			"DATA_LOCATION_ACCESS on " + locationARN + " from " + workflowRole,
			"removed data lake administrator " + stepRole,
			"ALL on database " + database + " from " + tagOutputStepRole,
			"ALL on database " + database + " from " + databaseStepRole,
			"ALL on table " + database + "." + lakeTable + " from " + workflowRole,
			"ALL on every table of database " + database + " from " + tagOutputStepRole,
			"DESCRIBE on database default from " + analystRole,
		} {
			if !strings.Contains(changes, want) {
				t.Errorf("reported changes %q lack %q", changes, want)
			}
		}
		// The database, its table, the data, the tags and the registered
		// location stay for a redeploy.
		assertLakeKept(t, a)
		// A retried Delete finds nothing to do.
		a.markCalls()
		if _, _, reason, err := cleanupStep(a).Handle(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...)); err != nil || reason != "" {
			t.Fatalf("reason %q err %v", reason, err)
		}
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("second delete made mutating calls %v", m)
		}
	}},
	{"create and update only check the properties", func(t *testing.T, a *account) {
		for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
			if id, _, _, err := cleanupStep(a).Handle(ctx(), cleanupEvent(kind, stackRoles...)); err != nil || id != CleanupPhysicalID {
				t.Fatalf("%s: id %q err %v", kind, id, err)
			}
			_, _, _, err := cleanupStep(a).Handle(ctx(), cleanupEvent(kind))
			wantErr[*steperr.InvalidInputError](t, err, CleanupRoleARNsProperty)
		}
		if calls := a.since(); len(calls) != 0 {
			t.Fatalf("create and update made calls %v", calls)
		}
	}},
	{"a failed revoke and a failed settings read: every other item is done, each failure reported", func(t *testing.T, a *account) {
		// issue 17 item 8: the cleanup stopped at its first failure, so
		// one failed call left every stack role an administrator.
		convergedAccount(t, a)
		a.LF.inject("RevokePermissions", apiErr("AccessDeniedException", "revoke refused"), 1)
		a.LF.inject("GetDataLakeSettings", apiErr("AccessDeniedException", "settings refused"), 1)
		log, buf := logBuffer()
		step := cleanupStep(a)
		step.Log = log
		_, _, reason, err := step.Handle(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...))
		if err != nil {
			t.Fatalf("delete failed: %v; CloudFormation would then fail the stack's deletion", err)
		}
		for _, want := range []string{"2 item(s) failed", "RevokePermissions", "revoke refused", "GetDataLakeSettings", "settings refused"} {
			if !strings.Contains(reason, want) {
				t.Errorf("reason %q lacks %q", reason, want)
			}
			if !strings.Contains(buf.String(), want) && want != "2 item(s) failed" {
				t.Errorf("log lacks %q:\n%s", want, buf.String())
			}
		}
		// Only the one refused grant is left of the stack's roles' grants.
		left := 0
		for who, n := range grantsByPrincipal(t, a) {
			if slices.Contains(stackRoles, who) {
				left += n
			}
		}
		if left != 1 {
			t.Fatalf("%d grants of the stack's roles left; want only the refused one", left)
		}
		assertLakeKept(t, a)
		// The administrators are removed on a retried delete.
		if _, _, reason, _ := cleanupStep(a).Handle(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...)); reason != "" {
			t.Fatalf("retried delete: %s", reason)
		}
		if got := adminsNow(t, a); !slices.Equal(got, []string{existingAdmin, configuredAdmin}) {
			t.Fatalf("admins = %v", got)
		}
	}},
	{"a failed admin removal does not stop the revokes", func(t *testing.T, a *account) {
		convergedAccount(t, a)
		a.LF.inject("PutDataLakeSettings", apiErr("AccessDeniedException", "put refused"), 1)
		_, _, reason, _ := cleanupStep(a).Handle(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...))
		if !strings.Contains(reason, "PutDataLakeSettings") || !strings.Contains(reason, "1 item(s) failed") {
			t.Fatalf("reason %q", reason)
		}
		if after := grantsByPrincipal(t, a); fmt.Sprint(after) != fmt.Sprint(map[string]int{otherAnalyst: 3}) {
			t.Fatalf("grants after delete = %v", after)
		}
	}},
}

// TestStackCleanupAnswersSuccessWithTheFailures sends the custom resource's
// answer as CloudFormation receives it (a PUT to the event's ResponseURL):
// a cleanup with a failure answers SUCCESS, with the failure in Reason.
func TestStackCleanupAnswersSuccessWithTheFailures(t *testing.T) {
	onEachBackend(t, func(t *testing.T, a *account) {
		convergedAccount(t, a)
		a.LF.inject("GetDataLakeSettings", apiErr("AccessDeniedException", "settings refused"), 1)
		var got cfn.Response
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPut {
				t.Errorf("method %s", r.Method)
			}
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
				t.Error(err)
			}
		}))
		defer srv.Close()
		ev := cleanupEvent(cfn.RequestDelete, stackRoles...)
		ev.ResponseURL, ev.StackID, ev.RequestID, ev.LogicalResourceID = srv.URL, "stack", "req", "LakeFormationCleanup"
		if _, err := cleanupStep(a).Respond(ctx(), ev); err != nil {
			t.Fatal(err)
		}
		if got.Status != cfn.StatusSuccess || !strings.Contains(got.Reason, "GetDataLakeSettings") || !strings.Contains(got.Reason, "settings refused") || got.PhysicalResourceID != CleanupPhysicalID {
			t.Fatalf("response %+v; want SUCCESS naming the failure", got)
		}
	})
}

// The revoke on a grant that is already gone answers "Grantee has no
// permissions" on Lake Formation (moto never does): done, not an error.
func TestStackCleanupRevokeAlreadyGone(t *testing.T) {
	onEachBackend(t, func(t *testing.T, a *account) {
		convergedAccount(t, a)
		a.LF.inject("RevokePermissions", apiErr("InvalidInputException", "No permissions revoked. Grantee has no permissions and no grantable permissions on resource"), 1)
		changes, failures := cleanupStep(a).Remove(ctx(), stackRoles, database)
		if len(failures) > 0 {
			t.Fatal(failures)
		}
		if got := adminsNow(t, a); !slices.Equal(got, []string{existingAdmin, configuredAdmin}) || len(changes) == 0 {
			t.Fatalf("admins %v, changes %q", got, changes)
		}
	})
}

// grantOptionOnlyLF lists, besides moto's rows, one grant of a stack role
// that holds only grant options (Permissions absent), as Lake Formation
// can answer.
type grantOptionOnlyLF struct {
	*faultyLF
	role string
}

func (c *grantOptionOnlyLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	out, err := c.faultyLF.ListPermissions(ctx, in, o...)
	if err != nil || in.NextToken != nil {
		return out, err
	}
	out.PrincipalResourcePermissions = append(out.PrincipalResourcePermissions, types.PrincipalResourcePermissions{
		Principal:                  &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(c.role)},
		Resource:                   &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}},
		PermissionsWithGrantOption: []types.Permission{types.PermissionDescribe},
	})
	return out, nil
}

// RevokePermissions requires Permissions: the real SDK client refuses a
// nil list before sending, so a grant-option-only row is revoked with [].
func TestStackCleanupRevokesGrantOptionOnlyRows(t *testing.T) {
	onEachBackend(t, func(t *testing.T, a *account) {
		convergedAccount(t, a)
		step := cleanupStep(a)
		step.LF = &grantOptionOnlyLF{faultyLF: a.LF, role: stackRoles[0]}
		if _, failures := step.Remove(ctx(), stackRoles, database); len(failures) > 0 {
			t.Fatalf("cleanup with a grant-option-only row: %v", failures)
		}
	})
}

// EnsureDatabase's grant on every table is revoked on the TableWildcard
// resource it was granted on, also when Lake Formation lists it named
// ALL_TABLES (a revoke of the listed resource as it is would revoke nothing
// on the fake and on moto, and is not documented to work on AWS).
func TestStackCleanupRevokesTheGrantOnEveryTable(t *testing.T) {
	onEachBackend(t, func(t *testing.T, a *account) {
		convergedAccount(t, a)
		if perms, _ := taggerTablesGrant(t, a); len(perms) == 0 {
			t.Fatal("the converged account has no grant on every table to revoke")
		}
		step := cleanupStep(a)
		step.LF = &allTablesListingLF{faultyLF: a.LF}
		changes, failures := step.Remove(ctx(), stackRoles, database)
		if len(failures) > 0 {
			t.Fatal(failures)
		}
		if perms, grantable := taggerTablesGrant(t, a); len(perms)+len(grantable) != 0 {
			t.Fatalf("TagOutput's role still holds %v (grantable %v) on every table; changes %q", perms, grantable, changes)
		}
		if want := "revoked ALL on every table of database " + database + " from " + tagOutputStepRole; !slices.Contains(changes, want) {
			t.Fatalf("changes %q lack %q", changes, want)
		}
	})
}
