package config

// Column-level sensitivity (governance).

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lakeforge/lakeforge/pkg/access"
)

var readerNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func (c Config) validateGovernance(v *validator) {
	g := c.Governance
	key := g.SensitivityKey
	switch {
	case utf8.RuneCountInString(key) > 128 || !lfTagKeyPattern.MatchString(key):
		v.add("governance.sensitivityKey", key, "an LF-tag key: 1 to 128 letters, digits, spaces or _.:/=+-@%")
	case key != strings.ToLower(key):
		v.add("governance.sensitivityKey", key, "a lower-case LF-tag key (Lake Formation stores keys in lower case)")
	case key == c.LFTags.Workflow.Key:
		// Glue jobs need every column of the tables they write ("AWS Glue
		// ETL jobs require full table access"): a column tag on the key of
		// the workflow role's grant would narrow it.
		v.add("governance.sensitivityKey", key, fmt.Sprintf("a key other than lfTags.workflow.key (%s): a column tag on that key would narrow the import job's own grant, and Glue jobs fail without every column of the tables they write", c.LFTags.Workflow.Key))
	case key == c.LFTags.Analyst.Key:
		v.add("governance.sensitivityKey", key, fmt.Sprintf("a key other than lfTags.analyst.key (%s): the analyst grant needs both tags (analyst tag AND sensitivity)", c.LFTags.Analyst.Key))
	}
	if g.Enabled {
		keys := len(c.LFTags.Tags)
		if _, listed := c.LFTags.Tags[key]; !listed {
			keys++
		}
		if keys > 50 {
			v.add("governance.sensitivityKey", key, "room for one more LF-tag key: at most 50 per account (Lake Formation quota), lfTags.tags has "+fmt.Sprint(len(c.LFTags.Tags)))
		}
	}
	if len(g.SensitivityValues) == 0 {
		v.add("governance.sensitivityValues", "[]", "the sensitivity values, e.g. [\"public\", \"internal\", \"pii\", \"unclassified\"]")
	}
	seen := map[string]bool{}
	for i, val := range g.SensitivityValues {
		path := fmt.Sprintf("governance.sensitivityValues[%d]", i)
		switch {
		case utf8.RuneCountInString(val) > 256 || !lfTagValuePattern.MatchString(val) || strings.Contains(val, "*"):
			v.add(path, val, "an LF-tag value: 1 to 256 letters, digits, spaces or _.:/=+-@%")
		case val != strings.ToLower(val):
			v.add(path, val, "a lower-case value (Lake Formation stores values in lower case)")
		case seen[val]:
			v.add(path, val, "each value once")
		}
		seen[val] = true
	}
	values := strings.Join(g.SensitivityValues, ", ")
	if !slices.Contains(g.SensitivityValues, g.UnclassifiedValue) {
		v.add("governance.unclassifiedValue", g.UnclassifiedValue, "one of governance.sensitivityValues: "+values)
	}
	// knownValue checks one value a rule, the analysts or a reader names.
	knownValue := func(path, val, what string) bool {
		switch {
		case !slices.Contains(g.SensitivityValues, val):
			v.add(path, val, "an unknown sensitivity value: one of governance.sensitivityValues ("+values+")")
		case val == g.UnclassifiedValue:
			v.add(path, val, fmt.Sprintf("a value other than governance.unclassifiedValue (%s): %s", val, what))
		default:
			return true
		}
		return false
	}
	patternClass := map[string]string{}
	for _, val := range g.ClassValues() {
		base := "governance.columns." + val
		if !knownValue(base, val, "columns no rule classifies get it; a rule classifies a column as something else") {
			continue
		}
		for i, pat := range g.Columns[val] {
			path := fmt.Sprintf("%s[%d]", base, i)
			if _, err := access.ParsePattern(pat); err != nil {
				v.add(path, pat, "a column pattern (\"table.column\", \"%.email\", \"%phone%\"): "+err.Error())
				continue
			}
			if other, dup := patternClass[pat]; dup {
				if other == val {
					v.add(path, pat, "each pattern once")
				} else {
					v.add(path, pat, fmt.Sprintf("a column in two classes: this pattern is also under governance.columns.%s; keep it under one value", other))
				}
				continue
			}
			patternClass[pat] = val
		}
	}
	if len(g.AnalystValues) == 0 {
		v.add("governance.analystValues", "[]", "the sensitivity values the analysts read, e.g. [\"public\", \"internal\"]")
	}
	for i, val := range g.AnalystValues {
		knownValue(fmt.Sprintf("governance.analystValues[%d]", i), val, "no grant may include it: unclassified columns stay hidden until a rule classifies them")
	}
	names := map[string]bool{}
	for i, r := range g.Readers {
		base := fmt.Sprintf("governance.readers[%d]", i)
		if !readerNamePattern.MatchString(r.Name) {
			v.add(base+".name", r.Name, "a name of 1 to 64 lower-case letters, digits, '_' or '-', e.g. pii-readers")
		} else if names[r.Name] {
			v.add(base+".name", r.Name, "each reader name once")
		}
		names[r.Name] = true
		if len(r.PrincipalARNs) == 0 {
			v.add(base+".principalArns", "[]", "at least one IAM user or role ARN")
		}
		v.principalARNs(base+".principalArns", r.PrincipalARNs, "", "arn:aws:iam::123456789012:role/pii-reader")
		if len(r.Values) == 0 {
			v.add(base+".values", "[]", "the sensitivity values the persona reads, e.g. [\"public\", \"internal\", \"pii\"]")
		}
		for j, val := range r.Values {
			knownValue(fmt.Sprintf("%s.values[%d]", base, j), val, "no grant may include it: unclassified columns stay hidden until a rule classifies them")
		}
	}
}

// Sensitivity is the column classification TagOutput applies: the rules of
// governance.columns in a stable order, each with its configuration path.
func (c Config) Sensitivity() access.Sensitivity {
	g := c.Governance
	s := access.Sensitivity{
		Key:          g.SensitivityKey,
		Values:       slices.Clone(g.SensitivityValues),
		Unclassified: g.UnclassifiedValue,
		TablePrefix:  c.Database.TablePrefix,
		Rules:        []access.Rule{},
	}
	for _, val := range g.ClassValues() {
		for i, pat := range g.Columns[val] {
			s.Rules = append(s.Rules, access.Rule{Value: val, Pattern: pat, Field: fmt.Sprintf("governance.columns.%s[%d]", val, i)})
		}
	}
	return s
}

// GovernanceModel is the governance configuration the access-model steps
// read (stepcontract.EnvGovernance).
func (c Config) GovernanceModel() access.Governance {
	g := c.Governance
	m := access.Governance{Enabled: g.Enabled, Sensitivity: c.Sensitivity(), AnalystValues: slices.Clone(g.AnalystValues), Readers: []access.Reader{}}
	for _, r := range g.Readers {
		m.Readers = append(m.Readers, access.Reader{Name: r.Name, PrincipalARNs: slices.Clone(r.PrincipalARNs), Values: slices.Clone(r.Values)})
	}
	return m
}
