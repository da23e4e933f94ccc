package lakeformation

// The emulator scenarios of RegisterLocation (see steps_test.go).

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// ---- RegisterLocation ----

func locationStep(a *account) *RegisterLocation {
	return &RegisterLocation{LF: a.LF, Principals: NewPrincipals(a.IAM, workflowRole), Retry: fastRetry(), LocationARN: locationARN, RoleARN: slrARN, WorkflowRoleARN: workflowRole}
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
	{"the workflow role deleted outside CloudFormation: redeploy, not retried", func(t *testing.T, a *account) {
		// Lake Formation answers "Invalid principal" for a deleted role
		// (moto accepts any principal: injected); the step asks IAM.
		a.LF.inject("GrantPermissions", apiErr("InvalidInputException", "Invalid principal: "+workflowRole), 1000)
		_, err := locationStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, workflowRole, "WorkflowRole")
		if !strings.Contains(pe.Fix, "redeploy") {
			t.Fatalf("fix %q", pe.Fix)
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
