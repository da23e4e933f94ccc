package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
)

// hiddenColumns are, with governance, the lake's columns that carry the
// unclassified value or no sensitivity tag yet: hidden from every persona
// until a rule classifies them. Each comes with the configuration line
// that would classify it. A read that fails is a note, not a failure:
// status reports the runs first.
func hiddenColumns(ctx context.Context, c *Clients, cfg config.Config) ([]lakeformation.UnclassifiedColumn, string) {
	cat, err := lakeformation.ReadCatalog(ctx, c.LF, c.Glue, awsretry.Default(), cfg.Database.Name)
	if err != nil {
		return nil, "could not read the lake's column tags: " + err.Error()
	}
	s := cfg.Sensitivity()
	out := []lakeformation.UnclassifiedColumn{}
	for _, t := range cat.Tables {
		for _, col := range t.Columns {
			v, tagged := col.Tags[s.Key]
			if tagged && v != s.Unclassified {
				continue
			}
			out = append(out, lakeformation.UnclassifiedColumn{Table: t.Name, Column: col.Name,
				Fix: s.ConfigLine(access.Classified{Table: t.Name, Column: col.Name})})
		}
	}
	return out, ""
}

func (r StatusReport) printUnclassified(w io.Writer) {
	if r.UnclassifiedNote != "" {
		fmt.Fprintf(w, "unclassified columns: %s\n", r.UnclassifiedNote)
	}
	if len(r.Unclassified) == 0 {
		return
	}
	fmt.Fprintf(w, "unclassified columns (hidden from every persona until classified): %d\n", len(r.Unclassified))
	for _, u := range r.Unclassified {
		fmt.Fprintf(w, "    %s.%s: %s\n", u.Table, u.Column, u.Fix)
	}
}
