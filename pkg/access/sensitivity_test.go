package access

import (
	"errors"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func demoSensitivity(rules ...Rule) Sensitivity {
	return Sensitivity{Key: "sensitivity", Values: []string{"public", "internal", "pii", "unclassified"}, Unclassified: "unclassified",
		TablePrefix: "workflow_kthr01_", Rules: rules}
}

var lakeTables = []Table{
	{Name: "workflow_kthr01_customers", Columns: []Column{{Name: "id"}, {Name: "email"}, {Name: "phone_number"}, {Name: "nickname"}}},
	{Name: "workflow_kthr01_products", Columns: []Column{{Name: "id"}, {Name: "name"}, {Name: "support_phone"}}},
}

func classes(t *testing.T, cls []Classified) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range cls {
		out[c.Table+"."+c.Column] = c.Value
	}
	return out
}

func TestClassify(t *testing.T) {
	s := demoSensitivity(
		Rule{"pii", "%.email", "governance.columns.pii[0]"},
		Rule{"pii", "%phone%", "governance.columns.pii[1]"},
		Rule{"public", "products.%", "governance.columns.public[0]"},
		Rule{"internal", "products.support_phone", "governance.columns.internal[0]"},
		Rule{"public", "customers.id", "governance.columns.public[1]"},
	)
	cls, err := s.Classify(lakeTables)
	if err != nil {
		t.Fatal(err)
	}
	got := classes(t, cls)
	want := map[string]string{
		"workflow_kthr01_customers.id":           "public",
		"workflow_kthr01_customers.email":        "pii",
		"workflow_kthr01_customers.phone_number": "pii",
		// No rule: hidden until classified.
		"workflow_kthr01_customers.nickname": "unclassified",
		"workflow_kthr01_products.id":        "public",
		"workflow_kthr01_products.name":      "public",
		// products.% (public) and %phone% (pii) both match: the exact name
		// decides, and wins over patterns.
		"workflow_kthr01_products.support_phone": "internal",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	un := s.UnclassifiedOf(cls)
	if len(un) != 1 || un[0].Column != "nickname" {
		t.Fatalf("unclassified = %+v", un)
	}
	line := s.ConfigLine(un[0])
	if !strings.Contains(line, `"customers.nickname"`) || !strings.Contains(line, "governance.columns.<value>") || !strings.Contains(line, "public, internal, pii") {
		t.Fatalf("config line %q", line)
	}
}

func TestClassifyConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		rules []Rule
		field string
		hints []string
	}{
		{"a pattern that matches nothing", []Rule{{"pii", "%.ssn", "governance.columns.pii[0]"}}, "governance.columns.pii[0]", []string{"matches no column", "customers, products"}},
		{"a column in two classes", []Rule{{"pii", "%phone%", "governance.columns.pii[0]"}, {"public", "products.%", "governance.columns.public[0]"}},
			"governance.columns.public[0]", []string{"products.support_phone is in two classes", "governance.columns.pii[0]"}},
		{"a pattern that is no pattern", []Rule{{"pii", "a.b.c", "governance.columns.pii[0]"}}, "governance.columns.pii[0]", []string{"at most one '.'"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := demoSensitivity(c.rules...).Classify(lakeTables)
			var ce *steperr.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *steperr.ConfigError", err, err)
			}
			if ce.Field != c.field {
				t.Fatalf("field %q, want %q (%v)", ce.Field, c.field, err)
			}
			for _, h := range c.hints {
				if !strings.Contains(err.Error(), h) {
					t.Fatalf("%q lacks %q", err.Error(), h)
				}
			}
		})
	}
}

func TestPatterns(t *testing.T) {
	cases := []struct {
		pattern, table, column string
		match, exact           bool
	}{
		{"%.email", "customers", "email", true, false},
		{"%.email", "customers", "email_verified", false, false},
		{"%phone%", "anything", "mobile_phone_no", true, false},
		{"customers.email", "customers", "email", true, true},
		{"customers.email", "customers2", "email", false, true},
		// '_' is a literal, not SQL LIKE's one-character wildcard.
		{"e_mail", "t", "email", false, false},
		{"cust%.e_mail", "customers", "e_mail", true, false},
	}
	for _, c := range cases {
		p := MustPattern(c.pattern)
		if p.Match(c.table, c.column) != c.match || p.Exact() != c.exact {
			t.Errorf("%q on %s.%s: match %v exact %v, want %v %v", c.pattern, c.table, c.column, p.Match(c.table, c.column), p.Exact(), c.match, c.exact)
		}
	}
	for _, bad := range []string{"", "Customers.email", "a.b.c", "cust*.x", "a."} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) accepted", bad)
		}
	}
}
