package access

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The rules below are the Lake Formation Developer Guide's; each is a row
// of docs/aws-behaviour.md and a case of expression_test.go.
//
//  1. A table inherits its database's LF-tags and a column its table's; a
//     value assigned on the table (column) for the same key overrides the
//     inherited one ("Assigning LF-Tags to Data Catalog resources").
//  2. A resource carries at most one value per key ("Only one value for a
//     particular key can be assigned to a particular resource").
//  3. An expression's conditions on different keys must all hold; the
//     values listed for one key are alternatives ("module=sales AND
//     division=(consumer OR commercial)"). A resource without the key
//     (assigned or inherited) does not match.
//  4. A TABLE expression is evaluated per column: the grant gives the
//     columns whose tags match ("granting a role access to all columns
//     that do not have the LF-tag 'PII' in tables that have the LF-tag
//     'Prod'", LFTag API reference).
//  5. When it gives only some of a table's columns, ALTER, DROP, INSERT and
//     DELETE become DESCRIBE and ALL (Super) becomes SELECT and DESCRIBE
//     ("Lake Formation tag-based access control notes and restrictions").

// Level is where a tag a resource carries comes from.
type Level string

const (
	LevelDatabase Level = "database"
	LevelTable    Level = "table"
	LevelColumn   Level = "column"
)

// Tags are the LF-tags assigned to one resource: key to value (rule 2).
type Tags map[string]string

// TagValue is one tag a resource carries and the level it is assigned at.
type TagValue struct {
	Value string `json:"value"`
	Level Level  `json:"level"`
}

// Effective are the tags a resource carries, assigned or inherited.
type Effective map[string]TagValue

// Inherit is the tags a column carries (rule 1): its database's, replaced
// key by key by its table's, replaced key by key by its own. For a table,
// pass nil as column; for a database, nil as table and column.
func Inherit(database, table, column Tags) Effective {
	out := Effective{}
	for _, level := range []struct {
		tags  Tags
		level Level
	}{{database, LevelDatabase}, {table, LevelTable}, {column, LevelColumn}} {
		for k, v := range level.tags {
			out[k] = TagValue{Value: v, Level: level.level}
		}
	}
	return out
}

// Describe says how a resource of kind (database, table, column) carries
// key: "sensitivity=pii (assigned to the column)", "source=product
// (inherited from the database)".
func (e Effective) Describe(key string, kind Level) string {
	v, ok := e[key]
	if !ok {
		return key + " (not carried)"
	}
	if v.Level == kind {
		return fmt.Sprintf("%s=%s (assigned to the %s)", key, v.Value, kind)
	}
	return fmt.Sprintf("%s=%s (inherited from the %s)", key, v.Value, v.Level)
}

// Condition is one key of an expression and its alternative values.
type Condition struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Expression is an LF-tag expression: every condition must hold (rule 3).
type Expression []Condition

func (e Expression) String() string {
	parts := make([]string, len(e))
	for i, c := range e {
		if len(c.Values) == 1 {
			parts[i] = c.Key + "=" + c.Values[0]
		} else {
			parts[i] = c.Key + " in (" + strings.Join(c.Values, ", ") + ")"
		}
	}
	return strings.Join(parts, " AND ")
}

// Canonical is the expression with keys and values sorted: two grants on
// the same expression have the same Canonical form.
func (e Expression) Canonical() string {
	c := make(Expression, len(e))
	for i, cond := range e {
		vals := slices.Clone(cond.Values)
		sort.Strings(vals)
		c[i] = Condition{Key: cond.Key, Values: vals}
	}
	sort.Slice(c, func(i, j int) bool { return c[i].Key < c[j].Key })
	return c.String()
}

// Verdict is the outcome of an expression on one resource.
type Verdict struct {
	Match bool `json:"match"`
	// Matched are the conditions that held, each as the resource carries
	// the tag; Failed is the first that did not ("" on a match).
	Matched []string `json:"matched,omitempty"`
	Failed  string   `json:"failed,omitempty"`
}

// Evaluate applies the expression to the tags a resource of kind carries.
func (e Expression) Evaluate(eff Effective, kind Level) Verdict {
	var v Verdict
	for _, c := range e {
		have, ok := eff[c.Key]
		if !ok || !slices.Contains(c.Values, have.Value) {
			if !ok {
				v.Failed = fmt.Sprintf("carries no %s tag (the expression needs %s)", c.Key, Expression{c})
			} else {
				v.Failed = fmt.Sprintf("%s is not %s", eff.Describe(c.Key, kind), Expression{c})
			}
			v.Matched = nil
			return v
		}
		v.Matched = append(v.Matched, eff.Describe(c.Key, kind))
	}
	v.Match = len(e) > 0
	return v
}

// Partial is rule 5: the permissions a TABLE grant of perms gives on a
// table when its expression matches only some of the table's columns.
func Partial(perms []string) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range perms {
		switch p {
		case "ALL":
			add("SELECT")
			add("DESCRIBE")
		case "ALTER", "DROP", "INSERT", "DELETE":
			add("DESCRIBE")
		default:
			add(p)
		}
	}
	return out
}

// Reads says whether perms include reading data (SELECT, or ALL).
func Reads(perms []string) bool {
	return slices.Contains(perms, "SELECT") || slices.Contains(perms, "ALL")
}
