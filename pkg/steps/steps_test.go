package steps

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// The registry names every step once, as stepcontract.Functions does, in
// the same order.
func TestRegistryIsEveryFunction(t *testing.T) {
	var names []string
	for _, d := range All {
		if d.Wire == nil {
			t.Errorf("%s has no wiring", d.Name)
		}
		names = append(names, d.Name)
	}
	if !slices.Equal(names, stepcontract.Functions) {
		t.Fatalf("registry %v, stepcontract.Functions %v", names, stepcontract.Functions)
	}
	if _, ok := ByName("no-such-step"); ok {
		t.Error("ByName found a step that does not exist")
	}
}

// Each functions/<name>/main.go runs the registered Definition of that
// name: its main is the one statement steprun.Main(<pkg>.<Var>), and
// <pkg>.<Var> is the element of All whose Name is <name>. The elements of
// All are read from this package's source, in order, beside their values,
// so the test starts exactly what each Lambda starts.
func TestEachFunctionRunsItsRegisteredStep(t *testing.T) {
	registered := registrySource(t)
	if len(registered) != len(All) {
		t.Fatalf("steps.go lists %d elements, All has %d", len(registered), len(All))
	}
	byFolder := map[string]string{}
	for i, d := range All {
		byFolder[d.Name] = registered[i]
	}
	mains, err := filepath.Glob(filepath.Join("..", "..", "functions", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions/*/main.go: %v", err)
	}
	for _, path := range mains {
		folder := filepath.Base(filepath.Dir(path))
		want, ok := byFolder[folder]
		if !ok {
			t.Errorf("functions/%s is not in the registry", folder)
			continue
		}
		if got := mainRuns(t, path); got != want {
			t.Errorf("functions/%s/main.go runs %s, the registry's %s is %s", folder, got, folder, want)
		}
	}
}

// registrySource is the elements of All as written in steps.go:
// "<import path>.<name>".
func registrySource(t *testing.T) []string {
	f := parse(t, "steps.go")
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "All" {
			return true
		}
		for _, e := range spec.Values[0].(*ast.CompositeLit).Elts {
			out = append(out, qualified(t, f, e))
		}
		return false
	})
	return out
}

// mainRuns is the argument of the steprun.Main call that is main's one
// statement: "<import path>.<name>".
func mainRuns(t *testing.T, path string) string {
	f := parse(t, path)
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "main" {
			continue
		}
		if len(fn.Body.List) != 1 {
			t.Errorf("%s: main has %d statements, want the one steprun.Main call", path, len(fn.Body.List))
			return ""
		}
		call, ok := fn.Body.List[0].(*ast.ExprStmt).X.(*ast.CallExpr)
		if !ok || qualified(t, f, call.Fun) != "github.com/lakeforge/lakeforge/pkg/steprun.Main" || len(call.Args) != 1 {
			t.Errorf("%s: main is no steprun.Main(<step>) call", path)
			return ""
		}
		return qualified(t, f, call.Args[0])
	}
	t.Errorf("%s has no main", path)
	return ""
}

// qualified is a selector pkg.Name with pkg resolved through f's imports.
func qualified(t *testing.T, f *ast.File, e ast.Expr) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	ident, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == ident.Name {
			return path + "." + sel.Sel.Name
		}
	}
	return ""
}

func parse(t *testing.T, path string) *ast.File {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
