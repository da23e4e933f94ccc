package lakeformation

// The emulator scenarios of GrantTagPermissions (see steps_test.go).

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

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

// seedGrant grants (unrecorded) perms on the one-tag expression key=value
// of resource type rt to who.
func seedGrant(t *testing.T, a *account, who string, rt types.ResourceType, key, value string, perms ...types.Permission) {
	t.Helper()
	if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
		Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(who)},
		Resource:    TagGrant{ResourceType: rt, Tag: config.TagRef{Key: key, Value: value}}.resource(),
		Permissions: perms,
	}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
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
	// issue 17: convergence against what a principal may already hold. Each
	// seeds one near miss of an access-model grant, and the step must make
	// exactly the access-model grant.
	{"a grant on another value of the same tag is repaired", func(t *testing.T, a *account) {
		seedGrant(t, a, analystRole, types.ResourceTypeTable, "source", "other", types.PermissionSelect, types.PermissionDescribe)
		changes := mustRun(t, grantStep(a))
		if !slices.Contains(changes, "granted SELECT+DESCRIBE on TABLE with source=product to "+analystRole) {
			t.Fatalf("changes = %q", changes)
		}
		if got := allGrants(t, a)[analystRole+" TABLE source=product"]; !slices.Equal(got, []types.Permission{"DESCRIBE", "SELECT"}) {
			t.Fatalf("analyst's grant on source=product tables = %v", got)
		}
		converges(t, a, grantStep(a))
	}},
	{"a grant on another resource type is repaired", func(t *testing.T, a *account) {
		// SELECT+DESCRIBE on databases with the tag does not give tables.
		seedGrant(t, a, analystRole, types.ResourceTypeDatabase, "source", "product", types.PermissionDescribe)
		changes := mustRun(t, grantStep(a))
		if !slices.Contains(changes, "granted SELECT+DESCRIBE on TABLE with source=product to "+analystRole) || slices.Contains(changes, "granted DESCRIBE on DATABASE with source=product to "+analystRole) {
			t.Fatalf("changes = %q; want the table grant, not the database one again", changes)
		}
		converges(t, a, grantStep(a))
	}},
	{"a grant with fewer permissions is completed", func(t *testing.T, a *account) {
		seedGrant(t, a, workflowRole, types.ResourceTypeTable, "maintenance", "crawler", types.PermissionSelect)
		changes := mustRun(t, grantStep(a))
		if !slices.Contains(changes, "granted ALL on TABLE with maintenance=crawler to "+workflowRole) {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, grantStep(a))
	}},
	{"a whole grant revoked by hand is repaired", func(t *testing.T, a *account) {
		mustRun(t, grantStep(a))
		if _, err := a.SeedLF.RevokePermissions(ctx(), &lf.RevokePermissionsInput{
			Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(otherAnalyst)},
			Resource:    TagGrant{ResourceType: types.ResourceTypeTable, Tag: analystTag}.resource(),
			Permissions: []types.Permission{types.PermissionSelect, types.PermissionDescribe},
		}); err != nil {
			t.Fatal(err)
		}
		if _, ok := allGrants(t, a)[otherAnalyst+" TABLE source=product"]; ok {
			t.Fatal("the revoke left the grant")
		}
		a.markCalls()
		changes := mustRun(t, grantStep(a))
		if !slices.Equal(changes, []string{"granted SELECT+DESCRIBE on TABLE with source=product to " + otherAnalyst}) {
			t.Fatalf("changes = %q; want exactly the revoked grant again", changes)
		}
		converges(t, a, grantStep(a))
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

// ---- DESCRIBE on the default database (Athena) ----

// athenaStep is grantStep with the analysts as Athena readers, as the
// wiring derives them from the grants.
func athenaStep(a *account) *GrantTagPermissions {
	step := grantStep(a)
	step.AthenaReaders = AthenaReaders(step.Grants, analystTag)
	return step
}

// defaultGrants reads (unrecorded) every grant on the default database as
// "principal permissions grantable".
func defaultGrants(t *testing.T, a *account) []string {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(DefaultDatabase)}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range out.PrincipalResourcePermissions {
		got = append(got, fmt.Sprintf("%s %v grantable %v", aws.ToString(p.Principal.DataLakePrincipalIdentifier), p.Permissions, p.PermissionsWithGrantOption))
	}
	slices.Sort(got)
	return got
}

// noDefaultDatabaseLF answers as Lake Formation does in an account without
// a default database: GrantPermissions on it (and, with onList, the
// listing of its grants) EntityNotFoundException; moto and the fake grant
// on any database name.
type noDefaultDatabaseLF struct {
	*faultyLF
	onList bool
}

func onDefault(r *types.Resource) bool {
	return r != nil && r.Database != nil && aws.ToString(r.Database.Name) == DefaultDatabase
}

