package lambdaenv

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func TestReadsValuesAndReportsEveryProblemAtOnce(t *testing.T) {
	r := FromMap(map[string]string{
		"NAME":    "kthr01",
		"LIST":    "a, b,,c",
		"COUNT":   "x",
		"FLAG":    "maybe",
		"RATIO":   "0.5",
		"JSONVAL": `{"k":1}`,
	})
	if got := r.String("NAME"); got != "kthr01" {
		t.Errorf("String = %q", got)
	}
	if got := r.List("LIST"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("List = %v", got)
	}
	if got := r.Float("RATIO"); got != 0.5 {
		t.Errorf("Float = %v", got)
	}
	var obj map[string]int
	r.JSON("JSONVAL", &obj)
	if obj["k"] != 1 {
		t.Errorf("JSON = %v", obj)
	}
	if got := r.Optional("ABSENT", "def"); got != "def" {
		t.Errorf("Optional = %q", got)
	}
	if len(r.OptionalList("ABSENT")) != 0 {
		t.Error("OptionalList of an absent variable is not empty")
	}
	if r.Err() != nil {
		t.Fatalf("no problem yet, got %v", r.Err())
	}
	r.String("MISSING")
	r.Int("COUNT")
	r.Bool("FLAG", false)
	err := r.Err()
	var ce *steperr.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want ConfigError, got %T %v", err, err)
	}
	for _, want := range []string{"MISSING is not set", `COUNT="x" is not a whole number`, `FLAG="maybe" is not true or false`, "make deploy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err.Error(), want)
		}
	}
}

// Names is what the template contract test compares with the template's
// environment: every variable read, set or not, once, in order.
func TestNamesListsEveryVariableRead(t *testing.T) {
	r := FromMap(map[string]string{"A": "1", "B": "x"})
	r.String("A")
	r.Optional("C", "def")
	r.Int("A")
	r.Bool("D", false)
	if got, want := r.Names(), []string{"A", "C", "D"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}
