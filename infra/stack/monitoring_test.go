package stack

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// The freshness threshold comes from the schedule: the longest gap between
// two starts plus 2 hours (issue 10: "more than 26 hours for a daily run").
func TestStaleAfterHoursFollowsTheSchedule(t *testing.T) {
	for _, c := range []struct {
		expr    string
		enabled bool
		want    int
	}{
		{"cron(45 9 * * ? *)", true, 26},       // daily
		{"cron(0 */6 * * ? *)", true, 8},       // every 6 hours
		{"cron(0 8,20 * * ? *)", true, 14},     // twice a day, 12 h apart
		{"cron(0 6,9 * * ? *)", true, 23},      // 06:00 and 09:00: the night gap is 21 h
		{"rate(12 hours)", true, 14},           //
		{"rate(1 day)", true, 26},              //
		{"rate(30 minutes)", true, 3},          // at least an hour
		{"cron(45 9 ? * MON-FRI *)", true, 74}, // Friday 09:45 to Monday 09:45
		{"cron(0 3 ? * SUN *)", true, 170},     // weekly: 168 + 2 exceeds what an alarm can watch
		{"cron(0 3 1 * ? *)", true, 0},         // monthly
		{"cron(45 9 * * ? *)", false, 0},       // schedule off: nothing to watch
		{"at(2026-03-10T09:45:00)", true, 0},   // one time
	} {
		got := StaleAfterHours(c.expr, c.enabled)
		want := c.want
		if want > 7*24 {
			want = 0
		}
		if got != want {
			t.Errorf("StaleAfterHours(%q, %v) = %d, want %d", c.expr, c.enabled, got, want)
		}
	}
}

func TestFreshnessAlarmDashboardAndFirstRun(t *testing.T) {
	cfg := shippedConfig(t)
	s := synth(t, cfg)
	smID, _ := s.find(t, "AWS::StepFunctions::StateMachine", nil)
	topic := logicalID(s.Stack.Lake.Alerts.FailureTopic)

	t.Run("freshness alarm", func(t *testing.T) {
		_, a := s.find(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool { return p["MetricName"] == "ExecutionsSucceeded" })
		dims := jsonOf(t, a["Dimensions"])
		// 26 hourly periods, each breaching without a success: the alarm
		// fires after 26 hours without one, the daily schedule's allowance.
		if a["Namespace"] != "AWS/States" || !strings.Contains(dims, smID) || a["Statistic"] != "Sum" || a["Period"] != 3600.0 ||
			a["EvaluationPeriods"] != 26.0 || a["DatapointsToAlarm"] != 26.0 || a["Threshold"] != 1.0 ||
			a["ComparisonOperator"] != "LessThanThreshold" || a["TreatMissingData"] != "breaching" ||
			!strings.Contains(jsonOf(t, a["AlarmActions"]), topic) {
			t.Fatalf("freshness alarm %v", a)
		}
		if p, e := a["Period"].(float64), a["EvaluationPeriods"].(float64); p*e > 604800 {
			t.Fatalf("evaluation range %v s exceeds CloudWatch's 7 days", p*e)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		_, d := s.find(t, "AWS::CloudWatch::Dashboard", nil)
		if d["DashboardName"] != cfg.Names().Dashboard {
			t.Fatalf("dashboard %v", d["DashboardName"])
		}
		body := jsonOf(t, d["DashboardBody"])
		for _, want := range []string{
			"ExecutionsSucceeded", "ExecutionsFailed", // runs
			"ExecutionTime",                                     // duration
			`ImportedRows`, `Database=\\\"` + cfg.Database.Name, // rows per table
			"TablesFailingVerification",            // verify result
			"Data freshness", "DataFreshnessAlarm", // freshness
		} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %s", want)
			}
		}
	})

	t.Run("first run at deploy", func(t *testing.T) {
		var id string
		var props map[string]any
		for rid, r := range s.JSON["Resources"].(map[string]any) {
			if strings.HasPrefix(rid, "FirstRun") && r.(map[string]any)["Type"] == "Custom::AWS" {
				id, props = rid, r.(map[string]any)["Properties"].(map[string]any)
			}
		}
		if id == "" {
			t.Fatal("no first-run custom resource")
		}
		create := jsonOf(t, props["Create"])
		for _, want := range []string{`\"service\":\"SFN\"`, `\"action\":\"startExecution\"`, smID, `\"trigger\\\":\\\"deploy`} {
			if !strings.Contains(create, want) {
				t.Errorf("first run's create call lacks %s: %s", want, create)
			}
		}
		if jsonOf(t, props["Update"]) != create {
			t.Error("a deploy that changes the pipeline must start a run too")
		}
		// Created last: it depends on the state machine, the schedule, the
		// event rules and the access-model steps.
		deps := s.JSON["Resources"].(map[string]any)[id].(map[string]any)["DependsOn"]
		var list []string
		b, _ := json.Marshal(deps)
		_ = json.Unmarshal(b, &list)
		for _, want := range []string{smID, firstID(s, "ScheduleRole"), logicalID(s.Stack.Lake.Steps()[ImportEventsFunction].Function()), logicalID(s.Stack.Lake.Steps()["configure-lake-formation"].Function())} {
			if !slices.Contains(list, want) {
				t.Errorf("first run does not wait for %s (depends on %d resources)", want, len(list))
			}
		}
		// Its role may start this state machine and nothing else.
		var actions []string
		for _, r := range s.resources("AWS::IAM::Policy") {
			p := r["Properties"].(map[string]any)
			if !strings.Contains(jsonOf(t, p["PolicyName"]), "FirstRun") {
				continue
			}
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				actions = append(actions, strs(st.(map[string]any)["Action"])...)
				if refID(st.(map[string]any)["Resource"]) != smID {
					t.Errorf("first run may act on %v", st.(map[string]any)["Resource"])
				}
			}
		}
		if !slices.Equal(actions, []string{"states:StartExecution"}) {
			t.Fatalf("first run actions %v", actions)
		}
	})
}

func TestFirstRunSwitchedOff(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Schedule.RunAtDeploy = false
	cfg.Schedule.Enabled = false
	s := synth(t, cfg)
	for id, r := range s.JSON["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == "Custom::AWS" {
			t.Fatalf("schedule.runAtDeploy false still deploys %s", id)
		}
	}
	// No schedule, no freshness alarm (nothing would keep the data fresh).
	for _, a := range s.resources("AWS::CloudWatch::Alarm") {
		if a["Properties"].(map[string]any)["MetricName"] == "ExecutionsSucceeded" {
			t.Fatal("a freshness alarm without a schedule would always fire")
		}
	}
	_ = config.ContextKey
}
