package stack

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// A failed post-import tagging outside the state machine reaches the
// failure topic: undelivered rule events and events Lambda dropped.
func TestPostImportTaggingFailuresAlarm(t *testing.T) {
	st := synth(t, shippedConfig(t))
	topic := st.Stack.logicalID(st.Stack.FailureTopic)
	tagFn := st.Stack.logicalID(st.Stack.Steps["tag-output"].Function())
	var found []string
	for _, a := range st.resources("AWS::CloudWatch::Alarm") {
		p := a["Properties"].(map[string]any)
		dims, _ := json.Marshal(p["Dimensions"])
		actions, _ := json.Marshal(p["AlarmActions"])
		switch {
		case p["Namespace"] == "AWS/Events" && p["MetricName"] == "FailedInvocations" && strings.Contains(string(dims), "OutputCrawlerSucceeded"):
		case p["Namespace"] == "AWS/Lambda" && p["MetricName"] == "AsyncEventsDropped" && strings.Contains(string(dims), tagFn):
		default:
			continue
		}
		if !strings.Contains(string(actions), topic) {
			t.Errorf("%s alarm does not notify the failure topic: %s", p["MetricName"], actions)
		}
		if p["Threshold"] != 1.0 || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
			t.Errorf("%s alarm fires at %v %v", p["MetricName"], p["ComparisonOperator"], p["Threshold"])
		}
		found = append(found, p["MetricName"].(string))
	}
	sort.Strings(found)
	if strings.Join(found, ",") != "AsyncEventsDropped,FailedInvocations" {
		t.Fatalf("tagging alarms on %v", found)
	}
}
