package adopt

import (
	"fmt"
	"io"
)

// Action is what lakeforge does with one thing the manual build made.
type Action string

const (
	// Adopt: lakeforge uses it as it is, from now on as its own.
	Adopt Action = "adopt"
	// Change: lakeforge changes it (Apply, the next import, or a setting).
	Change Action = "change"
	// Leave: lakeforge neither uses nor changes it.
	Leave Action = "leave"
)

// Item kinds, in the order the report lists them.
const (
	KindGroup      = "group"
	KindLFAdmin    = "lf-admin"
	KindLFTag      = "lf-tag"
	KindGrant      = "grant"
	KindLocation   = "location"
	KindDatabase   = "database"
	KindTable      = "table"
	KindConnection = "connection"
	KindWorkflow   = "workflow"
	KindTrigger    = "trigger"
	KindCrawler    = "crawler"
	KindJob        = "job"
)

// Item is one line of the report.
type Item struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Action Action `json:"action"`
	Reason string `json:"reason"`
	// Todo says something remains to be done for this item; Fix says what
	// (the --apply that does it, or the setting to change).
	Todo bool   `json:"todo"`
	Fix  string `json:"fix,omitempty"`
	// Applied says --apply did it in this run.
	Applied bool `json:"applied,omitempty"`
}

// Report is what `lakeforge adopt` prints.
type Report struct {
	Stack    string `json:"stack"`
	Database string `json:"database"`
	Apply    bool   `json:"apply"`
	Items    []Item `json:"items"`
	// NothingToDo is true when no item has anything left to do.
	NothingToDo bool `json:"nothingToDo"`
}

func (r *Report) add(it Item) { r.Items = append(r.Items, it) }

func (r *Report) finish() {
	r.NothingToDo = true
	for _, it := range r.Items {
		if it.Todo {
			r.NothingToDo = false
		}
	}
}

// Print writes the report as text, one item per line.
func (r Report) Print(w io.Writer) {
	mode := "dry run: nothing was changed (--apply to act)"
	if r.Apply {
		mode = "applied"
	}
	fmt.Fprintf(w, "lakeforge adopt: the manual build around database %s, for stack %s (%s)\n\n", r.Database, r.Stack, mode)
	for _, it := range r.Items {
		mark := "    "
		switch {
		case it.Todo:
			mark = "TODO"
		case it.Applied:
			mark = "done"
		}
		fmt.Fprintf(w, "%s %-6s %-10s %s: %s\n", mark, it.Action, it.Kind, it.Name, it.Reason)
		if it.Todo && it.Fix != "" {
			fmt.Fprintf(w, "     %-17s fix: %s\n", "", it.Fix)
		}
	}
	if r.NothingToDo {
		fmt.Fprintln(w, "\nnothing to do: the manual build is adopted")
	} else {
		fmt.Fprintln(w, "\nitems marked TODO remain: apply each fix, then run `lakeforge adopt` again (docs/migration.md)")
	}
}
