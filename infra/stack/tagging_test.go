package stack

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// A failure of the import's event handling outside the state machine
// reaches the failure topic: undelivered rule events (each rule), and
// events Lambda dropped (import-events, and the TagOutput it invokes for
// runs started outside the pipeline).
func TestPostImportTaggingFailuresAlarm(t *testing.T) {
	st := synth(t, shippedConfig(t))
	topic := logicalID(st.Stack.Lake.Alerts.FailureTopic)
	tagFn := logicalID(st.Stack.Lake.Steps()["tag-output"].Function())
	eventsFn := logicalID(st.Stack.Lake.Steps()[ImportEventsFunction].Function())
	var found []string
	for _, a := range st.resources("AWS::CloudWatch::Alarm") {
		p := a["Properties"].(map[string]any)
		dims, _ := json.Marshal(p["Dimensions"])
		actions, _ := json.Marshal(p["AlarmActions"])
		switch {
		case p["Namespace"] == "AWS/Events" && p["MetricName"] == "FailedInvocations" && strings.Contains(string(dims), "Import"):
		case p["Namespace"] == "AWS/Lambda" && p["MetricName"] == "AsyncEventsDropped" && (strings.Contains(string(dims), tagFn) || strings.Contains(string(dims), eventsFn)):
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
	rules := 2 // the job rule and the fallback
	if strings.Join(found, ",") != "AsyncEventsDropped,AsyncEventsDropped,"+strings.TrimSuffix(strings.Repeat("FailedInvocations,", rules), ",") {
		t.Fatalf("tagging alarms on %v", found)
	}
}
