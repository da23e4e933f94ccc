package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// Finding is one doctor check.
type Finding struct {
	Check   string `json:"check"`
	OK      bool   `json:"ok"`
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
}

// DoctorReport is what `lakeforge doctor` prints.
type DoctorReport struct {
	Stack    string    `json:"stack"`
	Deployed bool      `json:"deployed"`
	Findings []Finding `json:"findings"`
	Healthy  bool      `json:"healthy"`
}

// Doctor check names.
const (
	CheckStack        = "stack"
	CheckAdmins       = "lake-formation-admins"
	CheckLFTags       = "lf-tags"
	CheckDatabaseTags = "database-tags"
	CheckGrants       = "grants"
	CheckLocation     = "registered-location"
	CheckSchedule     = "schedule"
	CheckNetwork      = "network"
	CheckLeftovers    = "leftovers"
)

func doctorCommand(ctx context.Context, g *globals, args []string, env Env) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	if ok, code := parse(fs, g, args, env); !ok {
		return code
	}
	sess, err := openSession(ctx, g, env, false)
	if err != nil {
		return fail(env, "doctor", err)
	}
	rep, err := Doctor(ctx, sess.clients, sess.lc.cfg, sess.stackName)
	if err != nil {
		return fail(env, "doctor", err)
	}
	if g.output == "json" {
		writeJSON(env.Stdout, rep)
	} else {
		rep.print(env.Stdout)
	}
	if !rep.Healthy {
		return ExitProblem
	}
	return ExitOK
}

// Doctor checks the account-level state a run depends on. It only reads.
// With the stack gone it looks for what a destroyed stack left behind.
func Doctor(ctx context.Context, c *Clients, cfg config.Config, stackName string) (DoctorReport, error) {
	cfg.StackName = stackName
	rep := DoctorReport{Stack: stackName}
	stack, err := findStack(ctx, c.Stacks, stackName, c.Region)
	switch {
	case errors.Is(err, errStackNotFound):
		rep.Findings = append(rep.Findings, Finding{Check: CheckStack, OK: true,
			Summary: fmt.Sprintf("stack %s is not deployed; looking for what a destroyed stack left behind", stackName)})
		rep.Findings = append(rep.Findings, staleAdmins(ctx, c, "")...)
		rep.Findings = append(rep.Findings, leftovers(ctx, c, cfg)...)
	case err != nil:
		return rep, err
	default:
		rep.Deployed = true
		rep.Findings = append(rep.Findings, stackStatus(stack))
		rep.Findings = append(rep.Findings, staleAdmins(ctx, c, stack.Outputs[stepcontract.OutputAdminRoleArn])...)
		rep.Findings = append(rep.Findings, lfTags(ctx, c, cfg))
		rep.Findings = append(rep.Findings, databaseTags(ctx, c, cfg))
		rep.Findings = append(rep.Findings, grants(ctx, c, cfg, stack))
		rep.Findings = append(rep.Findings, location(ctx, c, cfg, stack))
		rep.Findings = append(rep.Findings, schedule(ctx, c, cfg))
		if c.Adopt.Glue != nil {
			rep.Findings = append(rep.Findings, blueprintSchedule(ctx, c, cfg, stack))
		}
		rep.Findings = append(rep.Findings, network(ctx, c, cfg)...)
	}
	rep.Healthy = true
	for _, f := range rep.Findings {
		rep.Healthy = rep.Healthy && f.OK
	}
	return rep, nil
}

func (r DoctorReport) print(w io.Writer) {
	for _, f := range r.Findings {
		mark := "ok  "
		if !f.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %-22s %s\n", mark, f.Check, f.Summary)
		if !f.OK && f.Fix != "" {
			fmt.Fprintf(w, "     %-22s fix: %s\n", "", f.Fix)
		}
	}
	if r.Healthy {
		fmt.Fprintln(w, "\nnothing wrong found")
	} else {
		fmt.Fprintln(w, "\nproblems found: apply each fix above, then run `lakeforge doctor` again")
	}
}

// apiFinding reports a check that could not ask AWS.
func apiFinding(check, op string, err error) Finding {
	return Finding{Check: check, Summary: "cannot check: " + op + ": " + shortErr(err),
		Fix: "your credentials need " + op + " (read-only); use a profile with it (--profile)"}
}

