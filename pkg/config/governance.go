package config

import (
	"slices"
	"sort"
)

// GovernanceConfig is column-level sensitivity: an LF-tag assigned to every
// column of the lake's tables by the rules in Columns, and the analyst grant
// narrowed to the columns whose sensitivity is one of AnalystValues.
//
// Off by default: turning it on narrows what analysts read today (every
// column of every table with the analyst tag) to the classified columns,
// so a deployment opts in after writing its rules (`lakeforge access
// --plan` shows the effect before a run).
type GovernanceConfig struct {
	// Enabled turns column-level sensitivity on.
	Enabled bool `json:"enabled"`
	// SensitivityKey is the LF-tag key assigned to columns. It must differ
	// from the workflow and analyst tags' keys: a column tag on the
	// workflow key would narrow the import job's own grant, and Glue jobs
	// need every column of the tables they write.
	SensitivityKey string `json:"sensitivityKey"`
	// SensitivityValues are the key's values; EnsureLFTags creates them.
	SensitivityValues []string `json:"sensitivityValues"`
	// UnclassifiedValue is what a column no rule classifies is tagged:
	// no grant may include it, and the run reports every such column.
	UnclassifiedValue string `json:"unclassifiedValue"`
	// Columns maps a sensitivity value to the columns it classifies:
	// "table.column" exactly, or patterns where % stands for any run of
	// characters ("%.email", "%phone%", "customers.%"). A pattern without
	// a dot names columns of any table. Tables are the source table names
	// (the lake table without database.tablePrefix). An exact name wins
	// over patterns; a column two patterns of different values match is a
	// configuration error.
	Columns map[string][]string `json:"columns"`
	// AnalystValues are the sensitivity values the analyst persona reads.
	AnalystValues []string `json:"analystValues"`
	// Readers are further personas: principals that read the tables with
	// the analyst tag, restricted to the columns of their values.
	Readers []ReaderConfig `json:"readers"`
}

// ReaderConfig is one persona of governance.readers.
type ReaderConfig struct {
	// Name identifies the persona in reports ("pii-readers").
	Name string `json:"name"`
	// PrincipalARNs are the IAM users or roles of the persona.
	PrincipalARNs []string `json:"principalArns"`
	// Values are the sensitivity values the persona reads.
	Values []string `json:"values"`
}

// DefaultGovernance is the governance configuration before cdk.json: off,
// with the sensitivity ontology of the issue that introduced it.
func DefaultGovernance() GovernanceConfig {
	return GovernanceConfig{
		SensitivityKey:    "sensitivity",
		SensitivityValues: []string{"public", "internal", "pii", "unclassified"},
		UnclassifiedValue: "unclassified",
		AnalystValues:     []string{"public", "internal"},
	}
}

// LFTagOntology is every LF-tag key with its values that EnsureLFTags
// creates: lfTags.tags plus, when governance is on, the sensitivity key.
func (c Config) LFTagOntology() map[string][]string {
	out := make(map[string][]string, len(c.LFTags.Tags)+1)
	for k, v := range c.LFTags.Tags {
		out[k] = slices.Clone(v)
	}
	if c.Governance.Enabled {
		for _, v := range c.Governance.SensitivityValues {
			if !slices.Contains(out[c.Governance.SensitivityKey], v) {
				out[c.Governance.SensitivityKey] = append(out[c.Governance.SensitivityKey], v)
			}
		}
	}
	return out
}

// ClassValues are the sensitivity values that Columns uses, sorted.
func (g GovernanceConfig) ClassValues() []string {
	out := make([]string, 0, len(g.Columns))
	for v := range g.Columns {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
