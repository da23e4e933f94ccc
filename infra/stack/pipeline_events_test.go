package stack

import (
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// The event-driven wait on the synthesized template: the rule matches the
// documented Glue job events exactly (states upper case), the fallback
// runs every 10 minutes, the token
// table is reachable only by the two import functions, and the handler's
// environment names what it needs.
func TestImportEventsTemplate(t *testing.T) {
	cfg := shippedConfig(t)
	names := cfg.Names()
	s := synth(t, cfg)
	fnID := logicalID(s.Stack.Lake.Steps()[ImportEventsFunction].Function())

	rules := map[string]map[string]any{}
	for id, r := range s.resources("AWS::Events::Rule") {
		rules[id] = r["Properties"].(map[string]any)
	}
	byPrefix := func(prefix string) map[string]any {
		for id, p := range rules {
			if strings.HasPrefix(id, prefix) {
				return p
			}
		}
		t.Fatalf("no rule %s* among %v", prefix, rules)
		return nil
	}
	job := byPrefix("ImportJobEnded")
	if got := jsonOf(t, job["EventPattern"]); got != `{"detail":{"jobName":["`+names.ImportJob+`"],"state":["SUCCEEDED","FAILED","TIMEOUT","STOPPED"]},"detail-type":["Glue Job State Change"],"source":["aws.glue"]}` {
		t.Fatalf("job rule pattern %s", got)
	}
	// The import job ends the import: no crawler runs, and no rule
	// listens for one.
	if len(rules) != 2 {
		t.Fatalf("import rules %v, want the job rule and the fallback", slices.Sorted(maps.Keys(rules)))
	}
	if fb := byPrefix("ImportFallbackCheck"); fb["ScheduleExpression"] != "rate(10 minutes)" {
		t.Fatalf("fallback %v", fb["ScheduleExpression"])
	}
	for id, p := range rules {
		if !strings.HasPrefix(id, "Import") {
			continue
		}
		tg := p["Targets"].([]any)
		if len(tg) != 1 || refID(tg[0].(map[string]any)["Arn"]) != fnID {
			t.Errorf("rule %s targets %v, want import-events", id, tg)
		}
		if rp := jsonOf(t, tg[0].(map[string]any)["RetryPolicy"]); rp != `{"MaximumEventAgeInSeconds":7200,"MaximumRetryAttempts":4}` {
			t.Errorf("rule %s retry policy %s", id, rp)
		}
	}

	// The handler's environment, as the function reads it.
	env := s.resource(t, fnID)["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	tableID, _ := s.find(t, "AWS::DynamoDB::Table", nil)
	if env[stepcontract.EnvWorkflowName] != names.Workflow || env[stepcontract.EnvImportJob] != names.ImportJob ||
		env[stepcontract.EnvWaitTimeoutMinutes] != "360" || refID(env[stepcontract.EnvTokenTable]) != tableID ||
		refID(env[stepcontract.EnvTagFunction]) != logicalID(s.Stack.Lake.Steps()["tag-output"].Function()) {
		t.Fatalf("import-events environment %v", env)
	}
	startEnv := s.resource(t, logicalID(s.Stack.Lake.Steps()["start-import"].Function()))["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if refID(startEnv[stepcontract.EnvTokenTable]) != tableID || startEnv[stepcontract.EnvWorkflowName] != names.Workflow {
		t.Fatalf("start-import environment %v", startEnv)
	}

	// The token table: keys as the code writes them, TTL, encrypted.
	table := s.resource(t, tableID)["Properties"].(map[string]any)
	if jsonOf(t, table["KeySchema"]) != `[{"AttributeName":"runId","KeyType":"HASH"},{"AttributeName":"executionName","KeyType":"RANGE"}]` ||
		jsonOf(t, table["TimeToLiveSpecification"]) != `{"AttributeName":"expiresAt","Enabled":true}` ||
		jsonOf(t, table["SSESpecification"]) != `{"SSEEnabled":true}` {
		t.Fatalf("token table %v", table)
	}
	// Only the two import functions reach the table.
	var readers []string
	for _, r := range s.resources("AWS::IAM::Policy") {
		p := r["Properties"].(map[string]any)
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			if strings.Contains(jsonOf(t, st.(map[string]any)["Action"]), "dynamodb:") {
				readers = append(readers, refID(p["Roles"].([]any)[0]))
			}
		}
	}
	sort.Strings(readers)
	readers = slices.Compact(readers)
	want := []string{logicalID(s.Stack.Lake.Steps()["import-events"].Role()), logicalID(s.Stack.Lake.Steps()["start-import"].Role())}
	sort.Strings(want)
	if !slices.Equal(readers, want) {
		t.Fatalf("roles with DynamoDB access %v, want %v", readers, want)
	}
	// import-events writes only token-less claims (issue 17): its PutItem
	// may carry the key and the TTL attributes, never a task token.
	var puts []statement
	for _, st := range s.roleStatements(logicalID(s.Stack.Lake.Steps()["import-events"].Role())) {
		if slices.Contains(st.Actions, "dynamodb:PutItem") {
			puts = append(puts, st)
		}
	}
	if len(puts) != 1 || !strings.Contains(puts[0].raw, `"ForAllValues:StringEquals":{"dynamodb:Attributes":["runId","executionName","expiresAt"]}`) {
		t.Fatalf("import-events PutItem statements %+v; want one limited to the claim's attributes", puts)
	}
}

// The state machine invokes StartImport through the callback integration;
// its role may invoke the function and nothing else new.
func TestStartImportWaitsForTheToken(t *testing.T) {
	var asl struct {
		States map[string]struct {
			Resource       string
			TimeoutSeconds int
			Parameters     map[string]any
		}
	}
	s := synth(t, shippedConfig(t))
	_, sm := s.find(t, "AWS::StepFunctions::StateMachine", nil)
	if err := json.Unmarshal([]byte(sm["DefinitionString"].(string)), &asl); err != nil {
		t.Fatal(err)
	}
	st := asl.States["StartImport"]
	if st.Resource != "arn:aws:states:::lambda:invoke.waitForTaskToken" || st.Parameters["FunctionName"] != "${StartImportFunctionArn}" {
		t.Fatalf("StartImport %+v", st)
	}
	// The last guard: longer than the longest wait the config allows.
	if st.TimeoutSeconds <= 1440*60 || st.TimeoutSeconds >= 93600 {
		t.Fatalf("StartImport TimeoutSeconds %d, want between import.waitTimeoutMinutes' maximum and the execution's timeout", st.TimeoutSeconds)
	}
}
