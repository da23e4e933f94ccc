package access

import "slices"

// ProbesName is the file TagOutput writes in a run's folder under the runs
// prefix (beside the import's manifest.json): the columns VerifyQuery
// queries as the analyst to prove the column security.
const ProbesName = "columns.json"

// ProbesKey is the S3 key of a run's probes under runsPrefix.
func ProbesKey(runsPrefix, runID string) string { return runsPrefix + runID + "/" + ProbesName }

// DeniedPerTable bounds the columns VerifyQuery queries per table that the
// analyst must not read (one query each).
const DeniedPerTable = 3

// ColumnProbes are, for one run, columns the analyst must read and columns
// it must not, per table.
type ColumnProbes struct {
	RunID string `json:"runId"`
	// Grant is the analysts' table grant, for messages.
	Grant  string       `json:"grant"`
	Tables []TableProbe `json:"tables"`
}

// TableProbe is one table's probe columns.
type TableProbe struct {
	Table   string        `json:"table"`
	Allowed []ProbeColumn `json:"allowed"`
	Denied  []ProbeColumn `json:"denied"`
}

// ProbeColumn is one column with its sensitivity and the rule behind it
// ("" for an unclassified column).
type ProbeColumn struct {
	Column string `json:"column"`
	Value  string `json:"value"`
	Rule   string `json:"rule,omitempty"`
}

// Probes picks, per table, one column the analysts read (a value of
// analystValues) and up to DeniedPerTable they must not (classified ones
// first, then unclassified).
func Probes(runID, grant string, cls []Classified, analystValues []string) ColumnProbes {
	p := ColumnProbes{RunID: runID, Grant: grant, Tables: []TableProbe{}}
	idx := map[string]int{}
	for _, c := range cls {
		i, ok := idx[c.Table]
		if !ok {
			i = len(p.Tables)
			idx[c.Table] = i
			p.Tables = append(p.Tables, TableProbe{Table: c.Table, Allowed: []ProbeColumn{}, Denied: []ProbeColumn{}})
		}
		t := &p.Tables[i]
		col := ProbeColumn{Column: c.Column, Value: c.Value, Rule: c.Rule}
		if slices.Contains(analystValues, c.Value) {
			if len(t.Allowed) == 0 {
				t.Allowed = append(t.Allowed, col)
			}
			continue
		}
		t.Denied = append(t.Denied, col)
	}
	for i := range p.Tables {
		d := p.Tables[i].Denied
		slices.SortStableFunc(d, func(a, b ProbeColumn) int {
			switch {
			case a.Rule != "" && b.Rule == "":
				return -1
			case a.Rule == "" && b.Rule != "":
				return 1
			}
			return 0
		})
		p.Tables[i].Denied = d[:min(len(d), DeniedPerTable)]
	}
	return p
}
