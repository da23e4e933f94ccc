package config

import (
	"encoding/json"
	"slices"
	"testing"
)

// withGovernance is the shipped configuration with a governance object.
func withGovernance(t *testing.T, gov string) []byte {
	t.Helper()
	ctx := shippedContext(t)
	var g map[string]any
	if err := json.Unmarshal([]byte(gov), &g); err != nil {
		t.Fatal(err)
	}
	ctx["governance"] = g
	raw, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestGovernanceDefaultsAndOntology(t *testing.T) {
	cfg, err := Parse(withGovernance(t, `{"enabled": true, "columns": {"pii": ["%.email", "%phone%"], "public": ["products.%"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Governance
	if g.SensitivityKey != "sensitivity" || !slices.Equal(g.SensitivityValues, []string{"public", "internal", "pii", "unclassified"}) ||
		g.UnclassifiedValue != "unclassified" || !slices.Equal(g.AnalystValues, []string{"public", "internal"}) {
		t.Fatalf("defaults: %+v", g)
	}
	onto := cfg.LFTagOntology()
	if !slices.Equal(onto["sensitivity"], g.SensitivityValues) || !slices.Equal(onto["source"], []string{"product"}) {
		t.Fatalf("ontology %v", onto)
	}
	s := cfg.Sensitivity()
	if len(s.Rules) != 3 || s.Rules[0].Field != "governance.columns.pii[0]" || s.Rules[2].Field != "governance.columns.public[0]" || s.TablePrefix != "workflow_kthr01_" {
		t.Fatalf("sensitivity %+v", s)
	}
	// Off (the default): no sensitivity key is created.
	off, err := Parse(withGovernance(t, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := off.LFTagOntology()["sensitivity"]; ok || off.Governance.Enabled {
		t.Fatalf("governance off creates %v", off.LFTagOntology())
	}
	// A user's list replaces the default list, never merges into it.
	own, err := Parse(withGovernance(t, `{"sensitivityValues": ["open", "secret", "todo"], "unclassifiedValue": "todo", "analystValues": ["open"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(own.Governance.SensitivityValues, []string{"open", "secret", "todo"}) {
		t.Fatalf("values %v", own.Governance.SensitivityValues)
	}
}

// Every mistake in the rules is one problem naming its field.
func TestGovernanceMistakesNameTheField(t *testing.T) {
	cases := []struct {
		name, gov, path string
		hints           []string
	}{
		{"unknown tag value", `{"columns": {"secret": ["%.ssn"]}}`, "lakeforge.governance.columns.secret", []string{"unknown sensitivity value", "public, internal, pii, unclassified"}},
		{"a column in two classes", `{"columns": {"pii": ["%.email"], "public": ["%.email"]}}`, "lakeforge.governance.columns.public[0]", []string{"two classes", "governance.columns.pii"}},
		{"a pattern twice", `{"columns": {"pii": ["%.email", "%.email"]}}`, "lakeforge.governance.columns.pii[1]", []string{"each pattern once"}},
		{"not a pattern", `{"columns": {"pii": ["Customers.Email"]}}`, "lakeforge.governance.columns.pii[0]", []string{"lower-case"}},
		{"a rule classifying as unclassified", `{"columns": {"unclassified": ["%.x"]}}`, "lakeforge.governance.columns.unclassified", []string{"governance.unclassifiedValue"}},
		{"analysts reading unclassified columns", `{"analystValues": ["public", "unclassified"]}`, "lakeforge.governance.analystValues[1]", []string{"hidden until a rule classifies them"}},
		{"analysts reading an unknown value", `{"analystValues": ["open"]}`, "lakeforge.governance.analystValues[0]", []string{"unknown sensitivity value"}},
		{"unclassified value not among the values", `{"unclassifiedValue": "todo"}`, "lakeforge.governance.unclassifiedValue", []string{"one of governance.sensitivityValues"}},
		{"sensitivity on the workflow key", `{"sensitivityKey": "maintenance"}`, "lakeforge.governance.sensitivityKey", []string{"import job's own grant"}},
		{"sensitivity on the analyst key", `{"sensitivityKey": "source"}`, "lakeforge.governance.sensitivityKey", []string{"lfTags.analyst.key"}},
		{"upper-case value", `{"sensitivityValues": ["Public", "open", "unclassified"], "analystValues": ["open"]}`, "lakeforge.governance.sensitivityValues[0]", []string{"lower-case"}},
		{"reader with a group", `{"readers": [{"name": "pii-readers", "principalArns": ["arn:aws:iam::123456789012:group/dl_pii"], "values": ["pii"]}]}`, "lakeforge.governance.readers[0].principalArns[0]", []string{"IAM groups"}},
		{"reader with an unknown value", `{"readers": [{"name": "pii-readers", "principalArns": ["arn:aws:iam::123456789012:role/pii"], "values": ["secret"]}]}`, "lakeforge.governance.readers[0].values[0]", []string{"unknown sensitivity value"}},
		{"unknown key", `{"enable": true}`, "lakeforge.governance.enable", []string{`did you mean "enabled"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(withGovernance(t, c.gov))
			expectOne(t, err, c.path, c.hints...)
		})
	}
}