func stackStatus(s Stack) Finding {
	f := Finding{Check: CheckStack, OK: true, Summary: fmt.Sprintf("stack %s is %s", s.Name, s.Status)}
	if strings.HasSuffix(s.Status, "_FAILED") || strings.Contains(s.Status, "ROLLBACK") {
		f.OK = false
		f.Fix = "read the stack events (aws cloudformation describe-stack-events --stack-name " + s.Name + ") and redeploy with `make deploy`"
	}
	return f
}

func location(ctx context.Context, c *Clients, cfg config.Config, stack Stack) Finding {
	bucket := stack.Outputs[stepcontract.OutputLakeBucketName]
	if bucket == "" {
		return Finding{Check: CheckLocation, Summary: "the stack has no LakeBucketName output", Fix: "redeploy with `make deploy`"}
	}
	partition := awsarn.Partition(cfg.Source.SecretARN)
	want := awsarn.Lake{Bucket: bucket, Prefix: cfg.Lake.Prefix}.ARN(partition)
	regs, err := registered(ctx, c.LF)
	if err != nil {
		return apiFinding(CheckLocation, "lakeformation:ListResources", err)
	}
	for _, r := range regs {
		// A registered ARN covers everything below it.
		if r == want || strings.HasPrefix(want, strings.TrimSuffix(r, "/")+"/") || r == awsarn.S3(partition, bucket, "") {
			return Finding{Check: CheckLocation, OK: true, Summary: "lake location " + r + " is registered"}
		}
	}
	return Finding{Check: CheckLocation, Summary: "lake location " + want + " is not registered with Lake Formation",
		Fix: "run the pipeline (`lakeforge run`): RegisterLocation registers it and grants the workflow role DATA_LOCATION_ACCESS"}
}

func registered(ctx context.Context, api LakeFormationAPI) ([]string, error) {
	var out []string
	in := &lf.ListResourcesInput{}
	for page := 0; page < 50; page++ {
		res, err := api.ListResources(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range res.ResourceInfoList {
			out = append(out, aws.ToString(r.ResourceArn))
		}
		if aws.ToString(res.NextToken) == "" {
			break
		}
		in.NextToken = res.NextToken
	}
	return out, nil
}

// ScheduleName is the daily schedule's name (infra/stack/schedule.go).
func ScheduleName(stack string) string { return stack + "-daily" }

func schedule(ctx context.Context, c *Clients, cfg config.Config) Finding {
	name := ScheduleName(cfg.StackName)
	out, err := c.Scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(name)})
	if awsretry.Code(err) == "ResourceNotFoundException" {
		return Finding{Check: CheckSchedule, Summary: "schedule " + name + " does not exist: no daily run will start",
			Fix: "redeploy with `make deploy`, which creates it"}
	}
	if err != nil {
		return apiFinding(CheckSchedule, "scheduler:GetSchedule", err)
	}
	expr := aws.ToString(out.ScheduleExpression) + " " + aws.ToString(out.ScheduleExpressionTimezone)
	if out.State == schedtypes.ScheduleStateDisabled {
		if !cfg.Schedule.Enabled {
			return Finding{Check: CheckSchedule, OK: true, Summary: "schedule " + name + " is disabled, as schedule.enabled=false in cdk.json says"}
		}
		return Finding{Check: CheckSchedule, Summary: "schedule " + name + " (" + expr + ") is DISABLED: no daily run will start and the data goes stale",
			Fix: "enable it: aws scheduler get-schedule --name " + name + " > s.json, set \"State\": \"ENABLED\" and drop the read-only fields (Arn, CreationDate, LastModificationDate), then aws scheduler update-schedule --cli-input-json file://s.json"}
	}
	return Finding{Check: CheckSchedule, OK: true, Summary: "schedule " + name + " is " + string(out.State) + " (" + expr + ")"}
}

// network runs the preflight network checks (pkg/preflight) without
// repair and without glue:TestConnection: subnet, security groups, the S3
// gateway route, DNS and free addresses, and the secret.
func network(ctx context.Context, c *Clients, cfg config.Config) []Finding {
	if c.PreflightEC2 == nil {
		return nil
	}
	checker := &preflight.Checker{EC2: c.PreflightEC2, Secrets: c.PreflightSecrets, Glue: c.PreflightGlue,
		Region: c.Region, StackName: cfg.StackName, RequiredFreeIPs: cfg.RequiredFreeIPs()}
	rep, _ := checker.Run(ctx, PreflightTarget(cfg), false)
	var out []Finding
	for _, ch := range rep.Checks {
		if ch.Status != preflight.Pass && ch.Status != preflight.Fail {
			continue
		}
		out = append(out, Finding{Check: CheckNetwork + ":" + ch.Name, OK: ch.Status == preflight.Pass, Summary: ch.Summary, Fix: ch.Fix})
	}
	return out
}

