package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/statemachine"
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

// addFirstRun starts one execution right after a deploy that created or
// changed the pipeline (schedule.runAtDeploy), so `make deploy` leaves a
// working lake instead of waiting for the next scheduled start. The custom
// resource depends on every other resource of the stack, so CloudFormation
// creates it last; its properties carry a digest of the definition and the
// configuration, so a deploy that changes neither starts nothing.
func (s *Stack) addFirstRun(sm awsstepfunctions.StateMachine) {
	if !s.Config.Schedule.RunAtDeploy {
		return
	}
	cfg, _ := json.Marshal(s.Config)
	digest := sha256.Sum256(append([]byte(statemachine.Pipeline), cfg...))
	start := &customresources.AwsSdkCall{
		Service: jsii.String("SFN"),
		Action:  jsii.String("startExecution"),
		Parameters: map[string]any{
			"stateMachineArn": sm.StateMachineArn(),
			"input":           FirstRunInput(hex.EncodeToString(digest[:8])),
		},
		// One execution per deploy that changed something; the execution
		// name is generated, so a redeploy after a rollback cannot collide.
		PhysicalResourceId: customresources.PhysicalResourceId_FromResponse(jsii.String("executionArn")),
	}
	run := customresources.NewAwsCustomResource(s.Stack, jsii.String("FirstRun"), &customresources.AwsCustomResourceProps{
		OnCreate: start,
		OnUpdate: start,
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("StartFirstRun"),
			Actions:   jsii.Strings("states:StartExecution"),
			Resources: &[]*string{sm.StateMachineArn()},
		})}),
		InstallLatestAwsSdk: jsii.Bool(false),
		LogGroup: awslogs.NewLogGroup(s.Stack, jsii.String("FirstRunLogs"), &awslogs.LogGroupProps{
			Retention:     retention(s.Config.LogRetentionDays),
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}),
		Timeout: awscdk.Duration_Minutes(jsii.Number(2)),
	})
	// Last: after every other resource of the stack exists (not the
	// custom resource's own provider and log group, which it needs anyway).
	for _, c := range *s.Stack.Node().Children() {
		switch id := *c.Node().Id(); id {
		case "FirstRun", "FirstRunLogs", awsCustomResourceProvider:
		default:
			run.Node().AddDependency(c)
		}
	}
	cdknag.NagSuppressions_AddStackSuppressions(s.Stack, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("The CDK AwsCustomResource provider that starts the first run uses AWSLambdaBasicExecutionRole for its logs."), AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
		{Id: jsii.String("AwsSolutions-L1"), Reason: jsii.String("The CDK AwsCustomResource provider's Node.js runtime is chosen by aws-cdk-lib, not by this stack.")},
	}, jsii.Bool(true))
}
