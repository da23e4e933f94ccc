package lakeformation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

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
		ResourceProperties: map[string]any{CleanupRoleARNsProperty: list, CleanupKeptProperty: "catalog database kthr01"}}
}

// convergedAccount runs the access-model steps through unrecorded clients:
// the state a deployment leaves, plus an administrator and an analyst grant
// that are not the stack's.
func convergedAccount(t *testing.T, a *account) {
	t.Helper()
	seed := &faultyLF{Client: a.SeedLF, faults: &faults{}}
	createPrincipals(t, a, existingAdmin, configuredAdmin, stepRole, workflowRole, analystRole, otherAnalyst, databaseStepRole, tagOutputStepRole, grantStepRole)
	setAdmins(t, a, existingAdmin)
	setFullTableAccess(t, a, true) // "leave" below expects it on
	for _, step := range []Runner{
		&ConfigureLakeFormation{LF: seed, Retry: fastRetry(), Own: []string{stepRole, databaseStepRole, tagOutputStepRole, grantStepRole}, Configured: []string{configuredAdmin}, AccountSettings: AccountSettingsLeave, Log: quietLog},
		&EnsureLFTags{LF: seed, Retry: fastRetry(), Tags: map[string][]string{"maintenance": {"crawler", "manual"}, "source": {"product"}},
			Permissions: TagPermissionsFor(databaseStepRole, tagOutputStepRole, grantStepRole, workflowTag, analystTag)},
		&RegisterLocation{LF: seed, Retry: fastRetry(), LocationARN: locationARN, RoleARN: slrARN, WorkflowRoleARN: workflowRole},
		&GrantTagPermissions{LF: seed, Retry: fastRetry(), Grants: AccessGrants(workflowRole, workflowTag, []string{analystRole, otherAnalyst}, analystTag, otherAnalyst)},
	} {
		mustRun(t, step)
	}
	a.markCalls()
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
	return &StackCleanup{LF: a.LF, Retry: fastRetry(), Log: quietLog}
}

var cleanupScenarios = []scenario{
	{"stack delete removes exactly the stack's administrators and grants, then nothing", func(t *testing.T, a *account) {
		convergedAccount(t, a)
		before := grantsByPrincipal(t, a)
		if before[workflowRole] != 3 || before[databaseStepRole] != 1 || before[otherAnalyst] != 2 {
			t.Fatalf("converged account has grants %v", before)
		}
		id, data, err := cleanupStep(a).Handler(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...))
		if err != nil || id != CleanupPhysicalID {
			t.Fatalf("id %q err %v", id, err)
		}
		if got := adminsNow(t, a); !slices.Equal(got, []string{existingAdmin, configuredAdmin}) {
			t.Fatalf("admins after delete = %v; want only the ones that are not the stack's", got)
		}
		after := grantsByPrincipal(t, a)
		if want := map[string]int{otherAnalyst: 2}; fmt.Sprint(after) != fmt.Sprint(want) {
			t.Fatalf("grants after delete = %v; want only the configured analyst's %v", after, want)
		}
		if changes := fmt.Sprint(data["Changes"]); !strings.Contains(changes, "DATA_LOCATION_ACCESS on "+locationARN+" from "+workflowRole) ||
			!strings.Contains(changes, "removed data lake administrator "+stepRole) {
			t.Fatalf("reported changes %q", changes)
		}
		// The registered location, LF-tags and databases stay for a redeploy.
		if _, err := a.SeedLF.DescribeResource(ctx(), &lf.DescribeResourceInput{ResourceArn: aws.String(locationARN)}); err != nil {
			t.Fatalf("location deregistered: %v", err)
		}
		if got := lfTagValues(t, a, "source"); !slices.Equal(got, []string{"product"}) {
			t.Fatalf("LF-tag source = %v", got)
		}
		// A retried Delete finds nothing to do.
		a.markCalls()
		if _, _, err := cleanupStep(a).Handler(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...)); err != nil {
			t.Fatal(err)
		}
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("second delete made mutating calls %v", m)
		}
	}},
	{"create and update only check the properties", func(t *testing.T, a *account) {
		for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
			if id, _, err := cleanupStep(a).Handler(ctx(), cleanupEvent(kind, stackRoles...)); err != nil || id != CleanupPhysicalID {
				t.Fatalf("%s: id %q err %v", kind, id, err)
			}
			_, _, err := cleanupStep(a).Handler(ctx(), cleanupEvent(kind))
			wantErr[*steperr.InvalidInputError](t, err, CleanupRoleARNsProperty)
		}
		if calls := a.since(); len(calls) != 0 {
			t.Fatalf("create and update made calls %v", calls)
		}
	}},
	{"a failure never fails the stack deletion", func(t *testing.T, a *account) {
		convergedAccount(t, a)
		a.LF.inject("GetDataLakeSettings", apiErr("AccessDeniedException", "not authorized"), 1)
		log, buf := logBuffer()
		step := cleanupStep(a)
		step.Log = log
		if _, _, err := step.Handler(ctx(), cleanupEvent(cfn.RequestDelete, stackRoles...)); err != nil {
			t.Fatalf("delete failed: %v; CloudFormation would then fail the stack's deletion", err)
		}
		if !strings.Contains(buf.String(), "stack-delete cleanup incomplete") || !strings.Contains(buf.String(), "GetDataLakeSettings") {
			t.Fatalf("log does not report what is left:\n%s", buf.String())
		}
	}},
}

// The revoke on a grant that is already gone answers "Grantee has no
// permissions" on Lake Formation (moto never does): done, not an error.
func TestStackCleanupRevokeAlreadyGone(t *testing.T) {
	a := newAccount(t)
	convergedAccount(t, a)
	a.LF.inject("RevokePermissions", apiErr("InvalidInputException", "No permissions revoked. Grantee has no permissions and no grantable permissions on resource"), 1)
	changes, err := cleanupStep(a).Remove(ctx(), stackRoles)
	if err != nil {
		t.Fatal(err)
	}
	if got := adminsNow(t, a); !slices.Equal(got, []string{existingAdmin, configuredAdmin}) || len(changes) == 0 {
		t.Fatalf("admins %v, changes %q", got, changes)
	}
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
	a := newAccount(t)
	convergedAccount(t, a)
	step := cleanupStep(a)
	step.LF = &grantOptionOnlyLF{faultyLF: a.LF, role: stackRoles[0]}
	if _, err := step.Remove(ctx(), stackRoles); err != nil {
		t.Fatalf("cleanup with a grant-option-only row: %v", err)
	}
}
