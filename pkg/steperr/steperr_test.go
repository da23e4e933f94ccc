package steperr

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Normalize unwraps to the package's own type so that Step Functions sees
// its name, and turns anything else into a PermanentError.
func TestNormalizeKeepsTheTypeNameStepFunctionsSees(t *testing.T) {
	transient := &TransientError{Op: "lakeformation:GrantPermissions", Err: errors.New("Invalid principal")}
	wrapped := fmt.Errorf("grant: %w", transient)
	got := Normalize("grant", wrapped)
	if got != transient {
		t.Fatalf("Normalize(wrapped) = %T %v", got, got)
	}
	if name := reflect.TypeOf(got).Elem().Name(); name != "TransientError" {
		t.Fatalf("type name %s", name)
	}
	plain := Normalize("glue:GetConnection", errors.New("boom"))
	var pe *PermanentError
	if !errors.As(plain, &pe) || pe.Op != "glue:GetConnection" {
		t.Fatalf("Normalize(plain) = %T %v", plain, plain)
	}
	if Normalize("x", nil) != nil {
		t.Fatal("Normalize(nil) is not nil")
	}
}

func TestMessagesSayWhatToFix(t *testing.T) {
	cases := map[error]string{
		&PermanentError{Op: "glue:CreateDatabase", Err: errors.New("AccessDenied"), Fix: "allow it"}: "glue:CreateDatabase: AccessDenied. Fix: allow it",
		&ConfigError{Field: "ENV", Value: "x", Fix: "redeploy"}:                                      `ENV: "x": redeploy`,
		&InvalidInputError{Field: "detail.state", Fix: "Succeeded"}:                                  "invalid input: detail.state: Succeeded",
		&ImportFailedError{WorkflowName: "w", RunID: "r", Status: "COMPLETED", Failed: 1}:            "import workflow w run r ended COMPLETED with 1 failed, 0 timed-out and 0 stopped actions",
		&VerificationError{Problems: []string{"a", "b"}}:                                             "verification failed: a; b",
	}
	for err, want := range cases {
		if err.Error() != want {
			t.Errorf("%T: %q, want %q", err, err.Error(), want)
		}
	}
	if msg := (&TransientError{Op: "op", Err: errors.New("e"), Waited: "2m0s"}).Error(); !strings.Contains(msg, "for 2m0s") || !strings.Contains(msg, "retries") {
		t.Errorf("transient message %q", msg)
	}
}

// Names lists exactly the exported error types declared in this package.
func TestNamesListsEveryDeclaredErrorType(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "steperr.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			name := s.(*ast.TypeSpec).Name.Name
			if ast.IsExported(name) && strings.HasSuffix(name, "Error") {
				declared = append(declared, name)
			}
		}
	}
	slices.Sort(declared)
	if !slices.Equal(declared, Names()) {
		t.Fatalf("declared %v, Names() %v", declared, Names())
	}
}
