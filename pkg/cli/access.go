package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// accessCommand is `lakeforge access`: who reads which tables and columns
// of the lake, and why; with --plan, what the next run would change in the
// access model.
func accessCommand(ctx context.Context, g *globals, args []string, env Env) int {
	fs := flag.NewFlagSet("access", flag.ContinueOnError)
	var f access.Filter
	fs.StringVar(&f.Principal, "principal", "", "only this principal (IAM role or user ARN); one without grants shows what it cannot read")
	fs.StringVar(&f.Table, "table", "", "only this table (the lake name, or the source name without database.tablePrefix)")
	fs.StringVar(&f.Column, "column", "", "only this column")
	plan := fs.Bool("plan", false, "show what the next run would change in the access model (tags, grants, settings, admins), changing nothing")
	if ok, code := parse(fs, g, args, env); !ok {
		return code
	}
	sess, err := openSession(ctx, g, env, false)
	if err != nil {
		return fail(env, "access", err)
	}
	lc, clients := sess.lc, sess.clients
	if *plan {
		stack, err := sess.stack(ctx)
		if err != nil {
			return fail(env, "access", err)
		}
		p := planAccess(ctx, clients, lc.cfg, stack)
		if g.output == "json" {
			writeJSON(env.Stdout, p)
		} else {
			p.print(env.Stdout)
		}
		if p.Failed() {
			return ExitProblem
		}
		return ExitOK
	}
	rep, err := accessReport(ctx, clients, lc.cfg, f)
	if err != nil {
		return fail(env, "access", err)
	}
	if g.output == "json" {
		writeJSON(env.Stdout, rep)
	} else {
		rep.Text(env.Stdout)
	}
	return ExitOK
}

// accessReport reads the lake's tags and grants and evaluates them.
func accessReport(ctx context.Context, c *Clients, cfg config.Config, f access.Filter) (access.Report, error) {
	cat, grants, err := lakeformation.ReadAccess(ctx, c.LF, c.Glue, awsretry.Default(), cfg.Database.Name)
	if err != nil {
		return access.Report{}, awsError("lakeformation:GetResourceLFTags", err)
	}
	if f.Table != "" && !hasTable(cat, f.Table) && hasTable(cat, cfg.Database.TablePrefix+f.Table) {
		f.Table = cfg.Database.TablePrefix + f.Table
	}
	if f.Table != "" && !hasTable(cat, f.Table) {
		return access.Report{}, &cliError{code: ExitUsage, msg: fmt.Sprintf("--table %s: database %s has no such table", f.Table, cfg.Database.Name),
			fix: "name a lake table (" + tableNames(cat) + ") or its source name"}
	}
	return access.Evaluate(cat, grants, f), nil
}

func hasTable(cat access.Catalog, name string) bool {
	for _, t := range cat.Tables {
		if t.Name == name {
			return true
		}
	}
	return false
}

func tableNames(cat access.Catalog) string {
	var names []string
	for _, t := range cat.Tables {
		names = append(names, t.Name)
	}
	if len(names) == 0 {
		return "none yet: the first import creates them"
	}
	return strings.Join(names, ", ")
}

// AccessPlan is what `lakeforge access --plan` prints: per access-model
// step, the changes the next run would make and the calls that would make
// them.
type AccessPlan struct {
	Stack string     `json:"stack"`
	Steps []PlanStep `json:"steps"`
	// NotPlanned says what the plan cannot see from the configuration and
	// the stack's outputs.
	NotPlanned []string `json:"notPlanned"`
}

// PlanStep is one step's dry run.
type PlanStep struct {
	Step    string                      `json:"step"`
	Changes []string                    `json:"changes"`
	Calls   []lakeformation.PlannedCall `json:"calls"`
	// Error is what the step would fail with ("" when it would not).
	Error string `json:"error,omitempty"`
}

// Failed says whether a step would fail.
func (p AccessPlan) Failed() bool {
	for _, s := range p.Steps {
		if s.Error != "" {
			return true
		}
	}
	return false
}

