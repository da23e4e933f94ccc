package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	gluescript "github.com/lakeforge/lakeforge/infra/glue"
	"github.com/lakeforge/lakeforge/pkg/firstrun"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/statemachine"
)

// FirstRunFunction is the folder of the first-run custom resource's handler.
const FirstRunFunction = stepcontract.FirstRun

// firstRunID is the construct id of the first-run custom resource.
const firstRunID = "FirstRunAtDeploy"

// FirstRunInput is the input of the execution a deploy starts: the
// digest of what a run depends on makes a deploy that changed any of it
// update the custom resource, and so start one execution.
func FirstRunInput(digest string) string {
	return `{"trigger":"deploy","pipelineDigest":"` + digest + `"}`
}

// PipelineDigest is the digest of everything a pipeline run depends on:
// the definition, the configuration, the import job's script and every
// function's code (the bootstrap each asset deploys), as the hex of the
// first 8 bytes of their SHA-256.
func PipelineDigest(definition string, cfg []byte, jobScript []byte, functions map[string][]byte) string {
	h := sha256.New()
	part := func(name string, b []byte) {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	part("definition", []byte(definition))
	part("configuration", cfg)
	part("job script", jobScript)
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		part("function "+n, functions[n])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// pipelineDigest is PipelineDigest of this stack: its definition,
// configuration, the job script it uploads and the bootstrap of every
// step function it deploys.
func (s *Stack) pipelineDigest() string {
	cfg, _ := json.Marshal(s.Config)
	functions := map[string][]byte{}
	for name := range s.Steps {
		code, err := os.ReadFile(filepath.Join(s.asset(name), "bootstrap"))
		if err != nil {
			awscdk.Annotations_Of(s.Stack).AddError(jsii.String("the first run's digest needs every function's code: " + err.Error() + " (run `make build`)"))
			continue
		}
		functions[name] = code
	}
	return PipelineDigest(statemachine.Pipeline, cfg, gluescript.ImportJobScript, functions)
}

// addFirstRun starts one execution right after a deploy that created or
// changed the pipeline (schedule.runAtDeploy), so `make deploy` leaves a
// working lake instead of waiting for the next scheduled start. The
// custom resource depends on every other resource of the stack, so
// CloudFormation creates and updates it last; its input carries the digest
// of the definition, the configuration, the job script and the functions'
// code, so a deploy that changes none of them starts nothing. Its handler
// (pkg/firstrun) starts nothing during a rollback, which sends the
// previous properties as another Update.
func (s *Stack) addFirstRun(sm awsstepfunctions.StateMachine) {
	if !s.Config.Schedule.RunAtDeploy {
		return
	}
	fn := s.addStep(&StepFunctionProps{
		Name:        FirstRunFunction,
		Description: "lakeforge: at deploy, start one pipeline execution when the deploy created or changed the pipeline; none during a rollback",
		Environment: map[string]*string{},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				// Whether the deploy goes forward or rolls back.
				Sid:       jsii.String("ReadOwnStackStatus"),
				Actions:   jsii.Strings("cloudformation:DescribeStacks"),
				Resources: &[]*string{awscdk.Aws_STACK_ID()},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("StartFirstRun"),
				Actions:   jsii.Strings("states:StartExecution"),
				Resources: &[]*string{sm.StateMachineArn()},
			}),
		},
		Timeout: awscdk.Duration_Minutes(jsii.Number(1)),
	})
	run := awscdk.NewCustomResource(s.Stack, jsii.String(firstRunID), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function().FunctionArn(),
		ResourceType: jsii.String("Custom::LakeforgeFirstRun"),
		Properties: &map[string]any{
			firstrun.StateMachineProperty: sm.StateMachineArn(),
			firstrun.InputProperty:        FirstRunInput(s.pipelineDigest()),
		},
		// The handler answers within its 1-minute timeout; a crashed one
		// must not hold the deploy for CloudFormation's default hour.
		ServiceTimeout: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	// Last: after every other resource of the stack exists.
	for _, c := range *s.Stack.Node().Children() {
		if *c.Node().Id() != firstRunID {
			run.Node().AddDependency(c)
		}
	}
}
