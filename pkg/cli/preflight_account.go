package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lakeforge/lakeforge/pkg/adopt"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/preflight"
)

// CheckGroups is the preflight check of the persona groups (issue 17): a
// group the stack would create that exists already fails the deploy with
// EntityAlreadyExists.
const CheckGroups = "iam-groups"

// PersonaGroups are the configuration's persona groups, for pkg/adopt.
func PersonaGroups(cfg config.Config) []adopt.PersonaGroup {
	var out []adopt.PersonaGroup
	for _, p := range []struct {
		name string
		cfg  config.PersonaConfig
	}{{"admins", cfg.Personas.Admins}, {"analysts", cfg.Personas.Analysts}} {
		if p.cfg.CreateRole && p.cfg.GroupName != "" {
			out = append(out, adopt.PersonaGroup{Persona: p.name, Name: p.cfg.GroupName, Adopt: p.cfg.AdoptGroup})
		}
	}
	return out
}

// groupsCheck runs adopt.CheckGroups as one preflight check.
func groupsCheck(ctx context.Context, c *Clients, cfg config.Config, stack string) preflight.Check {
	ch := preflight.Check{Name: CheckGroups, Status: preflight.Pass}
	items, err := adopt.CheckGroups(ctx, c.Adopt.IAM, c.Adopt.Stacks, stack, PersonaGroups(cfg))
	if err != nil {
		ch.Status, ch.Summary = preflight.Fail, "cannot check the persona groups: "+shortErr(err)
		ch.Fix = "your credentials need iam:GetGroup, iam:ListAttachedGroupPolicies, iam:ListGroupPolicies and cloudformation:DescribeStackResources (read-only); use a profile with them (--profile)"
		return ch
	}
	ch.Summary = "the stack can create or adopt every persona group"
	for _, it := range items {
		if it.Kind != adopt.KindGroup {
			continue
		}
		ch.Evidence = append(ch.Evidence, it.Name+": "+string(it.Action)+": "+it.Reason)
		if it.Todo {
			ch.Status = preflight.Fail
			ch.Summary = "group " + it.Name + ": " + it.Reason
			if ch.Fix != "" {
				ch.Fix += "; "
			}
			ch.Fix += it.Name + ": " + it.Fix
		}
	}
	if len(items) == 0 {
		ch.Summary = "the configuration creates no persona group"
	}
	return ch
}

// blueprintCheck stops a deploy while a blueprint's scheduled trigger
// writes into the lake database: the deploy starts lakeforge's first
// import, and the two must never write the same tables.
func blueprintCheck(ctx context.Context, c *Clients, cfg config.Config) preflight.Check {
	ch := preflight.Check{Name: CheckBlueprint, Status: preflight.Pass, Summary: "no blueprint schedule writes into " + cfg.Database.Name}
	bps, err := adopt.FindBlueprints(ctx, c.Adopt.Glue, cfg.Database.Name, cfg.Names().Workflow)
	if err != nil {
		ch.Status, ch.Summary = preflight.Fail, "cannot read the Glue triggers, crawlers and jobs: "+shortErr(err)
		ch.Fix = "your credentials need glue:GetTriggers, glue:GetCrawlers and glue:GetJobs (read-only)"
		return ch
	}
	for _, b := range bps {
		for _, tr := range b.EnabledSchedules() {
			ch.Status = preflight.Fail
			ch.Evidence = append(ch.Evidence, fmt.Sprintf("trigger %s of workflow %s: %s, %s", aws.ToString(tr.Name), b.Workflow, aws.ToString(tr.Schedule), tr.State))
		}
	}
	if ch.Status == preflight.Fail {
		ch.Summary = "the blueprint's scheduled trigger would go on writing Parquet into " + cfg.Database.Name + " beside lakeforge's first import, which the deploy starts"
		ch.Fix = "run lakeforge adopt, then lakeforge adopt --apply, which stops it (never deletes it) and marks the blueprint's tables for conversion (docs/migration.md)"
	}
	return ch
}
