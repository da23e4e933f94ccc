package statemachine

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

type retrier struct {
	ErrorEquals     []string
	IntervalSeconds *float64
	MaxAttempts     *int
	BackoffRate     *float64
	MaxDelaySeconds *float64
	JitterStrategy  string
}

type catcher struct {
	ErrorEquals []string
	ResultPath  string
	Next        string
}

type aslState struct {
	Type     string
	Resource string
	Retry    []retrier
	Catch    []catcher
}

func states(t *testing.T) map[string]aslState {
	t.Helper()
	var def struct{ States map[string]aslState }
	if err := json.Unmarshal([]byte(Pipeline), &def); err != nil {
		t.Fatal(err)
	}
	return def.States
}

// exportedErrorTypes parses pkg/steperr and returns its exported types that
// have an Error method: what a handler can return.
func exportedErrorTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	dir := filepath.Join(repoRoot(), "pkg", "steperr")
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	withError := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.GenDecl:
					for _, sp := range d.Specs {
						if ts, ok := sp.(*ast.TypeSpec); ok && ts.Name.IsExported() {
							types[ts.Name.Name] = true
						}
					}
				case *ast.FuncDecl:
					if d.Recv == nil || d.Name.Name != "Error" || len(d.Recv.List) != 1 {
						continue
					}
					rt := d.Recv.List[0].Type
					if star, ok := rt.(*ast.StarExpr); ok {
						rt = star.X
					}
					if id, ok := rt.(*ast.Ident); ok {
						withError[id.Name] = true
					}
				}
			}
		}
	}
	var out []string
	for n := range types {
		if withError[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func TestNamesMatchTheErrorTypesOfSteperr(t *testing.T) {
	names := slices.Sorted(slices.Values(steperr.Names()))
	if got := exportedErrorTypes(t); !slices.Equal(got, names) {
		t.Fatalf("steperr.Names() = %v, but pkg/steperr declares error types %v: update Names()", names, got)
	}
}

func TestEveryErrorEqualsNameExists(t *testing.T) {
	known := exportedErrorTypes(t)
	for name, st := range states(t) {
		var used []string
		for _, r := range st.Retry {
			used = append(used, r.ErrorEquals...)
		}
		for _, c := range st.Catch {
			used = append(used, c.ErrorEquals...)
		}
		for _, e := range used {
			if strings.HasPrefix(e, "States.") || strings.HasPrefix(e, "Lambda.") {
				continue
			}
			if !slices.Contains(known, e) {
				t.Errorf("%s: ErrorEquals %q is no exported error type of pkg/steperr (%v)", name, e, known)
			}
		}
	}
}

var lambdaServiceErrors = []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}

func TestEveryStepErrorIsRetriedOrCaught(t *testing.T) {
	names := exportedErrorTypes(t)
	tasks := 0
	for name, st := range states(t) {
		if st.Type != "Task" || !strings.HasPrefix(st.Resource, "${") {
			continue
		}
		tasks++
		handled := map[string]bool{}
		for _, r := range st.Retry {
			for _, e := range r.ErrorEquals {
				handled[e] = true
			}
			if r.BackoffRate == nil || *r.BackoffRate < 1 || r.JitterStrategy != "FULL" || r.MaxDelaySeconds == nil || r.MaxAttempts == nil || r.IntervalSeconds == nil {
				t.Errorf("%s: retrier %v needs IntervalSeconds, MaxAttempts, BackoffRate, JitterStrategy FULL and MaxDelaySeconds", name, r.ErrorEquals)
			}
		}
		for _, e := range append(slices.Clone(lambdaServiceErrors), "TransientError") {
			if !handled[e] {
				t.Errorf("%s: %s is not retried", name, e)
			}
		}
		caughtAll := false
		for _, c := range st.Catch {
			for _, e := range c.ErrorEquals {
				handled[e] = true
				caughtAll = caughtAll || e == "States.ALL"
			}
			if c.Next != "DescribeFailure" || c.ResultPath != "$.failure."+name {
				t.Errorf("%s: catcher %v goes to %s with ResultPath %s; want DescribeFailure and $.failure.%s", name, c.ErrorEquals, c.Next, c.ResultPath, name)
			}
		}
		if !caughtAll {
			t.Errorf("%s: no States.ALL catcher", name)
		}
		for _, e := range names {
			if !handled[e] {
				t.Errorf("%s: a handler can return %s, but it is neither retried nor caught by name", name, e)
			}
		}
	}
	if tasks != 10 {
		t.Fatalf("%d Lambda tasks, want 10", tasks)
	}
}

// pascal mirrors infra/stack.PlaceholderName without importing the CDK.
func pascal(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func TestPlaceholdersMatchFunctionFolders(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join(repoRoot(), "functions"))
	if err != nil {
		t.Fatal(err)
	}
	byPlaceholder := map[string]string{}
	for _, d := range dirs {
		if d.IsDir() {
			byPlaceholder[pascal(d.Name())+"FunctionArn"] = d.Name()
		}
	}
	for _, p := range Placeholders(Pipeline) {
		if p == TopicPlaceholder {
			continue
		}
		fn, ok := byPlaceholder[p]
		if !ok {
			t.Errorf("placeholder ${%s} has no functions/<name> folder", p)
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot(), "functions", fn, "main.go")); err != nil {
			t.Errorf("functions/%s has no main.go", fn)
		}
	}
	for _, st := range states(t) {
		if st.Type == "Task" && !strings.HasPrefix(st.Resource, "${") && st.Resource != "arn:aws:states:::sns:publish" {
			t.Errorf("Task resource %q is neither a placeholder nor the SNS integration", st.Resource)
		}
	}
}