func (c *noDefaultDatabaseLF) GrantPermissions(ctx context.Context, in *lf.GrantPermissionsInput, o ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error) {
	if onDefault(in.Resource) {
		return nil, apiErr("EntityNotFoundException", "Database default not found.")
	}
	return c.faultyLF.GrantPermissions(ctx, in, o...)
}

func (c *noDefaultDatabaseLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	if c.onList && onDefault(in.Resource) {
		return nil, apiErr("EntityNotFoundException", "Database default not found.")
	}
	return c.faultyLF.ListPermissions(ctx, in, o...)
}

// defaultDatabaseScenarios are GrantTagPermissions' paths of DESCRIBE on
// the default database.
var defaultDatabaseScenarios = []scenario{
	{"Athena readers get DESCRIBE on the default database, nothing more, then converged", func(t *testing.T, a *account) {
		changes := mustRun(t, athenaStep(a))
		for _, who := range []string{analystRole, otherAnalyst} {
			if want := "granted DESCRIBE on database default to " + who + " (Athena requires it)"; !slices.Contains(changes, want) {
				t.Errorf("changes %q lack %q", changes, want)
			}
		}
		// DESCRIBE only: no grant option, not the workflow role.
		want := []string{analystRole + " [DESCRIBE] grantable []", otherAnalyst + " [DESCRIBE] grantable []"}
		if got := defaultGrants(t, a); !slices.Equal(got, want) {
			t.Fatalf("grants on default:\n got %q\nwant %q", got, want)
		}
		converges(t, a, athenaStep(a))
	}},
	{"DESCRIBE or ALL on default already held is left as it is", func(t *testing.T, a *account) {
		for who, perm := range map[string]types.Permission{analystRole: types.PermissionDescribe, otherAnalyst: types.PermissionAll} {
			if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
				Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(who)},
				Resource:  &types.Resource{Database: &types.DatabaseResource{Name: aws.String(DefaultDatabase)}}, Permissions: []types.Permission{perm},
			}); err != nil {
				t.Fatal(err)
			}
		}
		a.markCalls()
		for _, c := range mustRun(t, athenaStep(a)) {
			if strings.Contains(c, "database default") {
				t.Fatalf("changed %q; the grants on default were in place", c)
			}
		}
	}},
	{"no default database: nothing granted on it, the run goes on and says so", func(t *testing.T, a *account) {
		for _, onList := range []bool{false, true} {
			log, buf := logBuffer()
			step := athenaStep(a)
			step.LF, step.Log = &noDefaultDatabaseLF{faultyLF: a.LF, onList: onList}, log
			changes, err := step.Run(ctx())
			if err != nil {
				t.Fatalf("onList=%v: %v; an account without default must not fail the run", onList, err)
			}
			for _, c := range changes {
				if strings.Contains(c, "database default") {
					t.Fatalf("onList=%v: changes %q", onList, changes)
				}
			}
			if !strings.Contains(buf.String(), "no database default") {
				t.Fatalf("onList=%v: log %q does not say default is missing", onList, buf.String())
			}
		}
		if got := defaultGrants(t, a); len(got) != 0 {
			t.Fatalf("grants on default %q", got)
		}
		if got := allGrants(t, a); len(got) != 6 {
			t.Fatalf("the tag grants %v; want all 6", got)
		}
	}},
	{"a configured analyst refused on default names its setting", func(t *testing.T, a *account) {
		createPrincipals(t, a, workflowRole, analystRole) // otherAnalyst does not exist
		mustRun(t, grantStep(a))                          // the tag grants are in place: only default is left
		step := athenaStep(a)
		step.LF = &invalidPrincipalLF{faultyLF: a.LF, principal: otherAnalyst}
		_, err := step.Run(ctx())
		if ce := wantErr[*steperr.ConfigError](t, err, otherAnalyst, AnalystsSetting); ce.Field != AnalystsSetting {
			t.Fatalf("field %q", ce.Field)
		}
	}},
}

// TestAthenaReadersAreWhoReadsTheLake: the analysts (the stack's role and
// the configured ones) and the governance reader personas query through
// Athena; the workflow role reads through Glue and is not one.
func TestAthenaReadersAreWhoReadsTheLake(t *testing.T) {
	reader := "arn:aws:iam::" + acct + ":role/finance-reader"
	gov := access.Governance{Enabled: true, Sensitivity: governance(), AnalystValues: []string{"public"},
		Readers: []access.Reader{{Name: "finance", PrincipalARNs: []string{reader, analystRole}, Values: []string{"internal"}}}}
	grants, _ := GovernedGrants(AccessGrants(workflowRole, workflowTag, []string{analystRole, otherAnalyst}, analystTag, otherAnalyst), analystTag, gov)
	got := AthenaReaders(grants, analystTag)
	want := []AthenaReader{
		{Principal: analystRole, Origin: StackRole(AnalystRoleResource)},
		{Principal: otherAnalyst, Origin: Configured(AnalystsSetting)},
		{Principal: reader, Origin: Configured(access.ReadersSetting(0))},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Athena readers\n got %+v\nwant %+v", got, want)
	}
}
