package lakeformation

// The scenario tables: every step runs against a fresh account, twice, to
// prove it converges: on the in-memory fake (internal/lffake, the unit
// tier) and on the moto server through the real SDK clients (the emulator
// tier), and the outcomes of the two are compared (parity_test.go). Faults are injected in
// front of the real clients (faultyLF, faultyGlue) for the retry and error
// paths. Where moto differs from Lake Formation, the test says so:
//   - GetLFTag answers an empty value list for a missing key instead of
//     EntityNotFoundException: the real answer is injected where it matters;
//   - RevokePermissions never answers "Grantee has no permissions": injected;
//   - ListPermissions rejects the resource types LF_TAG,
//     LF_TAG_POLICY_DATABASE and LF_TAG_POLICY_TABLE ("is not a valid
//     RessourceType", HTTP 500), the one request EnsureLFTags and
//     GrantTagPermissions send to read LF-tag grants: motoGapsLF answers
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
//     RoleArn as the service-linked role, and a test answers with the named
//     role (serviceLinkedNamingLF);
//   - UpdateResource does not exist: motoGapsLF applies it to moto's
//     registration as documented (TestMotoHasNoUpdateResource);
//   - AddLFTagsToResource replaces every LF-tag of the resource instead of
//     adding to them, and GetResourceLFTags fails (HTTP 500) on a database
//     that never had an LF-tag; so the tag-output test checks that other
//     tags survive on the fake only (the request it sends names only its
//     own tag; parityExclusions lists the difference), and
//     the ensure-database test of an untagged lake database (a manual build) answers
//     that read as Lake Formation does (untaggedReadsLF).

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
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
	// registrationRole is the stack's Lake Formation registration role.
	registrationRole = "arn:aws:iam::" + acct + ":role/lakeforge-registration"
	locationURI      = "s3://lake-bucket/lake"
	database         = "kthr01"
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

// motoOnly names the scenarios that cannot run on the fake, and why.
var motoOnly = map[string]string{
	"governance: the columns VerifyQuery probes are written beside the run's manifest": "it writes the probes to S3, which only moto has",
}

// steps lists, per function, every path its tests exercise; the golden IAM
// action file of the function is the union of the calls of all of them.
var steps = map[string][]scenario{
	"configure-lake-formation": configureScenarios,
	"ensure-lf-tags":           tagScenarios,
	"register-location":        locationScenarios,
	"ensure-database":          databaseScenarios,
	"grant-tag-permissions":    append(slices.Clone(grantScenarios), defaultDatabaseScenarios...),
	"tag-output":               tagOutputScenarios,
	"cleanup-lake-formation":   cleanupScenarios,
}

// runScenarios runs each scenario of function on the fake and on moto (the
// moto subtest skips itself in the unit tier), and when both passed
// compares their outcomes (parity_test.go).
func runScenarios(t *testing.T, function string) {
	for _, sc := range steps[function] {
		t.Run(sc.name, func(t *testing.T) {
			outcomes := map[backend]outcome{}
			for _, b := range []backend{fakeBackend, motoBackend} {
				if b == fakeBackend && motoOnly[sc.name] != "" {
					continue
				}
				t.Run(string(b), func(t *testing.T) {
					a := newAccountOn(t, b)
					sc.run(t, a)
					if !t.Failed() {
						outcomes[b] = outcome{calls: a.Sent.all(), state: snapshot(t, a)}
					}
				})
			}
			fake, okFake := outcomes[fakeBackend]
			moto, okMoto := outcomes[motoBackend]
			if okFake && okMoto {
				t.Run("parity", func(t *testing.T) { checkParity(t, function+"/"+sc.name, fake, moto) })
			}
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

// onEachBackend runs test on a fresh account on the fake and on moto (the
// moto subtest skips itself in the unit tier).
func onEachBackend(t *testing.T, test func(t *testing.T, a *account)) {
	for _, b := range []backend{fakeBackend, motoBackend} {
		t.Run(string(b), func(t *testing.T) { test(t, newAccountOn(t, b)) })
	}
}
