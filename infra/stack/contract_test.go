package stack

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/internal/cfntemplate"
	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/pkg/steps"
)

// Pseudo parameters and the account the contract test resolves the
// template in: moto's default account and region.
const (
	contractAccount = "123456789012"
	contractRegion  = "us-east-1"
)

// TestTemplateIsTheStepContract reads each step function's environment
// from the synthesized template and starts the function's real wiring (the
// registered Definition its main.go runs: pkg/steps) with exactly that
// environment, plus the variables the Lambda runtime adds (region,
// credentials; the endpoint points at moto). A variable a step reads and
// the template does not set, one the template sets and no step reads, or a
// value in an encoding the step cannot read fails here. The handler is
// then invoked: a non-object event must be an InvalidInputError, and the
// event the pipeline sends must reach AWS (moto) past every check of
// configuration and input.
func TestTemplateIsTheStepContract(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	moto := startContractMoto(t)
	checkStepContract(t, st)

	// The LF-tags of the template's environment, created on moto, are the
	// configured ones: the value's encoding is the one the step reads.
	client := lf.NewFromConfig(aws.Config{Region: contractRegion, BaseEndpoint: aws.String(moto.URL), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	for key, values := range cfg.LFTags.Tags {
		got, err := client.GetLFTag(context.Background(), &lf.GetLFTagInput{TagKey: aws.String(key)})
		if err != nil {
			t.Errorf("ensure-lf-tags with the template's environment did not create LF-tag %s: %v", key, err)
			continue
		}
		if !slices.Equal(slices.Sorted(slices.Values(got.TagValues)), slices.Sorted(slices.Values(values))) {
			t.Errorf("LF-tag %s has values %v, the configuration %v", key, got.TagValues, values)
		}
	}
}

// The same contract for the other shape of the configuration: existing
// admin and analyst principals instead of the stack's roles (so the
// analyst role VerifyQuery assumes and the analyst list come from the
// configuration), TestConnection in repair mode, and network.manage.
func TestTemplateIsTheStepContractWithExistingPrincipals(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Personas.Admins.CreateRole, cfg.Personas.Admins.GroupName = false, ""
	cfg.Personas.Admins.PrincipalARNs = []string{"arn:aws:iam::123456789012:role/existing-admin"}
	cfg.Personas.Analysts.CreateRole, cfg.Personas.Analysts.GroupName = false, ""
	cfg.Personas.Analysts.PrincipalARNs = []string{"arn:aws:iam::123456789012:user/analyst", "arn:aws:iam::123456789012:role/existing-analyst"}
	cfg.Preflight.Repair = true
	cfg.Network.Manage = true // manage-network is deployed only then
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st := synth(t, cfg)
	startContractMoto(t)
	checkStepContract(t, st)
}

// startContractMoto starts moto and sets the variables the Lambda runtime
// gives every function (never the function's own), pointing the SDK at it.
func startContractMoto(t *testing.T) *motoserver.Server {
	t.Helper()
	moto, err := motoserver.Start()
	if err != nil {
		t.Fatalf("the contract test runs the steps against moto: %v", err)
	}
	t.Cleanup(moto.Stop)
	t.Setenv("AWS_REGION", contractRegion)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ENDPOINT_URL", moto.URL)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	return moto
}

func checkStepContract(t *testing.T, st synthesized) {
	t.Helper()
	var deployed []string
	for _, name := range stepcontract.Functions {
		if !slices.Contains(undeployedFunctions(st.Config), name) {
			deployed = append(deployed, name)
		}
	}
	if got, want := slices.Sorted(maps.Keys(st.Stack.Lake.Steps())), slices.Sorted(slices.Values(deployed)); !slices.Equal(got, want) {
		t.Fatalf("the stack deploys %v, stepcontract.Functions lists %v for this configuration", got, want)
	}
	resources := st.JSON["Resources"].(map[string]any)
	tpl := cfntemplate.New(st.JSON, contractAccount, contractRegion)
	for _, name := range deployed {
		t.Run(name, func(t *testing.T) {
			w, ok := steps.ByName(name)
			if !ok {
				t.Fatalf("no step %s in pkg/steps", name)
			}
			id := *st.Stack.GetLogicalId(st.Stack.Lake.Steps()[name].Function().Node().DefaultChild().(awscdk.CfnElement))
			vars, _ := dig(resources[id].(map[string]any), "Properties", "Environment", "Variables").(map[string]any)
			env := map[string]string{}
			for k, v := range vars {
				s, err := tpl.Resolve(v)
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				env[k] = s
			}

			step := steprun.NewWithEnv(name, env)
			h, err := w.Wire(step)
			if err != nil {
				t.Fatalf("wiring with the template's environment %v: %v", env, err)
			}
			read := step.Env.Names()
			for k := range env {
				if !slices.Contains(read, k) {
					t.Errorf("the template sets %s=%q, and %s never reads it", k, env[k], name)
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang bound, not a speed goal
			defer cancel()
			if _, err := h(ctx, json.RawMessage(`["not","an","object"]`)); !isType[*steperr.InvalidInputError](err) {
				t.Errorf("a non-object event: %T %v, want InvalidInputError", err, err)
			}
			out, err := h(ctx, json.RawMessage(pipelineEvent(name, env)))
			if isType[*steperr.ConfigError](err) || isType[*steperr.InvalidInputError](err) {
				t.Fatalf("the pipeline's event, with the template's environment: %T %v", err, err)
			}
			if err != nil && reflect.TypeOf(err).Elem().PkgPath() != reflect.TypeFor[steperr.ConfigError]().PkgPath() {
				t.Fatalf("not a steperr type: %T %v", err, err)
			}
			t.Logf("against moto: %v / %v", out, err)

			// Every EventBridge rule that targets the function sends events
			// its pattern matches; the handler must accept them.
			events := ruleEvents(t, resources, id)
			// Runs started outside the state machine are tagged too:
			// import-events, which the Glue rules invoke, invokes tag-output.
			if name == stepcontract.ImportEvents && len(events) == 0 {
				t.Error("no EventBridge rule targets import-events: a run's end would never be noticed")
			}
			if name == stepcontract.ImportEvents {
				tagID := *st.Stack.GetLogicalId(st.Stack.Lake.Steps()[stepcontract.TagOutput].Function().Node().DefaultChild().(awscdk.CfnElement))
				if ref, _ := dig(vars, stepcontract.EnvTagFunction, "Ref").(string); ref != tagID {
					t.Errorf("import-events invokes %v, not tag-output (%s): runs started outside the state machine would stay untagged", vars[stepcontract.EnvTagFunction], tagID)
				}
			}
			for _, event := range events {
				if _, err := h(ctx, json.RawMessage(event)); isType[*steperr.InvalidInputError](err) || isType[*steperr.ConfigError](err) {
					t.Errorf("the event of its EventBridge rule %s is refused: %v", event, err)
				}
			}
		})
	}
}

// ruleEvents builds, for every AWS::Events::Rule of the template whose
// target is the function with logical id fnID, the event its pattern
// matches: each pattern field takes its first allowed value, inside the
// envelope EventBridge adds.
func ruleEvents(t *testing.T, resources map[string]any, fnID string) []string {
	t.Helper()
	var out []string
	for _, r := range resources {
		res := r.(map[string]any)
		if res["Type"] != "AWS::Events::Rule" {
			continue
		}
		targets, _ := json.Marshal(dig(res, "Properties", "Targets"))
		if !strings.Contains(string(targets), `"`+fnID+`"`) {
			continue
		}
		event := map[string]any{
			"version": "0", "id": "contract-event", "account": contractAccount, "region": contractRegion,
			"time": "2026-01-01T09:45:00Z", "resources": []any{},
		}
		pattern, _ := dig(res, "Properties", "EventPattern").(map[string]any)
		if pattern == nil {
			// A schedule rule sends EventBridge's Scheduled Event.
			if dig(res, "Properties", "ScheduleExpression") == nil {
				t.Fatalf("rule %v has neither an event pattern nor a schedule", res)
			}
			event["source"], event["detail-type"], event["detail"] = "aws.events", "Scheduled Event", map[string]any{}
		}
		matched := firstValues(t, pattern)
		if matched["detail-type"] == importrun.JobStateChange {
			// The whole event Glue sends, with the job and state the
			// pattern names.
			detail, _ := matched["detail"].(map[string]any)
			job, _ := detail["jobName"].(string)
			state, _ := detail["state"].(string)
			out = append(out, string(contractJobEvent(job, state)))
			continue
		}
		for k, v := range matched {
			event[k] = v
		}
		raw, _ := json.Marshal(event)
		out = append(out, string(raw))
	}
	return out
}

// contractJobEvent is the Glue Job State Change of job's run jr_contract.
func contractJobEvent(job, state string) json.RawMessage {
	return importrun.JobStateChangeEvent{ID: "contract-event", Account: contractAccount, Region: contractRegion,
		Time: time.Date(2026, 1, 1, 9, 45, 0, 0, time.UTC), JobName: job, JobRunID: "jr_contract", State: state, Message: "Job run " + state}.JSON()
}

// firstValues turns an event pattern into a matching event: every list of
// allowed values becomes its first value, nested objects recursively.
func firstValues(t *testing.T, pattern map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range pattern {
		switch x := v.(type) {
		case []any:
			if len(x) == 0 {
				t.Fatalf("pattern field %s allows nothing", k)
			}
			if _, ok := x[0].(map[string]any); ok {
				t.Fatalf("pattern field %s uses a content filter %v the contract test does not render", k, x[0])
			}
			out[k] = x[0]
		case map[string]any:
			out[k] = firstValues(t, x)
		default:
			t.Fatalf("pattern field %s is %v", k, v)
		}
	}
	return out
}

// pipelineEvent is the event the state machine (or EventBridge) sends.
func pipelineEvent(name string, env map[string]string) string {
	switch name {
	case stepcontract.StartImport:
		return `{"executionName":"contract","taskToken":"AAAAKgAAAAIAAAAAAAAAAcontracttoken"}`
	case stepcontract.ImportEvents:
		return string(contractJobEvent(env[stepcontract.EnvImportJob], "SUCCEEDED"))
	case stepcontract.VerifyQuery:
		return `{"runId":"wr_contract"}`
	}
	return `{}`
}

func isType[T error](err error) bool {
	var target T
	return err != nil && errors.As(err, &target) && reflect.TypeOf(err) == reflect.TypeOf(target)
}
