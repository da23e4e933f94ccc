package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/firstrun"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
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

// FirstRunProps configures FirstRun.
type FirstRunProps struct {
	Steps StepOptions
	// StateMachine is the pipeline to start.
	StateMachine awsstepfunctions.IStateMachine
	// Digest identifies everything a run depends on (PipelineDigest): a
	// deploy that brings the digest of the last one starts nothing.
	Digest string
}

// FirstRun starts one execution right after a deploy that created or
// changed the pipeline (schedule.runAtDeploy), so `make deploy` leaves a
// working lake instead of waiting for the next scheduled start. The
// custom resource depends on every other resource of the stack made
// before it, so CloudFormation creates and updates it last; its input
// carries props.Digest, so a deploy that changes nothing it covers starts
// nothing. Its handler (pkg/firstrun) starts nothing during a rollback,
// which sends the previous properties as another Update.
type FirstRun struct {
	constructs.Construct
	Function StepFunction
	Run      awscdk.CustomResource
}

// NewFirstRun makes the first run's handler and custom resource.
func NewFirstRun(scope constructs.Construct, id string, props *FirstRunProps) *FirstRun {
	c := constructs.NewConstruct(scope, jsii.String(id))
	sm := props.StateMachine
	fn := newStep(c, props.Steps, &StepFunctionProps{
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
	run := awscdk.NewCustomResource(c, jsii.String(firstRunID), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function().FunctionArn(),
		ResourceType: jsii.String("Custom::LakeforgeFirstRun"),
		Properties: &map[string]any{
			firstrun.StateMachineProperty: sm.StateMachineArn(),
			firstrun.InputProperty:        FirstRunInput(props.Digest),
		},
		// The handler answers within its 1-minute timeout; a crashed one
		// must not hold the deploy for CloudFormation's default hour.
		ServiceTimeout: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	// Last: after every other resource of the stack exists.
	dependOnAllBut(run, awscdk.Stack_Of(c), run)
	return &FirstRun{Construct: c, Function: fn, Run: run}
}

// dependOnAllBut makes run depend on every construct under root except
// own, descending into the constructs that hold own.
func dependOnAllBut(run constructs.IConstruct, root, own constructs.IConstruct) {
	ownPath := *own.Node().Path()
	for _, child := range *root.Node().Children() {
		path := *child.Node().Path()
		switch {
		case path == ownPath:
		case strings.HasPrefix(ownPath, path+"/"):
			dependOnAllBut(run, child, own)
		default:
			run.Node().AddDependency(child)
		}
	}
}
