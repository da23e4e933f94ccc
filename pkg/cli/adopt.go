package cli

import (
	"context"
	"errors"
	"flag"

	"github.com/lakeforge/lakeforge/pkg/adopt"
	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// adoptCommand is `lakeforge adopt`: the inventory of a lake built by hand
// (docs/migration.md), a dry run unless --apply.
func adoptCommand(ctx context.Context, g *globals, args []string, env Env) int {
	fs := flag.NewFlagSet("adopt", flag.ContinueOnError)
	apply := fs.Bool("apply", false, "make the changes: stop the blueprint's scheduled trigger, grant the analyst role what the blog granted the IAM user, mark the Parquet tables for conversion (nothing is deleted)")
	if ok, code := parse(fs, g, args, env); !ok {
		return code
	}
	sess, err := openSession(ctx, g, env, false)
	if err != nil {
		return fail(env, "adopt", err)
	}
	lc, clients, stackName := sess.lc, sess.clients, sess.stackName
	target, err := AdoptTarget(ctx, clients, lc.cfg, stackName)
	if err != nil {
		return fail(env, "adopt", err)
	}
	rep, st, err := adopt.Inventory(ctx, clients.Adopt, target)
	if err != nil {
		return fail(env, "adopt", awsError("the read calls of lakeforge adopt (docs/cli.md lists them)", err))
	}
	var applyErr error
	if *apply {
		applyErr = adopt.Apply(ctx, clients.Adopt, rep, st)
	}
	if g.output == "json" {
		writeJSON(env.Stdout, rep)
	} else {
		rep.Print(env.Stdout)
	}
	if applyErr != nil {
		return fail(env, "adopt", awsError("the calls of lakeforge adopt --apply (docs/cli.md lists them); the items marked done above were applied", applyErr))
	}
	return ExitOK
}

// AdoptTarget is the lake as the configuration and the deployed stack (if
// any) describe it.
func AdoptTarget(ctx context.Context, c *Clients, cfg config.Config, stackName string) (adopt.Target, error) {
	names := cfg.Names()
	t := adopt.Target{
		Stack: stackName, Database: cfg.Database.Name, TablePrefix: cfg.Database.TablePrefix,
		Groups: PersonaGroups(cfg), Tags: cfg.LFTags.Tags,
		AnalystTag:  adopt.TagRef{Key: cfg.LFTags.Analyst.Key, Value: cfg.LFTags.Analyst.Value},
		WorkflowTag: adopt.TagRef{Key: cfg.LFTags.Workflow.Key, Value: cfg.LFTags.Workflow.Value},
		OwnWorkflow: names.Workflow, OwnConnection: names.Connection,
		// CloudFormation names the stack's roles <stack>-<logical id>-<suffix>.
		OwnRolePrefix:  ":role/" + stackName + "-",
		AdoptLocations: cfg.Import.AdoptLocations,
	}
	for _, arn := range cfg.Personas.Analysts.PrincipalARNs {
		if config.IsRoleARN(arn) {
			t.AnalystRoles = append(t.AnalystRoles, arn)
		}
	}
	if cfg.Lake.BucketName != "" {
		t.LakeLocation = awsarn.Lake{Bucket: cfg.Lake.BucketName, Prefix: cfg.Lake.Prefix}.URI()
	}
	stack, err := findStack(ctx, c.Stacks, stackName, c.Region)
	switch {
	case errors.Is(err, errStackNotFound):
		return t, nil
	case err != nil:
		return t, err
	}
	if b := stack.Outputs[stepcontract.OutputLakeBucketName]; b != "" {
		t.LakeLocation = awsarn.Lake{Bucket: b, Prefix: cfg.Lake.Prefix}.URI()
	}
	if s := stack.Outputs[stepcontract.OutputWorkflowName]; s != "" {
		t.OwnWorkflow = s
	}
	if s := stack.Outputs[stepcontract.OutputConnectionName]; s != "" {
		t.OwnConnection = s
	}
	if a := stack.Outputs[stepcontract.OutputAnalystRoleArn]; a != "" {
		t.AnalystRoles = append([]string{a}, t.AnalystRoles...)
	}
	for _, k := range []string{stepcontract.OutputAdminRoleArn, stepcontract.OutputAnalystRoleArn, stepcontract.OutputWorkflowRoleArn} {
		if a := stack.Outputs[k]; a != "" {
			t.OwnPrincipals = append(t.OwnPrincipals, a)
		}
	}
	return t, nil
}
