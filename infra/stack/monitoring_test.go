package stack

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/config"
)

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
		id, props := firstRunResource(t, s)
		if refID(props["StateMachineArn"]) != smID || !strings.Contains(jsonOf(t, props["Input"]), `\"trigger\":\"deploy`) {
			t.Errorf("first run starts %v with %v", props["StateMachineArn"], props["Input"])
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
	})
}

func TestFirstRunSwitchedOff(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Schedule.RunAtDeploy = false
	cfg.Schedule.Enabled = false
	s := synth(t, cfg)
	for id, r := range s.JSON["Resources"].(map[string]any) {
		if typ := r.(map[string]any)["Type"]; typ == "Custom::LakeforgeFirstRun" || typ == "Custom::AWS" {
			t.Fatalf("schedule.runAtDeploy false still deploys %s", id)
		}
	}
	if _, ok := s.Stack.Lake.Steps()[FirstRunFunction]; ok {
		t.Fatal("schedule.runAtDeploy false still deploys the first-run function")
	}
	// No schedule, no freshness alarm (nothing would keep the data fresh).
	for _, a := range s.resources("AWS::CloudWatch::Alarm") {
		if a["Properties"].(map[string]any)["MetricName"] == "ExecutionsSucceeded" {
			t.Fatal("a freshness alarm without a schedule would always fire")
		}
	}
	_ = config.ContextKey
}
