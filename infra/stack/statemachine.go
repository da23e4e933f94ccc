package stack

import (
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/statemachine"
)

// PipelineSubstitutions are the DefinitionSubstitutions of the pipeline:
// every ${<Pascal>FunctionArn} placeholder of the ASL file, filled from
// functions by name, and the topic. Placeholders without a function are
// returned as missing; the functions the ASL names are returned by name.
func PipelineSubstitutions(functions []StepFunction, topic awssns.ITopic) (subs map[string]*string, named map[string]StepFunction, missing []string) {
	byPlaceholder := map[string]StepFunction{}
	for _, f := range functions {
		byPlaceholder[stepcontract.FunctionArnPlaceholder(f.Name())] = f
	}
	subs = map[string]*string{statemachine.TopicPlaceholder: topic.TopicArn()}
	named = map[string]StepFunction{}
	for _, p := range statemachine.Placeholders(statemachine.Pipeline) {
		if p == statemachine.TopicPlaceholder {
			continue
		}
		f, ok := byPlaceholder[p]
		if !ok {
			missing = append(missing, p)
			continue
		}
		subs[p] = f.Function().FunctionArn()
		named[f.Name()] = f
	}
	return subs, named, missing
}

// newStateMachine deploys the daily pipeline from statemachine/pipeline.asl.json,
// passed inline so tests read the definition in the template. Its role may
// invoke exactly the step functions and publish to the failure topic.
func newStateMachine(scope constructs.Construct, props *PipelineProps, functions []StepFunction) awsstepfunctions.StateMachine {
	subs, named, missing := PipelineSubstitutions(functions, props.FailureTopic)
	for _, p := range missing {
		awscdk.Annotations_Of(scope).AddError(jsii.String("the pipeline needs ${" + p + "}, but no step function of that name is made: add functions/<name> and its step to a construct of the lake"))
	}
	logs := awslogs.NewLogGroup(scope, jsii.String("PipelineLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(props.LogGroupName),
		Retention:     props.Steps.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(scope, jsii.String("PipelineRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("states.amazonaws.com"), nil),
		Description: jsii.String("lakeforge pipeline: invokes the step functions and reports failures"),
	})
	var fnARNs []*string
	for _, name := range slices.Sorted(maps.Keys(named)) {
		fnARNs = append(fnARNs, named[name].Function().FunctionArn())
	}
	if len(fnARNs) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("InvokeSteps"),
			Actions:   jsii.Strings("lambda:InvokeFunction"),
			Resources: &fnARNs,
		}))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PublishFailures"),
		Actions:   jsii.Strings("sns:Publish"),
		Resources: &[]*string{props.FailureTopic.TopicArn()},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptedFailureTopic"),
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: &[]*string{props.FailureTopicKey.KeyArn()},
	}))
	sm := awsstepfunctions.NewStateMachine(scope, jsii.String("Pipeline"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(props.StateMachineName),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(statemachine.Pipeline)),
		DefinitionSubstitutions: &subs,
		Role:                    role,
		// Every event type is logged (when each state started, retried,
		// failed), but no execution data: StartImport's parameters hold
		// the task token, a credential (SendTaskSuccess with it ends the
		// import's wait), and states' inputs and outputs would carry it
		// into the log group. The execution history keeps the data for
		// those who may call states:GetExecutionHistory.
		Logs: &awsstepfunctions.LogOptions{
			Destination:          logs,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(false),
		},
		TracingEnabled: jsii.Bool(true),
		Comment:        jsii.String("lakeforge daily pipeline"),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Step Functions log delivery (logs:*LogDelivery*, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing (PutTraceSegments, GetSampling*) have no resource-level permissions; CDK adds exactly those for LogLevel ALL and tracing."),
		AppliesTo: &[]any{"Resource::*"},
	}}, jsii.Bool(true))
	return sm
}
