package access

import (
	"slices"
	"strings"
	"testing"
)

// The evaluation rules of the Lake Formation Developer Guide, one case per
// documented statement (expression.go lists them with their sources). The
// expected outcomes are the documents' words, not this package's tables.
func TestEvaluateFollowsTheDocumentedRules(t *testing.T) {
	analyst := Expression{{Key: "source", Values: []string{"product"}}, {Key: "sensitivity", Values: []string{"public", "internal"}}}
	cases := []struct {
		name                  string
		db, table, column     Tags
		expr                  Expression
		match                 bool
		matchedOrFailedPhrase string
	}{
		// Rule 1: "a column inherits a LF-Tag from a table ... a table inherits
		// a LF-Tag from a database".
		{"column inherits the database tag", Tags{"source": "product"}, nil, Tags{"sensitivity": "public"}, analyst, true, "source=product (inherited from the database)"},
		{"column inherits the table tag", nil, Tags{"source": "product"}, Tags{"sensitivity": "internal"}, analyst, true, "source=product (inherited from the table)"},
		// Rule 1: "you can override the inherited value by assigning a new
		// value to the LF-Tag key".
		{"column tag overrides the table's for the same key", Tags{"source": "product"}, Tags{"sensitivity": "public"}, Tags{"sensitivity": "pii"}, analyst, false, "sensitivity=pii (assigned to the column)"},
		{"column tag overrides the database's for the same key", Tags{"source": "product", "sensitivity": "pii"}, nil, Tags{"sensitivity": "public"}, analyst, true, "sensitivity=public (assigned to the column)"},
		{"table tag overrides the database's, column inherits the table's", Tags{"source": "product", "sensitivity": "public"}, Tags{"sensitivity": "pii"}, nil, analyst, false, "sensitivity=pii (inherited from the table)"},
		{"table override of the analyst tag hides the column", Tags{"source": "product"}, Tags{"source": "other"}, Tags{"sensitivity": "public"}, analyst, false, "source=other (inherited from the table)"},
		// Rule 3: "can access only Data Catalog resources ... that are
		// assigned module=sales and either division=consumer or
		// division=commercial".
		{"AND across keys: one key missing", Tags{"source": "product"}, nil, nil, analyst, false, "carries no sensitivity tag"},
		{"OR within a key: second value", Tags{"source": "product"}, nil, Tags{"sensitivity": "internal"}, analyst, true, "sensitivity=internal"},
		{"value outside the list", Tags{"source": "product"}, nil, Tags{"sensitivity": "unclassified"}, analyst, false, "sensitivity=unclassified (assigned to the column) is not sensitivity in (public, internal)"},
		{"single-key expression ignores other keys", Tags{"maintenance": "crawler"}, nil, Tags{"sensitivity": "pii"}, Expression{{Key: "maintenance", Values: []string{"crawler"}}}, true, "maintenance=crawler (inherited from the database)"},
		{"an empty expression matches nothing", Tags{"source": "product"}, nil, nil, Expression{}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.expr.Evaluate(Inherit(c.db, c.table, c.column), LevelColumn)
			if v.Match != c.match {
				t.Fatalf("match = %v, want %v (%+v)", v.Match, c.match, v)
			}
			text := strings.Join(v.Matched, "; ") + v.Failed
			if !strings.Contains(text, c.matchedOrFailedPhrase) {
				t.Fatalf("verdict %q does not say %q", text, c.matchedOrFailedPhrase)
			}
		})
	}
}

// Rule 5: "If the granted permission is ALL (Super), then only SELECT and
// DESCRIBE are granted"; ALTER, DROP, INSERT or DELETE: "only DESCRIBE".
func TestPartialColumnGrants(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{[]string{"ALL"}, []string{"SELECT", "DESCRIBE"}},
		{[]string{"SELECT", "DESCRIBE"}, []string{"SELECT", "DESCRIBE"}},
		{[]string{"ALTER", "DROP", "INSERT", "DELETE"}, []string{"DESCRIBE"}},
		{[]string{"SELECT", "INSERT"}, []string{"SELECT", "DESCRIBE"}},
	}
	for _, c := range cases {
		if got := Partial(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Partial(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestCanonicalIgnoresOrder(t *testing.T) {
	a := Expression{{Key: "source", Values: []string{"product"}}, {Key: "sensitivity", Values: []string{"public", "internal"}}}
	b := Expression{{Key: "sensitivity", Values: []string{"internal", "public"}}, {Key: "source", Values: []string{"product"}}}
	if a.Canonical() != b.Canonical() {
		t.Fatalf("%q != %q", a.Canonical(), b.Canonical())
	}
	if a.String() != "source=product AND sensitivity in (public, internal)" {
		t.Fatalf("String = %q", a.String())
	}
}
