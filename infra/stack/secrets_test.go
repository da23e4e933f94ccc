package stack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// taskTokenPath is the one place of the definition that may hold the task
// token: the Lambda integration's payload that hands it to StartImport.
const taskTokenPath = "States.StartImport.Parameters.Payload.taskToken.$"

// A task token ends the wait of whoever holds it, and the database
// credentials live in Secrets Manager: the template must give neither a
// place to be written. It is scanned for every such place it controls:
// execution-data logging of a state machine that hands out a token, the
// token anywhere in the definition but StartImport's payload, a stream on
// the token table, and a secret value (a dynamic reference, which
// CloudFormation resolves into the resource's visible properties, or a
// property named like a password) in any resource, environment or output.
func TestTemplateWritesNoTokenOrSecret(t *testing.T) {
	for name, s := range map[string]synthesized{"shipped": synth(t, shippedConfig(t)), "network.manage": synth(t, managedNetworkConfig(t))} {
		t.Run(name, func(t *testing.T) {
			machines := s.resources("AWS::StepFunctions::StateMachine")
			if len(machines) == 0 {
				t.Fatal("no state machine in the template")
			}
			for id, sm := range machines {
				props := sm["Properties"].(map[string]any)
				def, ok := props["DefinitionString"].(string)
				if !ok {
					t.Fatalf("%s: the definition is not inline: the scan cannot read it", id)
				}
				var doc any
				if err := json.Unmarshal([]byte(def), &doc); err != nil {
					t.Fatal(err)
				}
				var at []string
				walkStrings(doc, "", func(path, v string) {
					if strings.Contains(v, "$$.Task.Token") || strings.Contains(path, "$$.Task.Token") {
						at = append(at, path)
					}
				})
				if !slices.Equal(at, []string{taskTokenPath}) {
					t.Errorf("%s: the task token appears at %v; only %s may hand it out", id, at, taskTokenPath)
				}
				logging, _ := props["LoggingConfiguration"].(map[string]any)
				if len(at) > 0 && logging != nil && logging["IncludeExecutionData"] != false {
					t.Errorf("%s hands out a task token and logs execution data (IncludeExecutionData %v): StartImport's parameters, the token among them, reach the log group", id, logging["IncludeExecutionData"])
				}
				if logging == nil || logging["Level"] != "ALL" {
					t.Errorf("%s: logging %v, want every event type (level ALL) without execution data", id, logging)
				}
			}
			for id, table := range s.resources("AWS::DynamoDB::Table") {
				props := table["Properties"].(map[string]any)
				for _, copyOut := range []string{"StreamSpecification", "KinesisStreamSpecification"} {
					if props[copyOut] != nil {
						t.Errorf("table %s has %s: every item written, a task token among them, would be copied out of the table", id, copyOut)
					}
				}
			}
			raw := string(s.rawJSON(t))
			if m := regexp.MustCompile(`\{\{resolve:(secretsmanager|ssm-secure):[^}]*\}\}`).FindString(raw); m != "" {
				t.Errorf("the template resolves a secret (%s): CloudFormation writes its value into the resource's properties", m)
			}
			passwordKey := regexp.MustCompile(`(?i)pass(word|wd)|secret_?(string|value)`)
			walkKeys(s.JSON, "", func(path, key string) {
				if passwordKey.MatchString(key) {
					t.Errorf("%s: a property named %q: credentials stay in the Secrets Manager secret, referenced by ARN", path, key)
				}
			})
		})
	}
}

// walkStrings calls fn with every string value (and every object key) of v
// and its dotted path.
func walkStrings(v any, path string, fn func(path, value string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := strings.TrimPrefix(path+"."+k, ".")
			fn(p, k)
			walkStrings(e, p, fn)
		}
	case []any:
		for i, e := range x {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case string:
		fn(path, x)
	}
}

// walkKeys calls fn with every object key of v and its path.
func walkKeys(v any, path string, fn func(path, key string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := strings.TrimPrefix(path+"."+k, ".")
			fn(p, k)
			walkKeys(e, p, fn)
		}
	case []any:
		for i, e := range x {
			walkKeys(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func (s synthesized) rawJSON(t *testing.T) []byte {
	t.Helper()
	raw, err := json.Marshal(s.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
