package access

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// ColumnsSetting is the configuration key of the column rules.
const ColumnsSetting = "governance.columns"

// Rule classifies the columns Pattern names as Value. Field is the rule's
// configuration path ("governance.columns.pii[0]"), for messages.
type Rule struct {
	Value   string `json:"value"`
	Pattern string `json:"pattern"`
	Field   string `json:"field"`
}

// Sensitivity is the column classification of the governance
// configuration, as the stack hands it to TagOutput (one JSON value).
type Sensitivity struct {
	// Key is the LF-tag key assigned to columns.
	Key string `json:"key"`
	// Values are the key's values, in the configuration's order.
	Values []string `json:"values"`
	// Unclassified is the value of columns no rule classifies.
	Unclassified string `json:"unclassified"`
	Rules        []Rule `json:"rules"`
	// TablePrefix is database.tablePrefix: rules name source tables, the
	// lake tables without it.
	TablePrefix string `json:"tablePrefix"`
}

// Column is one column of a lake table as Glue lists it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// Table is one lake table (its Glue name) with its columns.
type Table struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
}

// Classified is the sensitivity value one column must carry.
type Classified struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	Value  string `json:"value"`
	// Rule is the configuration path of the rule that classified the
	// column; empty for an unclassified one.
	Rule string `json:"rule,omitempty"`
}

// SourceName is the name rules use for a lake table: without the prefix.
func (s Sensitivity) SourceName(table string) string {
	if s.TablePrefix != "" && strings.HasPrefix(table, s.TablePrefix) && len(table) > len(s.TablePrefix) {
		return table[len(s.TablePrefix):]
	}
	return table
}

// Classify gives every column of tables its value: an exact rule's, else
// the one value of the patterns that match it, else Unclassified. It
// fails with a ConfigError, before anything is tagged, when a rule matches
// no column of tables or a column is matched by rules of two values.
func (s Sensitivity) Classify(tables []Table) ([]Classified, error) {
	type parsed struct {
		Rule
		p       Pattern
		matched bool
	}
	rules := make([]*parsed, 0, len(s.Rules))
	for _, r := range s.Rules {
		p, err := ParsePattern(r.Pattern)
		if err != nil {
			return nil, &steperr.ConfigError{Field: r.Field, Value: r.Pattern, Fix: err.Error() + ": correct it in cdk.json and redeploy"}
		}
		rules = append(rules, &parsed{Rule: r, p: p})
	}
	var out []Classified
	var problems []problem
	for _, t := range tables {
		name := s.SourceName(t.Name)
		for _, c := range t.Columns {
			var exact, patterns []*parsed
			for _, r := range rules {
				if !r.p.Match(name, c.Name) {
					continue
				}
				r.matched = true
				if r.p.Exact() {
					exact = append(exact, r)
				} else {
					patterns = append(patterns, r)
				}
			}
			chosen := exact
			if len(chosen) == 0 {
				chosen = patterns
			}
			cl := Classified{Table: t.Name, Column: c.Name, Value: s.Unclassified}
			if len(chosen) == 0 {
				out = append(out, cl)
				continue
			}
			cl.Value, cl.Rule = chosen[0].Value, chosen[0].Field
			for _, other := range chosen[1:] {
				if other.Value != chosen[0].Value {
					problems = append(problems, problem{other.Field, other.Pattern, fmt.Sprintf(
						"column %s.%s is in two classes: %s (%s %q) and %s (%s %q); a column has one sensitivity: narrow one pattern, or name the column exactly (\"%s.%s\") under the value it must have, which wins over patterns",
						name, c.Name, chosen[0].Value, chosen[0].Field, chosen[0].Pattern, other.Value, other.Field, other.Pattern, name, c.Name)})
					break
				}
			}
			out = append(out, cl)
		}
	}
	for _, r := range rules {
		if !r.matched {
			problems = append(problems, problem{r.Field, r.Pattern, fmt.Sprintf(
				"matches no column of the lake's tables (%s): correct the pattern (tables are named as in the source, without database.tablePrefix %q) or remove it",
				tableList(tables, s), s.TablePrefix)})
		}
	}
	if len(problems) > 0 {
		return nil, configError(problems)
	}
	return out, nil
}

type problem struct{ field, value, fix string }

// configError is one ConfigError for every problem: the first names the
// field, the fix lists them all, so one redeploy fixes everything.
func configError(problems []problem) error {
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].field < problems[j].field })
	first := problems[0]
	fix := first.fix
	for _, p := range problems[1:] {
		fix += fmt.Sprintf("; also %s: %q: %s", p.field, p.value, p.fix)
	}
	return &steperr.ConfigError{Field: first.field, Value: first.value, Fix: fix}
}

func tableList(tables []Table, s Sensitivity) string {
	if len(tables) == 0 {
		return "none yet"
	}
	names := make([]string, 0, len(tables))
	for _, t := range tables {
		names = append(names, s.SourceName(t.Name))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ClassValues are the values a rule may classify a column as: every value
// but Unclassified.
func (s Sensitivity) ClassValues() []string {
	var out []string
	for _, v := range s.Values {
		if v != s.Unclassified {
			out = append(out, v)
		}
	}
	return out
}

// ConfigLine is what to add to the configuration to classify column c.
func (s Sensitivity) ConfigLine(c Classified) string {
	return fmt.Sprintf("add \"%s.%s\" to %s.<value> in cdk.json, <value> one of %s",
		s.SourceName(c.Table), c.Column, ColumnsSetting, strings.Join(s.ClassValues(), ", "))
}

// Unclassified are the columns of cls that no rule classifies.
func (s Sensitivity) UnclassifiedOf(cls []Classified) []Classified {
	var out []Classified
	for _, c := range cls {
		if c.Rule == "" && c.Value == s.Unclassified {
			out = append(out, c)
		}
	}
	return out
}

// Has says whether v is one of the key's values.
func (s Sensitivity) Has(v string) bool { return slices.Contains(s.Values, v) }

// Governance is the governance configuration as the stack hands it to the
// access-model steps (one JSON value): the column classification, and who
// reads which sensitivity values.
type Governance struct {
	Enabled     bool        `json:"enabled"`
	Sensitivity Sensitivity `json:"sensitivity"`
	// AnalystValues are the values the analyst persona reads.
	AnalystValues []string `json:"analystValues"`
	Readers       []Reader `json:"readers"`
}

// Reader is one persona of governance.readers.
type Reader struct {
	Name          string   `json:"name"`
	PrincipalARNs []string `json:"principalArns"`
	Values        []string `json:"values"`
}

// ReadersSetting is the configuration key of the readers' principals.
func ReadersSetting(i int) string { return fmt.Sprintf("governance.readers[%d].principalArns", i) }
