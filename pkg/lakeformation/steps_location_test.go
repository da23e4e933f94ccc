package lakeformation

// The emulator scenarios of RegisterLocation (see steps_test.go).

import (
	"context"
	"encoding/json"
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
	return &RegisterLocation{LF: a.LF, Principals: NewPrincipals(a.IAM, workflowRole), Retry: fastRetry(), LocationARN: locationARN, RoleARN: registrationRole, WorkflowRoleARN: workflowRole}
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

// registeredRole is the role moto holds for the location's registration.
func registeredRole(t *testing.T, a *account) string {
	t.Helper()
	out, err := a.SeedLF.DescribeResource(ctx(), &lf.DescribeResourceInput{ResourceArn: aws.String(locationARN)})
	if err != nil {
		t.Fatalf("location not registered: %v", err)
	}
	return aws.ToString(out.ResourceInfo.RoleArn)
}

// awsString shows a request's pointer fields as values.
func awsString(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(raw)
}

// serviceLinkedNamingLF answers DescribeResource of a registration moto
// holds without a role as Lake Formation does for a service-linked one:
// RoleArn names the service-linked role; HybridAccessEnabled as set.
type serviceLinkedNamingLF struct {
	*faultyLF
	hybrid bool
}

func (c *serviceLinkedNamingLF) DescribeResource(ctx context.Context, in *lf.DescribeResourceInput, o ...func(*lf.Options)) (*lf.DescribeResourceOutput, error) {
	out, err := c.faultyLF.DescribeResource(ctx, in, o...)
	if err == nil && out.ResourceInfo != nil && out.ResourceInfo.RoleArn == nil {
		out.ResourceInfo.RoleArn = aws.String(slrARN)
		out.ResourceInfo.HybridAccessEnabled = aws.Bool(c.hybrid)
		out.ResourceInfo.WithFederation = aws.Bool(false)
	}
	return out, err
}

// registerWithServiceLinkedRole is what an earlier lakeforge deployment
// did: the location registered with the service-linked role and the
// workflow role's DATA_LOCATION_ACCESS granted.
func registerWithServiceLinkedRole(t *testing.T, a *account) {
	t.Helper()
	if _, err := a.SeedLF.RegisterResource(ctx(), &lf.RegisterResourceInput{ResourceArn: aws.String(locationARN), UseServiceLinkedRole: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
		Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(workflowRole)},
		Resource:    &types.Resource{DataLocation: &types.DataLocationResource{ResourceArn: aws.String(locationARN)}},
		Permissions: []types.Permission{types.PermissionDataLocationAccess},
	}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
}

// TestMotoHasNoUpdateResource: moto 5.2.5 does not implement UpdateResource,
// so faultyLF applies it; when this fails, moto does, and the stand-in can go.
func TestMotoHasNoUpdateResource(t *testing.T) {
	a := newAccount(t)
	registerWithServiceLinkedRole(t, a)
	_, err := a.SeedLF.UpdateResource(ctx(), &lf.UpdateResourceInput{ResourceArn: aws.String(locationARN), RoleArn: aws.String(registrationRole)})
	if err == nil {
		t.Fatal("moto answers UpdateResource now: call it directly and drop faultyLF.UpdateResource")
	}
}

var locationScenarios = []scenario{
	{"registered with the service-linked role by an earlier deployment: moved in place, grants kept", func(t *testing.T, a *account) {
		registerWithServiceLinkedRole(t, a)
		changes := mustRun(t, locationStep(a))
		if len(changes) != 1 || !strings.Contains(changes[0], "moved the registration of "+locationARN+" to "+registrationRole+": it used the Lake Formation service-linked role") {
			t.Fatalf("changes = %q; want only the move", changes)
		}
		// UpdateResource, never DeregisterResource: the location stays
		// registered throughout, so the analysts' queries keep working.
		if m := a.mutatingSince(); !slices.Equal(m, []string{"lakeformation:UpdateResource"}) {
			t.Fatalf("mutating calls %v; want only UpdateResource", m)
		}
		want := lf.UpdateResourceInput{ResourceArn: aws.String(locationARN), RoleArn: aws.String(registrationRole)}
		if len(a.LF.updated) != 1 || awsString(a.LF.updated[0]) != awsString(want) {
			t.Fatalf("UpdateResource requests %+v; want %s", a.LF.updated, awsString(want))
		}
		if got := registeredRole(t, a); got != registrationRole {
			t.Fatalf("registered with %q after the move", got)
		}
		if g := locationGrants(t, a); len(g) != 1 {
			t.Fatalf("workflow role's grants after the move: %+v", g)
		}
		converges(t, a, locationStep(a))
	}},
	{"Lake Formation names the service-linked role: moved, hybrid access kept as it was", func(t *testing.T, a *account) {
		registerWithServiceLinkedRole(t, a)
		step := locationStep(a)
		step.LF = &serviceLinkedNamingLF{faultyLF: a.LF, hybrid: true}
		if changes := mustRun(t, step); len(changes) != 1 || !strings.Contains(changes[0], "moved") {
			t.Fatalf("changes = %q", changes)
		}
		want := lf.UpdateResourceInput{ResourceArn: aws.String(locationARN), RoleArn: aws.String(registrationRole), HybridAccessEnabled: aws.Bool(true), WithFederation: aws.Bool(false)}
		if len(a.LF.updated) != 1 || awsString(a.LF.updated[0]) != awsString(want) {
			t.Fatalf("UpdateResource requests %+v; want %s", a.LF.updated, awsString(want))
		}
	}},
	{"the move refused: permanent, the location stays registered, the fix names the command", func(t *testing.T, a *account) {
		registerWithServiceLinkedRole(t, a)
		a.LF.inject("UpdateResource", apiErr("AccessDeniedException", "not authorized to perform iam:PassRole"), 1)
		_, err := locationStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, "UpdateResource")
		if !strings.Contains(pe.Fix, "aws lakeformation update-resource --resource-arn "+locationARN+" --role-arn "+registrationRole) {
			t.Fatalf("fix %q", pe.Fix)
		}
		if registeredRole(t, a) != "" {
			t.Fatal("the service-linked registration was changed")
		}
	}},
	{"fresh then converged", func(t *testing.T, a *account) {
		if changes := mustRun(t, locationStep(a)); len(changes) != 2 {
			t.Fatalf("changes = %q; want registration and grant", changes)
		}
		// issue 17: registered with the stack's registration role, never
		// the service-linked role (Glue 5.0 full table access, like EMR,
		// needs a user-defined one).
		if got := registeredRole(t, a); got != registrationRole {
			t.Fatalf("location registered with %q; want the registration role %s", got, registrationRole)
		}
		want := lf.RegisterResourceInput{ResourceArn: aws.String(locationARN), RoleArn: aws.String(registrationRole), UseServiceLinkedRole: aws.Bool(false)}
		if len(a.LF.registered) != 1 || awsString(a.LF.registered[0]) != awsString(want) {
			t.Fatalf("RegisterResource requests %+v; want one %s", a.LF.registered, awsString(want))
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
	{"registered with a destroyed deployment's registration role: moved to this one", func(t *testing.T, a *account) {
		// make destroy keeps the registration; its role is gone (IAM
		// answers NoSuchEntity), so Lake Formation cannot use it.
		old := "arn:aws:iam::" + acct + ":role/lakeforge-old-registration"
		if _, err := a.SeedLF.RegisterResource(ctx(), &lf.RegisterResourceInput{ResourceArn: aws.String(locationARN), RoleArn: aws.String(old)}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		changes := mustRun(t, locationStep(a))
		if len(changes) != 2 || !strings.Contains(changes[0], old+", which IAM says no longer exists") || registeredRole(t, a) != registrationRole {
			t.Fatalf("changes = %q, registered with %s", changes, registeredRole(t, a))
		}
	}},
	{"registered with another role is reported", func(t *testing.T, a *account) {
		other := "arn:aws:iam::" + acct + ":role/someone-elses-role"
		createPrincipals(t, a, other)
		if _, err := a.SeedLF.RegisterResource(ctx(), &lf.RegisterResourceInput{ResourceArn: aws.String(locationARN), RoleArn: aws.String(other)}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		_, err := locationStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, other, registrationRole)
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