// planAccess runs every access-model step against a DryRun: the steps read
// the account as they do in a run, and their calls that would change
// something are recorded, not sent. The steps are built from the
// configuration (cdk.json, which may be ahead of the deployment) and the
// stack's outputs.
func planAccess(ctx context.Context, c *Clients, cfg config.Config, stack Stack) AccessPlan {
	dry := &lakeformation.DryRun{LF: c.LF, Glue: c.Glue}
	retry := awsretry.Default()
	workflowRole := stack.Outputs[stepcontract.OutputWorkflowRoleArn]
	var own []string
	if a := stack.Outputs[stepcontract.OutputAdminRoleArn]; a != "" {
		own = append(own, a)
	}
	lake := lakeOf(stack, cfg)
	grants, superseded := lakeformation.GovernedGrants(
		lakeformation.AccessGrants(workflowRole, cfg.LFTags.Workflow, analystPrincipals(cfg, stack), cfg.LFTags.Analyst, cfg.Personas.Analysts.PrincipalARNs...),
		cfg.LFTags.Analyst, cfg.GovernanceModel())
	tagOutput := &lakeformation.TagOutput{LF: dry, Retry: retry, Database: cfg.Database.Name, Tag: cfg.LFTags.Analyst}
	if gov := cfg.GovernanceModel(); gov.Enabled {
		tagOutput.Columns = &lakeformation.ColumnTagging{Glue: dry, LF: dry, Retry: retry, Database: cfg.Database.Name, Sensitivity: gov.Sensitivity}
	}
	steps := []struct {
		name string
		run  lakeformation.Runner
	}{
		{"ConfigureLakeFormation", &lakeformation.ConfigureLakeFormation{LF: dry, Principals: lakeformation.NewPrincipals(c.IAM, own...), Retry: retry,
			Own: own, Configured: cfg.Personas.Admins.PrincipalARNs, AccountSettings: cfg.LakeFormation.AccountSettings, Log: quietLogger()}},
		{"EnsureLFTags", &lakeformation.EnsureLFTags{LF: dry, Retry: retry, Tags: cfg.LFTagOntology()}},
		{"EnsureDatabase", &lakeformation.EnsureDatabase{Glue: dry, LF: dry, Retry: retry, Name: cfg.Database.Name, LocationURI: lake.URI(), Tag: cfg.LFTags.Workflow}},
		{"GrantTagPermissions", &lakeformation.GrantTagPermissions{LF: dry, Revoke: dry, Principals: lakeformation.NewPrincipals(c.IAM, workflowRole), Retry: retry,
			Grants: grants, Superseded: superseded, AthenaReaders: lakeformation.AthenaReaders(grants, cfg.LFTags.Analyst), Log: quietLogger()}},
		{"TagOutput", tagOutput},
	}
	plan := AccessPlan{Stack: stack.Name, NotPlanned: []string{
		"the stack's own step roles among the data lake administrators, the LF-tag permissions EnsureLFTags grants them and the grants EnsureDatabase gives TagOutput's role (ALL with grant option on the lake database and on every table of it): their ARNs are not among the stack's outputs (`lakeforge doctor` checks the administrators; every run's EnsureLFTags and EnsureDatabase converge the rest)",
		"RegisterLocation (the lake location's registration): its registration role is not among the stack's outputs (`lakeforge doctor` checks the registration)",
	}}
	for _, s := range steps {
		changes, err := s.run.Run(ctx)
		ps := PlanStep{Step: s.name, Changes: changes, Calls: dry.Take()}
		if ps.Changes == nil {
			ps.Changes = []string{}
		}
		if ps.Calls == nil {
			ps.Calls = []lakeformation.PlannedCall{}
		}
		if err != nil {
			ps.Error = err.Error()
		}
		plan.Steps = append(plan.Steps, ps)
	}
	return plan
}

func (p AccessPlan) print(w io.Writer) {
	total := 0
	for _, s := range p.Steps {
		total += len(s.Calls)
		switch {
		case s.Error != "":
			fmt.Fprintf(w, "%s: would fail: %s\n", s.Step, s.Error)
		case len(s.Calls) == 0:
			fmt.Fprintf(w, "%s: no change\n", s.Step)
		default:
			fmt.Fprintf(w, "%s: %d change(s)\n", s.Step, len(s.Changes))
		}
		for _, c := range s.Changes {
			fmt.Fprintf(w, "  %s\n", c)
		}
		for _, c := range s.Calls {
			fmt.Fprintf(w, "    %s %s\n", c.Action, c.Request)
		}
	}
	if total == 0 {
		fmt.Fprintln(w, "\nthe next run changes nothing in the access model")
	} else {
		fmt.Fprintf(w, "\nthe next run would make %d call(s) that change the access model; nothing was changed\n", total)
	}
	for _, n := range p.NotPlanned {
		fmt.Fprintf(w, "not planned: %s\n", n)
	}
}

// lakeOf is the lake location of the deployed stack.
func lakeOf(stack Stack, cfg config.Config) awsarn.Lake {
	return awsarn.Lake{Bucket: stack.Outputs[stepcontract.OutputLakeBucketName], Prefix: cfg.Lake.Prefix}
}

// quietLogger drops the steps' warnings: the plan prints their changes.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
