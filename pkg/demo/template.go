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
	resources map[string]any
	outputs   map[string]any
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
	t := &template{resources: map[string]any{}, outputs: map[string]any{}, functions: map[string]string{}}
	for name, step := range s.Steps {
		t.functions[name] = *s.Stack.GetLogicalId(step.Function().Node().DefaultChild().(awscdk.CfnElement))
	}
	if r, ok := doc["Resources"].(map[string]any); ok {
		t.resources = r
	}
	if o, ok := doc["Outputs"].(map[string]any); ok {
		t.outputs = o
	}
	return t, nil
}

func (t *template) typeOf(id string) string {
	r, _ := t.resources[id].(map[string]any)
	s, _ := r["Type"].(string)
	return s
}

func (t *template) props(id string) map[string]any {
	r, _ := t.resources[id].(map[string]any)
	p, _ := r["Properties"].(map[string]any)
	return p
}

// byType lists the logical ids of one resource type.
func (t *template) byType(typ string) []string {
	var out []string
	for id := range t.resources {
		if t.typeOf(id) == typ {
			out = append(out, id)
		}
	}
	return out
}

// nameProps are the properties that name a resource, by type.
var nameProps = map[string]string{
	"AWS::S3::Bucket": "BucketName", "AWS::IAM::Role": "RoleName", "AWS::Glue::Workflow": "Name",
	"AWS::Glue::Job": "Name", "AWS::Glue::Crawler": "Name", "AWS::Glue::Trigger": "Name",
	"AWS::Athena::WorkGroup": "Name", "AWS::SNS::Topic": "TopicName", "AWS::StepFunctions::StateMachine": "StateMachineName",
	"AWS::DynamoDB::Table": "TableName", "AWS::Lambda::Function": "FunctionName",
}

// name is a resource's physical name: its name property when the template
// sets one, else one made from the logical id, as CloudFormation makes it.
func (t *template) name(id string) string {
	if p := nameProps[t.typeOf(id)]; p != "" {
		if v, ok := t.props(id)[p]; ok {
			if s, err := t.resolve(v); err == nil && s != "" {
				return s
			}
		}
	}
	if t.typeOf(id) == "AWS::Glue::Connection" {
		if ci, ok := t.props(id)["ConnectionInput"].(map[string]any); ok {
			if s, err := t.resolve(ci["Name"]); err == nil && s != "" {
				return s
			}
		}
	}
	return strings.ToLower(id)
}

// resolve renders a template value: pseudo parameters, Ref and
// Fn::GetAtt of the stack's resources, Fn::Join and Fn::Select/Split of
// literals. Any other intrinsic is an error, never a guess.
func (t *template) resolve(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, float64:
		return fmt.Sprint(x), nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			switch ref {
			case "AWS::AccountId":
				return Account, nil
			case "AWS::Region":
				return Region, nil
			case "AWS::Partition":
				return "aws", nil
			case "AWS::URLSuffix":
				return "amazonaws.com", nil
			case "AWS::StackName":
				return "", fmt.Errorf("the demo does not render Ref AWS::StackName")
			}
			if t.typeOf(ref) == "" {
				return "", fmt.Errorf("a Ref to %s, which is no resource of the template", ref)
			}
			switch t.typeOf(ref) {
			case "AWS::SNS::Topic":
				return "arn:aws:sns:" + Region + ":" + Account + ":" + t.name(ref), nil
			case "AWS::StepFunctions::StateMachine":
				return "arn:aws:states:" + Region + ":" + Account + ":stateMachine:" + t.name(ref), nil
			}
			return t.name(ref), nil
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			return t.attr(fmt.Sprint(att[0]), fmt.Sprint(att[1]))
		}
		if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			var out []string
			for _, p := range parts {
				s, err := t.resolve(p)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), nil
		}
	}
	raw, _ := json.Marshal(v)
	return "", fmt.Errorf("template value %s is not rendered by the demo", raw)
}

func (t *template) attr(id, att string) (string, error) {
	n := t.name(id)
	switch typ := t.typeOf(id); {
	case typ == "AWS::IAM::Role" && att == "Arn":
		return "arn:aws:iam::" + Account + ":role/" + n, nil
	case typ == "AWS::S3::Bucket" && att == "Arn":
		return "arn:aws:s3:::" + n, nil
	case typ == "AWS::SNS::Topic" && att == "TopicArn":
		return "arn:aws:sns:" + Region + ":" + Account + ":" + n, nil
	case typ == "AWS::Lambda::Function" && att == "Arn":
		return "arn:aws:lambda:" + Region + ":" + Account + ":function:" + n, nil
	case typ == "AWS::DynamoDB::Table" && att == "Arn":
		return "arn:aws:dynamodb:" + Region + ":" + Account + ":table/" + n, nil
	case typ == "AWS::StepFunctions::StateMachine" && att == "Arn":
		return "arn:aws:states:" + Region + ":" + Account + ":stateMachine:" + n, nil
	case typ == "AWS::KMS::Key" && att == "Arn":
		return "arn:aws:kms:" + Region + ":" + Account + ":key/" + n, nil
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s (%s) is not rendered by the demo", id, att, t.typeOf(id))
}

// functionEnv is a step function's environment from the template.
func (t *template) functionEnv(id string) (map[string]string, error) {
	env := map[string]string{}
	e, _ := t.props(id)["Environment"].(map[string]any)
	vars, _ := e["Variables"].(map[string]any)
	for k, v := range vars {
		s, err := t.resolve(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		env[k] = s
	}
	return env, nil
}

// output is one stack output's value.
func (t *template) output(key string) (string, error) {
	o, ok := t.outputs[key].(map[string]any)
	if !ok {
		return "", fmt.Errorf("the template has no output %s", key)
	}
	return t.resolve(o["Value"])
}

// importJob is the logical id of the template's one Glue job.
func (t *template) importJob() (string, error) {
	jobs := t.byType("AWS::Glue::Job")
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
	p := t.props(id)
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
	machines := t.byType("AWS::StepFunctions::StateMachine")
	if len(machines) != 1 {
		return "", fmt.Errorf("the template has %d state machines, want 1 (the pipeline)", len(machines))
	}
	props := t.props(machines[0])
	def, ok := props["DefinitionString"].(string)
	if !ok {
		raw, _ := json.Marshal(props["DefinitionString"])
		return "", fmt.Errorf("the pipeline's DefinitionString is %s, want the inline definition", raw)
	}
	subs, _ := props["DefinitionSubstitutions"].(map[string]any)
	for k, v := range subs {
		s, err := t.resolve(v)
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
