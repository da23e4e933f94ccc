package demo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/lakeforge/lakeforge/infra/stack"
	"github.com/lakeforge/lakeforge/internal/cfntemplate"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/statemachine"
)

// Account and region the demo resolves the template in: moto's defaults.
const (
	Account = "123456789012"
	Region  = "us-east-1"
)

// template is the synthesized stack as CloudFormation would render it in
// the demo account.
type template struct {
	*cfntemplate.Template
	// functions maps each step function (functions/<name>) to its logical id.
	functions map[string]string
}

// synthesize builds the stack from cfg as infra/main.go does (the real
// Lambda binaries of `make build` in dist/) and returns its template.
func synthesize(root string, cfg config.Config, flags map[string]any) (*template, error) {
	dist := filepath.Join(root, "dist")
	if _, err := os.Stat(dist); err != nil {
		return nil, fmt.Errorf("no %s: run `make build` first (make demo does)", dist)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &flags})
	s := stack.New(app, cfg.StackName, &stack.Props{Config: cfg, AssetDir: dist})
	raw, err := json.Marshal(assertions.Template_FromStack(s.Stack, nil).ToJSON())
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	t := &template{Template: cfntemplate.New(doc, Account, Region), functions: map[string]string{}}
	for name, step := range s.Lake.Steps() {
		t.functions[name] = *s.Stack.GetLogicalId(step.Function().Node().DefaultChild().(awscdk.CfnElement))
	}
	return t, nil
}

// functionEnv is a step function's environment from the template.
func (t *template) functionEnv(id string) (map[string]string, error) {
	env := map[string]string{}
	e, _ := t.Props(id)["Environment"].(map[string]any)
	vars, _ := e["Variables"].(map[string]any)
	for k, v := range vars {
		s, err := t.Resolve(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		env[k] = s
	}
	return env, nil
}

// importJob is the logical id of the template's one Glue job.
func (t *template) importJob() (string, error) {
	jobs := t.ByType("AWS::Glue::Job")
	if len(jobs) != 1 {
		return "", fmt.Errorf("the template has %d Glue jobs, want 1 (the import job)", len(jobs))
	}
	return jobs[0], nil
}

// jobRun is what Glue reports of the import job's capacity on each of its
// runs, from the job's definition in the template.
type jobRun struct {
	WorkerType      string
	NumberOfWorkers int
	ExecutionClass  string
}

// jobRunDetails reads the import job's WorkerType, NumberOfWorkers and
// ExecutionClass (zero values when the template has no single job).
func (t *template) jobRunDetails() jobRun {
	id, err := t.importJob()
	if err != nil {
		return jobRun{}
	}
	p := t.Props(id)
	var j jobRun
	j.WorkerType, _ = p["WorkerType"].(string)
	j.ExecutionClass, _ = p["ExecutionClass"].(string)
	if n, ok := p["NumberOfWorkers"].(float64); ok {
		j.NumberOfWorkers = int(n)
	}
	return j
}

// definition is the state machine's definition with its
// DefinitionSubstitutions filled in, as CloudFormation fills them at
// deploy time: every function ARN and the failure topic are the
// template's own.
func (t *template) definition() (string, error) {
	machines := t.ByType("AWS::StepFunctions::StateMachine")
	if len(machines) != 1 {
		return "", fmt.Errorf("the template has %d state machines, want 1 (the pipeline)", len(machines))
	}
	props := t.Props(machines[0])
	def, ok := props["DefinitionString"].(string)
	if !ok {
		raw, _ := json.Marshal(props["DefinitionString"])
		return "", fmt.Errorf("the pipeline's DefinitionString is %s, want the inline definition", raw)
	}
	subs, _ := props["DefinitionSubstitutions"].(map[string]any)
	for k, v := range subs {
		s, err := t.Resolve(v)
		if err != nil {
			return "", fmt.Errorf("DefinitionSubstitutions %s: %w", k, err)
		}
		def = strings.ReplaceAll(def, "${"+k+"}", s)
	}
	if left := statemachine.Placeholders(def); len(left) > 0 {
		return "", fmt.Errorf("the pipeline's placeholders %v have no DefinitionSubstitutions in the template", left)
	}
	return def, nil
}
