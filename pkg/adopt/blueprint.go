package adopt

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// Blueprint is the Glue workflow a Lake Formation blueprint made for the
// lake database: Lake Formation has no public API for blueprints, so it is
// found by what it writes. A workflow (not lakeforge's own) is the
// blueprint's when one of its triggers starts a crawler whose target
// database is the lake database, or a job one of whose default arguments
// names it.
type Blueprint struct {
	Workflow string
	Triggers []gluetypes.Trigger
	Crawlers []gluetypes.Crawler
	Jobs     []gluetypes.Job
}

// FindBlueprints reads every trigger, crawler and job and groups the
// blueprint's by workflow.
func FindBlueprints(ctx context.Context, api GlueAPI, database, ownWorkflow string) ([]Blueprint, error) {
	var triggers []gluetypes.Trigger
	tin := &glue.GetTriggersInput{}
	for range maxPages {
		out, err := api.GetTriggers(ctx, tin)
		if err != nil {
			return nil, fmt.Errorf("glue:GetTriggers: %w", err)
		}
		triggers = append(triggers, out.Triggers...)
		if tin.NextToken = out.NextToken; aws.ToString(tin.NextToken) == "" {
			break
		}
	}
	crawlers := map[string]gluetypes.Crawler{}
	cin := &glue.GetCrawlersInput{}
	for range maxPages {
		out, err := api.GetCrawlers(ctx, cin)
		if err != nil {
			return nil, fmt.Errorf("glue:GetCrawlers: %w", err)
		}
		for _, c := range out.Crawlers {
			crawlers[aws.ToString(c.Name)] = c
		}
		if cin.NextToken = out.NextToken; aws.ToString(cin.NextToken) == "" {
			break
		}
	}
	jobs := map[string]gluetypes.Job{}
	jin := &glue.GetJobsInput{}
	for range maxPages {
		out, err := api.GetJobs(ctx, jin)
		if err != nil {
			return nil, fmt.Errorf("glue:GetJobs: %w", err)
		}
		for _, j := range out.Jobs {
			jobs[aws.ToString(j.Name)] = j
		}
		if jin.NextToken = out.NextToken; aws.ToString(jin.NextToken) == "" {
			break
		}
	}
	byWorkflow := map[string]*Blueprint{}
	writes := map[string]bool{}
	for _, tr := range triggers {
		wf := aws.ToString(tr.WorkflowName)
		if wf == "" || wf == ownWorkflow {
			continue
		}
		b := byWorkflow[wf]
		if b == nil {
			b = &Blueprint{Workflow: wf}
			byWorkflow[wf] = b
		}
		b.Triggers = append(b.Triggers, tr)
		for _, a := range tr.Actions {
			if c, ok := crawlers[aws.ToString(a.CrawlerName)]; ok && !containsCrawler(b.Crawlers, c) {
				b.Crawlers = append(b.Crawlers, c)
				writes[wf] = writes[wf] || aws.ToString(c.DatabaseName) == database
			}
			if j, ok := jobs[aws.ToString(a.JobName)]; ok && !containsJob(b.Jobs, j) {
				b.Jobs = append(b.Jobs, j)
				for _, v := range j.DefaultArguments {
					writes[wf] = writes[wf] || v == database
				}
			}
		}
	}
	var out []Blueprint
	for _, wf := range sortedKeys(byWorkflow) {
		if writes[wf] {
			out = append(out, *byWorkflow[wf])
		}
	}
	return out, nil
}

func containsCrawler(list []gluetypes.Crawler, c gluetypes.Crawler) bool {
	return slices.ContainsFunc(list, func(x gluetypes.Crawler) bool { return aws.ToString(x.Name) == aws.ToString(c.Name) })
}

func containsJob(list []gluetypes.Job, j gluetypes.Job) bool {
	return slices.ContainsFunc(list, func(x gluetypes.Job) bool { return aws.ToString(x.Name) == aws.ToString(j.Name) })
}

// EnabledSchedules are a blueprint's scheduled triggers that are on: each
// would start the blueprint's run and write Parquet into the lake database.
func (b Blueprint) EnabledSchedules() []gluetypes.Trigger {
	var out []gluetypes.Trigger
	for _, tr := range b.Triggers {
		if tr.Type == gluetypes.TriggerTypeScheduled && tr.State != gluetypes.TriggerStateDeactivated && tr.State != gluetypes.TriggerStateDeactivating {
			out = append(out, tr)
		}
	}
	return out
}

func blueprint(ctx context.Context, c Clients, t Target, rep *Report, st *State) error {
	bps, err := FindBlueprints(ctx, c.Glue, t.Database, t.OwnWorkflow)
	if err != nil {
		return err
	}
	for _, b := range bps {
		rep.add(Item{Kind: KindWorkflow, Name: b.Workflow, Action: Leave,
			Reason: "the blueprint's workflow, writing into " + t.Database + ": kept (never deleted); lakeforge's import replaces it once its schedule is stopped"})
		sort.Slice(b.Triggers, func(i, j int) bool { return aws.ToString(b.Triggers[i].Name) < aws.ToString(b.Triggers[j].Name) })
		enabled := b.EnabledSchedules()
		for _, tr := range b.Triggers {
			name := aws.ToString(tr.Name)
			it := Item{Kind: KindTrigger, Name: name}
			switch {
			case slices.ContainsFunc(enabled, func(x gluetypes.Trigger) bool { return aws.ToString(x.Name) == name }):
				it.Action, it.Todo = Change, true
				it.Reason = fmt.Sprintf("scheduled (%s) and %s: it would start the blueprint's run and write Parquet into %s beside lakeforge's import", aws.ToString(tr.Schedule), tr.State, t.Database)
				it.Fix = "lakeforge adopt --apply stops it (glue:StopTrigger; never deleted) before lakeforge's first import"
				st.stopTriggers = append(st.stopTriggers, name)
				st.triggerItems = append(st.triggerItems, len(rep.Items))
			case tr.Type == gluetypes.TriggerTypeScheduled:
				it.Action, it.Reason = Leave, fmt.Sprintf("scheduled (%s) and %s: the blueprint no longer runs (lakeforge doctor reports it if it is started again)", aws.ToString(tr.Schedule), tr.State)
			default:
				it.Action, it.Reason = Leave, strings.ToLower(string(tr.Type))+" trigger: fires only inside a run of the workflow"
			}
			rep.add(it)
		}
		for _, cr := range b.Crawlers {
			it := Item{Kind: KindCrawler, Name: aws.ToString(cr.Name), Action: Leave,
				Reason: "runs only inside the blueprint's workflow (target database " + aws.ToString(cr.DatabaseName) + "): kept"}
			if cr.Schedule != nil && cr.Schedule.State == gluetypes.ScheduleStateScheduled {
				it.Action, it.Todo = Change, true
				it.Reason = "has a schedule of its own (" + aws.ToString(cr.Schedule.ScheduleExpression) + "): it would rewrite table definitions in " + aws.ToString(cr.DatabaseName)
				it.Fix = "aws glue stop-crawler-schedule --crawler-name " + aws.ToString(cr.Name) + " (lakeforge adopt does not do it)"
			}
			rep.add(it)
		}
		for _, j := range b.Jobs {
			rep.add(Item{Kind: KindJob, Name: aws.ToString(j.Name), Action: Leave,
				Reason: "runs only inside the blueprint's workflow: kept; lakeforge's import job replaces it"})
		}
	}
	return nil
}
