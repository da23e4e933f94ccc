// Package verify is the VerifyQuery step: as the analyst, count every
// imported table in Athena and compare with the counts the import job
// recorded for the run.
package verify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// RunsFolder is the folder under the lake prefix where the import job
// writes one manifest per workflow run: <prefix>_lakeforge_runs/<runId>/manifest.json.
// The import job registers only the tables it imports, so manifests never
// become tables.
const RunsFolder = "_lakeforge_runs"

// ManifestName is the manifest's file name in its run folder.
const ManifestName = "manifest.json"

// ManifestKey is the S3 key of a run's manifest under runsPrefix
// (the lake prefix + RunsFolder + "/").
func ManifestKey(runsPrefix, runID string) string {
	return runsPrefix + runID + "/" + ManifestName
}

// Manifest is what the import job (infra/glue/import_job.py) records for
// one workflow run.
type Manifest struct {
	WorkflowName string          `json:"workflowName"`
	RunID        string          `json:"runId"`
	Mode         string          `json:"mode"`
	Tables       []ManifestTable `json:"tables"`
}

// ManifestTable is one imported table.
type ManifestTable struct {
	// Name is the lake folder and, with the configured table prefix, the
	// name of the table the import job registers.
	Name        string `json:"name"`
	SourceTable string `json:"sourceTable"`
	Path        string `json:"path"`
	// RowsWritten is what this run wrote; RowsTotal is what the lake table
	// holds after the run (the same in snapshot mode).
	RowsWritten int64 `json:"rowsWritten"`
	RowsTotal   int64 `json:"rowsTotal"`
	// Mode is the table's import mode (snapshot, incremental or merge).
	Mode string `json:"mode,omitempty"`
	// Proof is what the job proved before it published the table (absent in
	// manifests of jobs older than the proof).
	Proof *Proof `json:"proof,omitempty"`
	// RowsDeleted and Watermark are merge mode's: the rows the run deleted
	// and the change column's value it read up to.
	RowsDeleted int64  `json:"rowsDeleted,omitempty"`
	Watermark   string `json:"watermark,omitempty"`
}

// Proof is the job's proof that the staged table held the source's rows:
// the row count and checksum the source database computed, and the same
// two figures computed by Spark on the staged table (infra/glue/
// importjob_proof.py says how). The job publishes a table only when they
// are equal.
type Proof struct {
	// Scope is "every row", or "rows added" for an incremental run.
	Scope          string   `json:"scope"`
	Columns        []string `json:"columns"`
	SourceRows     int64    `json:"sourceRows"`
	SourceChecksum string   `json:"sourceChecksum"`
	LakeRows       int64    `json:"lakeRows"`
	LakeChecksum   string   `json:"lakeChecksum"`
	// LakeBasis says how Spark computed the lake's figures: over every row
	// of the staged table, or (merge runs) from the last proven figures and
	// the changed keys' rows before and after the merge.
	LakeBasis string `json:"lakeBasis,omitempty"`
}

var checksumPattern = regexp.MustCompile(`^[0-9]{1,40}$`)

var tableNamePattern = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)

// ParseManifest decodes and checks a manifest; problems name the field.
func ParseManifest(raw []byte, runID string) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return Manifest{}, fmt.Errorf("not valid JSON: %v", err)
	}
	var probs []string
	if m.RunID != runID {
		probs = append(probs, fmt.Sprintf("runId is %q, want %q", m.RunID, runID))
	}
	if len(m.Tables) == 0 {
		probs = append(probs, "tables is empty: the job imported no table (does source.includePaths match any table?)")
	}
	seen := map[string]bool{}
	for i, t := range m.Tables {
		if !tableNamePattern.MatchString(t.Name) {
			probs = append(probs, fmt.Sprintf("tables[%d].name %q is not a lower-case Athena table name", i, t.Name))
		}
		if seen[t.Name] {
			probs = append(probs, fmt.Sprintf("tables[%d].name %q appears twice", i, t.Name))
		}
		seen[t.Name] = true
		if t.RowsTotal < 0 || t.RowsWritten < 0 {
			probs = append(probs, fmt.Sprintf("tables[%d] has a negative row count", i))
		}
		if p := t.Proof; p != nil {
			switch {
			case !checksumPattern.MatchString(p.SourceChecksum) || !checksumPattern.MatchString(p.LakeChecksum):
				probs = append(probs, fmt.Sprintf("tables[%d].proof: checksums %q and %q are not decimal numbers", i, p.SourceChecksum, p.LakeChecksum))
			case p.SourceRows != p.LakeRows || p.SourceChecksum != p.LakeChecksum:
				probs = append(probs, fmt.Sprintf("tables[%d].proof: the source has %d rows, checksum %s, the lake %d rows, checksum %s; the job publishes only equal figures, so this manifest does not describe a published run", i, p.SourceRows, p.SourceChecksum, p.LakeRows, p.LakeChecksum))
			case p.Scope == "every row" && p.LakeRows != t.RowsTotal:
				probs = append(probs, fmt.Sprintf("tables[%d].proof covers %d rows, rowsTotal is %d", i, p.LakeRows, t.RowsTotal))
			}
		}
	}
	if len(probs) > 0 {
		return Manifest{}, fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return m, nil
}
