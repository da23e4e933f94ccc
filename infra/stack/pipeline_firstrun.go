package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// awsCustomResourceProvider is the id of the singleton function CDK adds
// for every AwsCustomResource of a stack.
const awsCustomResourceProvider = "AWS679f53fac002430cb0da5b7982bd2287"

// FirstRunInput is the input of the execution a deploy starts: the
// digest of the definition and the configuration makes a deploy that
// changed either update the custom resource, and so start one execution.
func FirstRunInput(digest string) string {
	return `{"trigger":"deploy","pipelineDigest":"` + digest + `"}`
}

// FirstRunProps configures FirstRun.
type FirstRunProps struct {
	// StateMachine is the pipeline to start.
	StateMachine awsstepfunctions.IStateMachine
	// Digest identifies what the deploy changed (the definition and the
	// configuration): a deploy with the digest of the last one starts
	// nothing.
	Digest string
	// LogRetention is the retention of the custom resource's log group.
	LogRetention awslogs.RetentionDays
}

// FirstRun starts one execution right after a deploy that created or
// changed the pipeline (schedule.runAtDeploy), so `make deploy` leaves a
// working lake instead of waiting for the next scheduled start. The custom
// resource depends on every other resource of the stack made before it, so
// CloudFormation creates it last; its properties carry props.Digest, so a
// deploy that changes nothing it covers starts nothing.
type FirstRun struct {
	constructs.Construct
	Run customresources.AwsCustomResource
}

// NewFirstRun makes the custom resource that starts the execution.
func NewFirstRun(scope constructs.Construct, id string, props *FirstRunProps) *FirstRun {
	c := constructs.NewConstruct(scope, jsii.String(id))
	start := &customresources.AwsSdkCall{
		Service: jsii.String("SFN"),
		Action:  jsii.String("startExecution"),
		Parameters: map[string]any{
			"stateMachineArn": props.StateMachine.StateMachineArn(),
			"input":           FirstRunInput(props.Digest),
		},
		// One execution per deploy that changed something; the execution
		// name is generated, so a redeploy after a rollback cannot collide.
		PhysicalResourceId: customresources.PhysicalResourceId_FromResponse(jsii.String("executionArn")),
	}
	run := customresources.NewAwsCustomResource(c, jsii.String("FirstRun"), &customresources.AwsCustomResourceProps{
		OnCreate: start,
		OnUpdate: start,
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("StartFirstRun"),
			Actions:   jsii.Strings("states:StartExecution"),
			Resources: &[]*string{props.StateMachine.StateMachineArn()},
		})}),
		InstallLatestAwsSdk: jsii.Bool(false),
		LogGroup: awslogs.NewLogGroup(c, jsii.String("FirstRunLogs"), &awslogs.LogGroupProps{
			Retention:     props.LogRetention,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}),
		Timeout: awscdk.Duration_Minutes(jsii.Number(2)),
	})
	// Last: after every other resource of the stack exists (not the
	// custom resource's own provider and log group, which it needs anyway).
	dependOnAllBut(run, awscdk.Stack_Of(c), c)
	cdknag.NagSuppressions_AddStackSuppressions(awscdk.Stack_Of(c), &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("The CDK AwsCustomResource provider that starts the first run uses AWSLambdaBasicExecutionRole for its logs."), AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
		{Id: jsii.String("AwsSolutions-L1"), Reason: jsii.String("The CDK AwsCustomResource provider's Node.js runtime is chosen by aws-cdk-lib, not by this stack.")},
	}, jsii.Bool(true))
	return &FirstRun{Construct: c, Run: run}
}

// dependOnAllBut makes run depend on every construct under root except
// own (the run's construct, with its log group) and the custom resource
// provider, descending into the constructs that hold own.
func dependOnAllBut(run constructs.IConstruct, root, own constructs.IConstruct) {
	ownPath := *own.Node().Path()
	for _, child := range *root.Node().Children() {
		path := *child.Node().Path()
		switch {
		case path == ownPath || *child.Node().Id() == awsCustomResourceProvider:
		case strings.HasPrefix(ownPath, path+"/"):
			dependOnAllBut(run, child, own)
		default:
			run.Node().AddDependency(child)
		}
	}
}
