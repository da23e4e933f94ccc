package access

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// Grant is one Lake Formation grant on the lake: on an LF-tag expression
// (Expression set, ResourceType database or table), or on a named table
// (Table set: a table name, or "*" for every table of the database, with
// Columns or ExcludedColumns for a column grant).
type Grant struct {
	Principal    string     `json:"principal"`
	ResourceType Level      `json:"resourceType"`
	Expression   Expression `json:"expression,omitempty"`
	Table        string     `json:"table,omitempty"`
	// Columns limits a named grant to these columns; ExcludedColumns gives
	// every column but these. Both empty: every column.
	Columns         []string `json:"columns,omitempty"`
	ExcludedColumns []string `json:"excludedColumns,omitempty"`
	Permissions     []string `json:"permissions"`
}

func (g Grant) String() string {
	perms := strings.Join(g.Permissions, "+")
	switch {
	case len(g.Expression) > 0:
		return fmt.Sprintf("%s on %ss with %s", perms, strings.ToUpper(string(g.ResourceType)), g.Expression)
	case len(g.Columns) > 0:
		return fmt.Sprintf("%s on columns %s of table %s", perms, strings.Join(g.Columns, ", "), g.Table)
	case len(g.ExcludedColumns) > 0:
		return fmt.Sprintf("%s on table %s except columns %s", perms, g.Table, strings.Join(g.ExcludedColumns, ", "))
	case g.Table == "*":
		return perms + " on every table (named grant, all tables)"
	}
	return fmt.Sprintf("%s on table %s (named grant)", perms, g.Table)
}

// Catalog is the lake database with the LF-tags assigned at each level.
type Catalog struct {
	Database string         `json:"database"`
	Tags     Tags           `json:"tags"`
	Tables   []CatalogTable `json:"tables"`
}

// CatalogTable is one table with its assigned tags and columns.
type CatalogTable struct {
	Name    string          `json:"name"`
	Tags    Tags            `json:"tags,omitempty"`
	Columns []CatalogColumn `json:"columns"`
}

// CatalogColumn is one column with its assigned tags.
type CatalogColumn struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	Tags Tags   `json:"tags,omitempty"`
}

// ColumnAccess is whether one principal reads one column, and why.
type ColumnAccess struct {
	Column string    `json:"column"`
	Read   bool      `json:"read"`
	Tags   Effective `json:"tags"`
	// Grant is the grant that gives the column and Because the tags that
	// matched its expression; Denied says why no grant gives it.
	Grant   string   `json:"grant,omitempty"`
	Because []string `json:"because,omitempty"`
	Denied  string   `json:"denied,omitempty"`
}

// TableAccess is one principal's access to one table.
type TableAccess struct {
	Table string `json:"table"`
	// Permissions are what the principal holds on the table (rule 5
	// applied to grants that give only some columns).
	Permissions  []string       `json:"permissions"`
	ReadColumns  int            `json:"readColumns"`
	TotalColumns int            `json:"totalColumns"`
	Columns      []ColumnAccess `json:"columns"`
}

// PrincipalAccess is one principal's access to the lake database.
type PrincipalAccess struct {
	Principal string `json:"principal"`
	// DatabaseGrants are the DATABASE grants whose expression matches the
	// database's tags.
	DatabaseGrants []string      `json:"databaseGrants"`
	Tables         []TableAccess `json:"tables"`
}

// Report is who reads which tables and columns of the lake database.
type Report struct {
	Database   string            `json:"database"`
	Principals []PrincipalAccess `json:"principals"`
}

// Filter narrows a report; empty fields match everything.
type Filter struct {
	Principal, Table, Column string
}

// Evaluate is what grants give each of their principals on cat.
func Evaluate(cat Catalog, grants []Grant, f Filter) Report {
	rep := Report{Database: cat.Database, Principals: []PrincipalAccess{}}
	var principals []string
	for _, g := range grants {
		if !slices.Contains(principals, g.Principal) {
			principals = append(principals, g.Principal)
		}
	}
	if f.Principal != "" && !slices.Contains(principals, f.Principal) {
		principals = append(principals, f.Principal)
	}
	sort.Strings(principals)
	dbTags := Inherit(cat.Tags, nil, nil)
	for _, p := range principals {
		if f.Principal != "" && p != f.Principal {
			continue
		}
		pa := PrincipalAccess{Principal: p, DatabaseGrants: []string{}, Tables: []TableAccess{}}
		var mine []Grant
		for _, g := range grants {
			if g.Principal != p {
				continue
			}
			mine = append(mine, g)
			if g.ResourceType == LevelDatabase && g.Expression.Evaluate(dbTags, LevelDatabase).Match {
				pa.DatabaseGrants = append(pa.DatabaseGrants, g.String())
			}
		}
		for _, t := range cat.Tables {
			if f.Table != "" && t.Name != f.Table {
				continue
			}
			pa.Tables = append(pa.Tables, evaluateTable(cat, t, mine, f))
		}
		rep.Principals = append(rep.Principals, pa)
	}
	return rep
}

