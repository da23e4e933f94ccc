package cli

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lakeforge/lakeforge/pkg/adopt"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// CheckBlueprint is the doctor check of a taken-over manual build: the
// blueprint's scheduled trigger, stopped by `lakeforge adopt --apply`,
// must stay stopped, or the blueprint writes Parquet into the lake
// database beside lakeforge's import.
const CheckBlueprint = "blueprint-schedule"

func blueprintSchedule(ctx context.Context, c *Clients, cfg config.Config, stack Stack) Finding {
	own := stack.Outputs[stepcontract.OutputWorkflowName]
	if own == "" {
		own = cfg.Names().Workflow
	}
	bps, err := adopt.FindBlueprints(ctx, c.Adopt.Glue, cfg.Database.Name, own)
	if err != nil {
		return apiFinding(CheckBlueprint, "glue:GetTriggers, glue:GetCrawlers and glue:GetJobs", err)
	}
	var on, names []string
	for _, b := range bps {
		for _, tr := range b.EnabledSchedules() {
			name := aws.ToString(tr.Name)
			on = append(on, name+" ("+aws.ToString(tr.Schedule)+", workflow "+b.Workflow+", "+string(tr.State)+")")
			names = append(names, name)
		}
	}
	if len(on) == 0 {
		if len(bps) == 0 {
			return Finding{Check: CheckBlueprint, OK: true, Summary: "no blueprint workflow writes into " + cfg.Database.Name}
		}
		return Finding{Check: CheckBlueprint, OK: true, Summary: "the blueprint's scheduled triggers are stopped"}
	}
	fix := "stop it again (never delete it): "
	for i, n := range names {
		if i > 0 {
			fix += "; "
		}
		fix += "aws glue stop-trigger --name " + n
	}
	return Finding{Check: CheckBlueprint,
		Summary: "the blueprint's scheduled trigger is enabled again: " + strings.Join(on, ", ") + "; its runs write Parquet tables into " + cfg.Database.Name + " beside lakeforge's import",
		Fix:     fix + " (or lakeforge adopt --apply)"}
}
