package access

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

const (
	analystARN  = "arn:aws:iam::123456789012:role/lakeforge-analyst"
	workflowARN = "arn:aws:iam::123456789012:role/lakeforge-workflow"
	piiARN      = "arn:aws:iam::123456789012:role/pii-reader"
)

// The catalog TagOutput leaves: the database tagged for the workflow role
// and the analysts, each column with its sensitivity.
func taggedCatalog() Catalog {
	return Catalog{
		Database: "kthr01",
		Tags:     Tags{"maintenance": "crawler", "source": "product"},
		Tables: []CatalogTable{{
			Name: "workflow_kthr01_customers",
			Columns: []CatalogColumn{
				{Name: "id", Tags: Tags{"sensitivity": "public"}},
				{Name: "email", Tags: Tags{"sensitivity": "pii"}},
				{Name: "segment", Tags: Tags{"sensitivity": "internal"}},
				{Name: "nickname", Tags: Tags{"sensitivity": "unclassified"}},
				{Name: "added_since_tagging"},
			},
		}},
	}
}

func governedGrants() []Grant {
	src := Condition{Key: "source", Values: []string{"product"}}
	return []Grant{
		{Principal: workflowARN, ResourceType: LevelDatabase, Expression: Expression{{Key: "maintenance", Values: []string{"crawler"}}}, Permissions: []string{"ALL"}},
		{Principal: workflowARN, ResourceType: LevelTable, Expression: Expression{{Key: "maintenance", Values: []string{"crawler"}}}, Permissions: []string{"ALL"}},
		{Principal: analystARN, ResourceType: LevelDatabase, Expression: Expression{src}, Permissions: []string{"DESCRIBE"}},
		{Principal: analystARN, ResourceType: LevelTable, Expression: Expression{src, {Key: "sensitivity", Values: []string{"public", "internal"}}}, Permissions: []string{"SELECT", "DESCRIBE"}},
		{Principal: piiARN, ResourceType: LevelTable, Expression: Expression{src, {Key: "sensitivity", Values: []string{"public", "internal", "pii"}}}, Permissions: []string{"SELECT", "DESCRIBE"}},
	}
}

func readColumns(ta TableAccess) []string {
	var out []string
	for _, c := range ta.Columns {
		if c.Read {
			out = append(out, c.Column)
		}
	}
	return out
}

func TestEvaluateGovernedLake(t *testing.T) {
	rep := Evaluate(taggedCatalog(), governedGrants(), Filter{})
	byPrincipal := map[string]PrincipalAccess{}
	for _, p := range rep.Principals {
		byPrincipal[p.Principal] = p
	}
	// The import job's grant is on the workflow tag alone: column
	// sensitivity never narrows it, it keeps every column and ALL.
	wf := byPrincipal[workflowARN].Tables[0]
	if wf.ReadColumns != 5 || !slices.Equal(wf.Permissions, []string{"ALL"}) {
		t.Fatalf("workflow role: %d columns, %v; want all 5 and ALL", wf.ReadColumns, wf.Permissions)
	}
	an := byPrincipal[analystARN]
	if len(an.DatabaseGrants) != 1 {
		t.Fatalf("analyst database grants %v", an.DatabaseGrants)
	}
	if got := readColumns(an.Tables[0]); !slices.Equal(got, []string{"id", "segment"}) {
		t.Fatalf("analyst reads %v, want id and segment", got)
	}
	for _, c := range an.Tables[0].Columns {
		switch c.Column {
		case "email":
			if !strings.Contains(c.Denied, "sensitivity=pii (assigned to the column)") {
				t.Fatalf("email denied because %q", c.Denied)
			}
		case "added_since_tagging":
			if !strings.Contains(c.Denied, "carries no sensitivity tag") {
				t.Fatalf("untagged column denied because %q", c.Denied)
			}
		case "id":
			if !slices.Contains(c.Because, "source=product (inherited from the database)") || !slices.Contains(c.Because, "sensitivity=public (assigned to the column)") {
				t.Fatalf("id read because %v", c.Because)
			}
		}
	}
	if got := readColumns(byPrincipal[piiARN].Tables[0]); !slices.Equal(got, []string{"id", "email", "segment"}) {
		t.Fatalf("pii reader reads %v", got)
	}
	var buf bytes.Buffer
	rep.Text(&buf)
	for _, want := range []string{"table workflow_kthr01_customers: DESCRIBE, SELECT; reads 2 of 5 columns", "email", "denied"} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("text lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestEvaluateFilterAndNamedGrants(t *testing.T) {
	grants := append(governedGrants(),
		Grant{Principal: "arn:aws:iam::123456789012:user/auditor", ResourceType: LevelTable, Table: "workflow_kthr01_customers", Columns: []string{"email"}, Permissions: []string{"SELECT"}},
		Grant{Principal: "arn:aws:iam::123456789012:user/ops", ResourceType: LevelTable, Table: "*", ExcludedColumns: []string{"email"}, Permissions: []string{"SELECT"}})
	rep := Evaluate(taggedCatalog(), grants, Filter{Column: "email"})
	for _, p := range rep.Principals {
		col := p.Tables[0].Columns
		if len(col) != 1 || col[0].Column != "email" {
			t.Fatalf("%s: filter kept %+v", p.Principal, col)
		}
		want := p.Principal == piiARN || p.Principal == workflowARN || strings.HasSuffix(p.Principal, "auditor")
		if col[0].Read != want {
			t.Errorf("%s reads email = %v, want %v (%s)", p.Principal, col[0].Read, want, col[0].Denied)
		}
	}
	rep = Evaluate(taggedCatalog(), grants, Filter{Principal: "arn:aws:iam::123456789012:role/nobody"})
	if len(rep.Principals) != 1 || rep.Principals[0].Tables[0].ReadColumns != 0 {
		t.Fatalf("a principal without grants: %+v", rep.Principals)
	}
}
