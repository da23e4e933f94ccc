package lakeformation

// The emulator scenarios of GrantTagPermissions with governance, added to
// the grant-tag-permissions scenarios (their calls are in its golden IAM
// actions). moto stores and lists a two-condition LF-tag expression as
// sent; it never evaluates one (pkg/access does, by the documented rules).

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/access"
)

func init() {
	steps["grant-tag-permissions"] = append(steps["grant-tag-permissions"], governedGrantScenarios...)
}

const piiReader = "arn:aws:iam::" + acct + ":role/pii-reader"

func governedGrantStep(a *account) *GrantTagPermissions {
	gov := access.Governance{Enabled: true, Sensitivity: governance(), AnalystValues: []string{"public", "internal"},
		Readers: []access.Reader{{Name: "pii-readers", PrincipalARNs: []string{piiReader}, Values: []string{"public", "internal", "pii"}}}}
	step := grantStep(a)
	step.Grants, step.Superseded = GovernedGrants(step.Grants, analystTag, gov)
	step.Revoke = a.LF
	return step
}

// expressionGrants lists every LF-tag-policy grant as "principal TYPE
// expression" (conditions as sent, values sorted) to its permissions.
func expressionGrants(t *testing.T, a *account) map[string]string {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, p := range out.PrincipalResourcePermissions {
		if p.Resource.LFTagPolicy == nil {
			continue
		}
		var conds []string
		for _, e := range p.Resource.LFTagPolicy.Expression {
			vals := slices.Clone(e.TagValues)
			sort.Strings(vals)
			conds = append(conds, aws.ToString(e.TagKey)+"="+strings.Join(vals, ","))
		}
		perms := make([]string, 0, len(p.Permissions))
		for _, x := range p.Permissions {
			perms = append(perms, string(x))
		}
		sort.Strings(perms)
		if len(perms) == 0 {
			continue
		}
		m[fmt.Sprintf("%s %s %s", aws.ToString(p.Principal.DataLakePrincipalIdentifier), p.Resource.LFTagPolicy.ResourceType, strings.Join(conds, " AND "))] = strings.Join(perms, "+")
	}
	return m
}

var governedGrantScenarios = []scenario{
	{"governance: analysts narrowed to their sensitivity values, readers added, workflow role untouched; converged", func(t *testing.T, a *account) {
		createPrincipals(t, a, workflowRole, analystRole, otherAnalyst, piiReader)
		mustRun(t, governedGrantStep(a))
		want := map[string]string{
			workflowRole + " DATABASE maintenance=crawler":                          "ALL",
			workflowRole + " TABLE maintenance=crawler":                             "ALL",
			analystRole + " DATABASE source=product":                                "DESCRIBE",
			analystRole + " TABLE source=product AND sensitivity=internal,public":   "DESCRIBE+SELECT",
			otherAnalyst + " DATABASE source=product":                               "DESCRIBE",
			otherAnalyst + " TABLE source=product AND sensitivity=internal,public":  "DESCRIBE+SELECT",
			piiReader + " DATABASE source=product":                                  "DESCRIBE",
			piiReader + " TABLE source=product AND sensitivity=internal,pii,public": "DESCRIBE+SELECT",
		}
		if got := expressionGrants(t, a); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("grants\n%v\nwant\n%v", got, want)
		}
		converges(t, a, governedGrantStep(a))
	}},
	{"governance: turning it on revokes the analysts' grant on every column, after granting the narrowed one", func(t *testing.T, a *account) {
		createPrincipals(t, a, workflowRole, analystRole, otherAnalyst, piiReader)
		mustRun(t, grantStep(a)) // the access model before governance
		a.markCalls()
		changes := mustRun(t, governedGrantStep(a))
		calls := a.mutatingSince()
		lastGrant := -1
		firstRevoke := len(calls)
		for i, c := range calls {
			if c == "lakeformation:GrantPermissions" {
				lastGrant = i
			}
			if c == "lakeformation:RevokePermissions" && i < firstRevoke {
				firstRevoke = i
			}
		}
		if firstRevoke == len(calls) || lastGrant > firstRevoke {
			t.Fatalf("calls %v: want every grant before the first revoke", calls)
		}
		revoked := 0
		for _, c := range changes {
			if strings.HasPrefix(c, "revoked SELECT+DESCRIBE on TABLE with source=product to ") {
				revoked++
			}
		}
		if revoked != 2 {
			t.Fatalf("changes %q: want the two analysts' grants on every column revoked", changes)
		}
		got := expressionGrants(t, a)
		for _, p := range []string{analystRole, otherAnalyst} {
			if _, still := got[p+" TABLE source=product"]; still {
				t.Fatalf("%s keeps the grant on every column: %v", p, got)
			}
			if got[p+" DATABASE source=product"] != "DESCRIBE" {
				t.Fatalf("%s lost the database grant: %v", p, got)
			}
		}
		converges(t, a, governedGrantStep(a))
	}},
	{"governance off: GovernedGrants leaves the access model as it was", func(t *testing.T, a *account) {
		base := grantStep(a).Grants
		out, superseded := GovernedGrants(base, analystTag, access.Governance{Enabled: false, Sensitivity: governance()})
		if len(superseded) != 0 || fmt.Sprint(out) != fmt.Sprint(base) {
			t.Fatalf("off: %v, superseded %v", out, superseded)
		}
	}},
}