func evaluateTable(cat Catalog, t CatalogTable, grants []Grant, f Filter) TableAccess {
	ta := TableAccess{Table: t.Name, Permissions: []string{}, Columns: []ColumnAccess{}, TotalColumns: len(t.Columns)}
	given := make([]int, len(grants)) // columns each grant gives
	for _, c := range t.Columns {
		eff := Inherit(cat.Tags, t.Tags, c.Tags)
		ca := ColumnAccess{Column: c.Name, Tags: eff}
		var why []string
		for i, g := range grants {
			ok, because, denied := gives(g, t.Name, c.Name, eff)
			if !ok {
				if denied != "" {
					why = append(why, denied)
				}
				continue
			}
			given[i]++
			if Reads(g.Permissions) && !ca.Read {
				ca.Read, ca.Grant, ca.Because = true, g.String(), because
			}
		}
		if ca.Read {
			ta.ReadColumns++
		} else if len(why) > 0 {
			ca.Denied = strings.Join(why, "; ")
		} else {
			ca.Denied = "no grant of this principal reads this table's columns"
		}
		if f.Column == "" || f.Column == c.Name {
			ta.Columns = append(ta.Columns, ca)
		}
	}
	for i, g := range grants {
		if given[i] == 0 {
			continue
		}
		perms := g.Permissions
		if given[i] < len(t.Columns) {
			perms = Partial(perms)
		}
		for _, p := range perms {
			if !slices.Contains(ta.Permissions, p) {
				ta.Permissions = append(ta.Permissions, p)
			}
		}
	}
	sort.Strings(ta.Permissions)
	return ta
}

// gives says whether grant g gives column col of table, with the tags that
// matched; or why its expression does not match ("" for grants about
// other resources).
func gives(g Grant, table, col string, eff Effective) (bool, []string, string) {
	switch {
	case len(g.Expression) > 0:
		if g.ResourceType != LevelTable {
			return false, nil, ""
		}
		v := g.Expression.Evaluate(eff, LevelColumn)
		if !v.Match {
			return false, nil, fmt.Sprintf("%s: %s", g, v.Failed)
		}
		return true, v.Matched, ""
	case g.Table != "*" && g.Table != table:
		return false, nil, ""
	case len(g.Columns) > 0:
		if slices.Contains(g.Columns, col) {
			return true, []string{"named in the grant"}, ""
		}
		return false, nil, ""
	case slices.Contains(g.ExcludedColumns, col):
		return false, nil, fmt.Sprintf("%s: the grant excludes it", g)
	}
	return true, []string{"named grant on the table"}, ""
}

// Text writes the report for a terminal.
func (r Report) Text(w io.Writer) {
	fmt.Fprintf(w, "database %s\n", r.Database)
	if len(r.Principals) == 0 {
		fmt.Fprintln(w, "no grant on the lake's tables")
	}
	for _, p := range r.Principals {
		fmt.Fprintf(w, "\n%s\n", p.Principal)
		for _, g := range p.DatabaseGrants {
			fmt.Fprintf(w, "  database: %s\n", g)
		}
		for _, t := range p.Tables {
			perms := strings.Join(t.Permissions, ", ")
			if perms == "" {
				perms = "nothing"
			}
			fmt.Fprintf(w, "  table %s: %s; reads %d of %d columns\n", t.Table, perms, t.ReadColumns, t.TotalColumns)
			width := 0
			for _, c := range t.Columns {
				width = max(width, len(c.Column))
			}
			for _, c := range t.Columns {
				if c.Read {
					fmt.Fprintf(w, "    %-*s  read    %s: %s\n", width, c.Column, c.Grant, strings.Join(c.Because, ", "))
				} else {
					fmt.Fprintf(w, "    %-*s  denied  %s\n", width, c.Column, c.Denied)
				}
			}
		}
	}
}