// leftovers looks for what a destroyed stack leaves behind (issue 13):
// the Glue database, the LF-tags, registered locations of its buckets, and
// the network resources repair mode created (tagged lakeforge:created-by).
func leftovers(ctx context.Context, c *Clients, cfg config.Config) []Finding {
	var found []string
	var fixes []string
	db := cfg.Database.Name
	out, err := c.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(db)})
	if err == nil && out.Database != nil {
		found = append(found, fmt.Sprintf("Glue database %s (location %s)", db, aws.ToString(out.Database.LocationUri)))
		fixes = append(fixes, "aws glue delete-database --name "+db+" (its S3 data is kept)")
	} else if err != nil && awsretry.Code(err) != "EntityNotFoundException" {
		return []Finding{apiFinding(CheckLeftovers, "glue:GetDatabase", err)}
	}
	for _, key := range cfg.LFTags.Keys() {
		if _, err := c.LF.GetLFTag(ctx, &lf.GetLFTagInput{TagKey: aws.String(key)}); err == nil {
			found = append(found, "LF-tag "+key)
			fixes = append(fixes, "aws lakeformation delete-lf-tag --tag-key "+key+" (only if nothing else uses it)")
		}
	}
	regs, err := registered(ctx, c.LF)
	if err != nil {
		return []Finding{apiFinding(CheckLeftovers, "lakeformation:ListResources", err)}
	}
	partition := awsarn.Partition(cfg.Source.SecretARN)
	stackBucket := awsarn.S3(partition, strings.ToLower(cfg.StackName)+"-", "")
	for _, r := range regs {
		if (cfg.Lake.BucketName != "" && strings.HasPrefix(r, awsarn.S3(partition, cfg.Lake.BucketName, ""))) || strings.HasPrefix(r, stackBucket) {
			found = append(found, "registered location "+r)
			fixes = append(fixes, "aws lakeformation deregister-resource --resource-arn "+r)
		}
	}
	if c.Network != nil {
		tag := []ec2types.Filter{{Name: aws.String("tag:" + preflight.CreatedByTag), Values: []string{cfg.StackName}}}
		eps, err := c.Network.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: tag})
		if err != nil {
			return []Finding{apiFinding(CheckLeftovers, "ec2:DescribeVpcEndpoints", err)}
		}
		for _, ep := range eps.VpcEndpoints {
			id := aws.ToString(ep.VpcEndpointId)
			found = append(found, "VPC endpoint "+id+" ("+aws.ToString(ep.ServiceName)+") created by preflight repair")
			fixes = append(fixes, "aws ec2 delete-vpc-endpoints --vpc-endpoint-ids "+id+" (only if nothing else routes S3 through it)")
		}
		rules, err := c.Network.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: tag})
		if err != nil {
			return []Finding{apiFinding(CheckLeftovers, "ec2:DescribeSecurityGroupRules", err)}
		}
		for _, r := range rules.SecurityGroupRules {
			id := aws.ToString(r.SecurityGroupRuleId)
			found = append(found, "security group rule "+id+" on "+aws.ToString(r.GroupId)+" created by preflight repair")
			fixes = append(fixes, "aws ec2 revoke-security-group-ingress --group-id "+aws.ToString(r.GroupId)+" --security-group-rule-ids "+id)
		}
	}
	if len(found) == 0 {
		return []Finding{{Check: CheckLeftovers, OK: true, Summary: "nothing left behind by a stack named " + cfg.StackName}}
	}
	return []Finding{{Check: CheckLeftovers,
		Summary: "stack " + cfg.StackName + " is gone but left: " + strings.Join(found, "; "),
		Fix:     "to redeploy into the same lake, keep them and run `make deploy` (set lake.bucketName to the kept bucket so the database location matches); to clean up instead: " + strings.Join(fixes, "; ")}}
}
