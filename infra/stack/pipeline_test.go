//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage, which jsii marks deprecated (moved to @aws-cdk/cloud-assembly-api); the Go binding offers no other type.

package stack

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/statemachine"
)

// props returns the Properties of the only resource of a type matching match.
func (s synthesized) find(t *testing.T, cfnType string, match func(p map[string]any) bool) (string, map[string]any) {
	t.Helper()
	var ids []string
	var found map[string]any
	for id, r := range s.resources(cfnType) {
		p, _ := r["Properties"].(map[string]any)
		if match == nil || match(p) {
			ids = append(ids, id)
			found = p
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one %s matching, found %v", cfnType, ids)
	}
	return ids[0], found
}

func named(name string) func(map[string]any) bool {
	return func(p map[string]any) bool { return p["Name"] == name }
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// refID returns the logical id of {"Ref": id} or {"Fn::GetAtt": [id, ...]}.
func refID(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

// policyStatements returns the statements of every policy attached to a role.
func (s synthesized) policyStatements(roleID string) []map[string]any {
	var out []map[string]any
	for _, r := range s.resources("AWS::IAM::Policy") {
		p := r["Properties"].(map[string]any)
		attached := false
		roles, _ := p["Roles"].([]any)
		for _, role := range roles {
			attached = attached || refID(role) == roleID
		}
		if !attached {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func TestPipelineTemplate(t *testing.T) {
	cfg := shippedConfig(t)
	names := cfg.Names()
	s := synth(t, cfg)

	t.Run("workflow and triggers", func(t *testing.T) {
		_, wf := s.find(t, "AWS::Glue::Workflow", named(names.Workflow))
		if wf["MaxConcurrentRuns"] != 1.0 {
			t.Fatalf("workflow %v: StartImport attaches to the one run in progress", wf)
		}
		// One on-demand trigger runs the job, which discovers the tables
		// over JDBC and registers its Iceberg tables: no crawler.
		_, start := s.find(t, "AWS::Glue::Trigger", named(names.Workflow+"-start"))
		if start["Type"] != "ON_DEMAND" || start["WorkflowName"] != names.Workflow || jsonOf(t, start["Actions"]) != `[{"JobName":"`+names.ImportJob+`"}]` {
			t.Fatalf("start trigger %v: StartWorkflowRun fires the on-demand trigger", start)
		}
		if n := len(s.resources("AWS::Glue::Trigger")); n != 1 {
			t.Fatalf("%d triggers, want the one on-demand trigger", n)
		}
		if c := s.resources("AWS::Glue::Crawler"); len(c) != 0 {
			t.Fatalf("crawlers %v: the job discovers and registers the tables itself", c)
		}
		// The lake database is made by the EnsureDatabase step, not by
		// CloudFormation (whose role has no Lake Formation CREATE_DATABASE
		// once the lake is configured).
		if dbs := s.resources("AWS::Glue::Database"); len(dbs) != 0 {
			t.Fatalf("the template creates Glue databases %v; EnsureDatabase owns them", dbs)
		}
	})

	t.Run("job", func(t *testing.T) {
		_, job := s.find(t, "AWS::Glue::Job", named(names.ImportJob))
		cmd := job["Command"].(map[string]any)
		args := job["DefaultArguments"].(map[string]any)
		if job["GlueVersion"] != "5.0" || job["ExecutionClass"] != "FLEX" || job["WorkerType"] != "G.1X" || job["NumberOfWorkers"] != 2.0 ||
			cmd["Name"] != "glueetl" || cmd["PythonVersion"] != "3" || job["Timeout"] != 120.0 {
			t.Fatalf("job %v", job)
		}
		if args["--job-bookmark-option"] != "job-bookmark-disable" || args["--mode"] != "snapshot" || args["--datalake-formats"] != "iceberg" ||
			args["--include_paths"] != `["kthr01/public/%"]` || args["--read_partitions"] != "4" || args["--parallel_tables"] != "4" {
			t.Fatalf("snapshot arguments %v", args)
		}
		if !strings.Contains(jsonOf(t, cmd["ScriptLocation"]), ".py") {
			t.Fatalf("script %v", cmd["ScriptLocation"])
		}
		_, sec := s.find(t, "AWS::Glue::SecurityConfiguration", nil)
		enc := jsonOf(t, sec["EncryptionConfiguration"])
		for _, want := range []string{`"CloudWatchEncryptionMode":"SSE-KMS"`, `"JobBookmarksEncryptionMode":"CSE-KMS"`, `"S3EncryptionMode":"SSE-S3"`} {
			if !strings.Contains(enc, want) {
				t.Fatalf("security configuration %s lacks %s", enc, want)
			}
		}
		// import-events takes a FAILED job event as the import's end.
		if job["MaxRetries"] != 0.0 {
			t.Fatalf("job MaxRetries %v: a retried job would make a FAILED event not the end", job["MaxRetries"])
		}
		if job["SecurityConfiguration"] == nil || jsonOf(t, job["Connections"]) != `{"Connections":["`+s.Stack.Lake.Source.ConnectionName+`"]}` {
			t.Fatalf("job %v", job)
		}
	})

	t.Run("state machine", func(t *testing.T) {
		id, sm := s.find(t, "AWS::StepFunctions::StateMachine", func(p map[string]any) bool { return p["StateMachineName"] == names.StateMachine })
		if sm["DefinitionString"] != statemachine.Pipeline {
			t.Fatal("the deployed definition is not statemachine/pipeline.asl.json passed inline")
		}
		subs := sm["DefinitionSubstitutions"].(map[string]any)
		var keys []string
		for k := range subs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if want := statemachine.Placeholders(statemachine.Pipeline); !slices.Equal(keys, want) {
			t.Fatalf("substitutions %v, placeholders %v", keys, want)
		}
		logging := sm["LoggingConfiguration"].(map[string]any)
		if logging["Level"] != "ALL" || logging["IncludeExecutionData"] != false || jsonOf(t, sm["TracingConfiguration"]) != `{"Enabled":true}` {
			t.Fatalf("logging %v tracing %v", logging, sm["TracingConfiguration"])
		}
		// The role invokes exactly the step functions of the definition.
		roleID := refID(sm["RoleArn"])
		var invoked []string
		for _, st := range s.policyStatements(roleID) {
			if slices.Contains(strs(st["Action"]), "lambda:InvokeFunction") {
				for _, r := range st["Resource"].([]any) {
					invoked = append(invoked, refID(r))
				}
			}
		}
		var want []string
		for _, p := range keys {
			if p != statemachine.TopicPlaceholder {
				want = append(want, refID(subs[p]))
			}
		}
		sort.Strings(invoked)
		sort.Strings(want)
		if len(want) != 9 || !slices.Equal(invoked, want) {
			t.Fatalf("invoke %v, want %v", invoked, want)
		}
		_ = id
	})

	t.Run("schedule, rule and alarms", func(t *testing.T) {
		_, sch := s.find(t, "AWS::Scheduler::Schedule", nil)
		if sch["ScheduleExpression"] != "cron(45 9 * * ? *)" || sch["ScheduleExpressionTimezone"] != "UTC" || sch["State"] != "ENABLED" {
			t.Fatalf("schedule %v", sch)
		}
		target := sch["Target"].(map[string]any)
		smID, _ := s.find(t, "AWS::StepFunctions::StateMachine", nil)
		if refID(target["Arn"]) != smID {
			t.Fatalf("schedule target %v", target)
		}
		sts := s.policyStatements(refID(target["RoleArn"]))
		if len(sts) != 1 || jsonOf(t, sts[0]["Action"]) != `"states:StartExecution"` || refID(sts[0]["Resource"]) != smID {
			t.Fatalf("schedule role may do more than start the pipeline: %v", sts)
		}
		var metrics []string
		for _, a := range s.resources("AWS::CloudWatch::Alarm") {
			p := a["Properties"].(map[string]any)
			if p["Namespace"] == "AWS/States" && len(p["AlarmActions"].([]any)) == 1 && p["MetricName"] != "ExecutionsSucceeded" {
				metrics = append(metrics, p["MetricName"].(string))
			}
		}
		sort.Strings(metrics)
		if !slices.Equal(metrics, []string{"ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"}) {
			t.Fatalf("alarms on %v", metrics)
		}
	})

	t.Run("verify-query acts as the analyst", func(t *testing.T) {
		trust := jsonOf(t, s.resources("AWS::IAM::Role")[firstID(s, "AnalystRole")]["Properties"].(map[string]any)["AssumeRolePolicyDocument"])
		if !strings.Contains(trust, "StepVerifyQueryRole") {
			t.Fatalf("analyst trust %s", trust)
		}
	})

	t.Run("no cdk-nag findings on the pipeline", func(t *testing.T) {
		mine := []string{"/Pipeline", "/Schedule", "/DailySchedule", "/ImportJobEnded", "/ImportFallbackCheck", "/ImportTokens", "/FirstRunAtDeploy", "/StepFirstRun", "/GlueSecurity", "/ImportJob", "/ImportWorkflow", "/Import", "/StepStartImport", "/StepImportEvents", "/StepVerifyQuery", "/WorkflowRole", "/DataFreshnessAlarm", "/PipelineDashboard"}
		for _, f := range nagFindings(t, s) {
			for _, m := range mine {
				if strings.Contains(f, "/"+cfg.StackName+m) {
					t.Errorf("unexplained finding: %.300s", f)
				}
			}
		}
	})
}

func firstID(s synthesized, prefix string) string {
	for id := range s.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	return ""
}

func TestIncrementalModeAndDisabledSchedule(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Import.Mode = config.ModeIncremental
	cfg.Import.BookmarkKeys = map[string][]string{"products": {"id"}}
	cfg.Import.ExecutionClass = "STANDARD"
	cfg.Schedule.Enabled = false
	s := synth(t, cfg)
	_, job := s.find(t, "AWS::Glue::Job", named(cfg.Names().ImportJob))
	args := job["DefaultArguments"].(map[string]any)
	if args["--job-bookmark-option"] != "job-bookmark-disable" || args["--mode"] != "incremental" || args["--bookmark_keys"] != `{"products":["id"]}` || job["ExecutionClass"] != "STANDARD" {
		t.Fatalf("incremental job %v", job)
	}
	_, sch := s.find(t, "AWS::Scheduler::Schedule", nil)
	if sch["State"] != "DISABLED" {
		t.Fatalf("schedule %v", sch)
	}
}

// nagFindings returns the cdk-nag errors and warnings of the stack.
func nagFindings(t *testing.T, s synthesized) []string {
	t.Helper()
	ann := assertions.Annotations_FromStack(s.Stack.Stack)
	errs := ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	warns := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	var out []string
	for _, m := range append(*errs, *warns...) {
		out = append(out, *m.Id+": "+jsonOf(t, m.Entry.Data))
	}
	sort.Strings(out)
	return out
}
