package stack

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/lakeforge/lakeforge/pkg/iamactions"
)

// TestStepRolesAllowExactlyTheCalledActions compares, for every step Lambda
// of the stack, the IAM actions its handler calls (functions/<name>/testdata/
// iam-actions.txt, recorded by the function's tests) plus the permissions a
// service checks on behalf of those calls (PermissionsOnBehalfOfCalls) with
// the actions of its role's policy in the synthesized template, in both
// directions. The WriteOwnLogs statement every step gets is not compared.
func TestStepRolesAllowExactlyTheCalledActions(t *testing.T) {
	st := synth(t, shippedConfig(t))
	if len(st.Stack.Steps) == 0 {
		t.Fatal("the stack has no step functions")
	}
	policies := st.resources("AWS::IAM::Policy")
	for name, step := range st.Stack.Steps {
		t.Run(name, func(t *testing.T) {
			golden, err := iamactions.Read(filepath.Join(repoRoot(t), iamactions.Path(name)))
			if err != nil {
				t.Fatalf("%v: every function keeps the IAM actions its handler calls in %s (generate it with its tests and -update-iam-actions)", err, iamactions.Path(name))
			}
			want := map[string]bool{}
			for _, a := range golden {
				if slices.Contains(st.Stack.UngrantedCalls(name), a) {
					continue
				}
				want[a] = true
				for _, extra := range PermissionsOnBehalfOfCalls[a] {
					want[extra] = true
				}
			}
			roleID := st.Stack.GetLogicalId(step.Role().Node().DefaultChild().(awscdk.CfnElement))
			got := map[string]bool{}
			found := false
			for _, p := range policies {
				props := p["Properties"].(map[string]any)
				if !refersTo(props["Roles"], *roleID) {
					continue
				}
				found = true
				doc := props["PolicyDocument"].(map[string]any)
				for _, s := range doc["Statement"].([]any) {
					stmt := s.(map[string]any)
					if stmt["Sid"] == "WriteOwnLogs" {
						continue
					}
					for _, a := range asStrings(stmt["Action"]) {
						got[a] = true
					}
				}
			}
			if !found {
				t.Fatalf("no IAM policy attached to role %s", *roleID)
			}
			if missing, extra := diff(want, got), diff(got, want); len(missing) > 0 || len(extra) > 0 {
				t.Fatalf("role of %s:\n  called but not allowed: %v\n  allowed but never called: %v", name, missing, extra)
			}
		})
	}
}

// TestGoldenFilesBelongToSteps catches golden files of functions the stack
// does not deploy (a renamed function would otherwise keep an unchecked file).
func TestGoldenFilesBelongToSteps(t *testing.T) {
	st := synth(t, shippedConfig(t))
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "functions", "*", "testdata", "iam-actions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(f)))
		if _, ok := st.Stack.Steps[name]; !ok {
			if _, err := os.Stat(filepath.Join(repoRoot(t), "functions", name, "main.go")); err == nil {
				t.Errorf("functions/%s has a golden IAM file but the stack deploys no step %q", name, name)
			}
		}
	}
}

func refersTo(roles any, logicalID string) bool {
	list, _ := roles.([]any)
	for _, r := range list {
		if m, ok := r.(map[string]any); ok && m["Ref"] == logicalID {
			return true
		}
	}
	return false
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// diff returns the keys of a that are not in b, sorted.
func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
