package stack

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/statemachine"
)

// functionOfPlaceholder maps "RegisterLocationFunctionArn" back to the
// step's folder name, among the registered steps.
func (s *Stack) functionOfPlaceholder(p string) (string, bool) {
	for name := range s.Steps {
		if PlaceholderName(name) == p {
			return name, true
		}
	}
	return "", false
}

// PipelineSubstitutions are the DefinitionSubstitutions of the pipeline:
// every ${<Pascal>FunctionArn} placeholder of the ASL file and the topic.
// A placeholder without a registered step is reported as a synth error.
func (s *Stack) PipelineSubstitutions() (map[string]*string, []string) {
	subs := map[string]*string{statemachine.TopicPlaceholder: s.FailureTopic.TopicArn()}
	var missing []string
	for _, p := range statemachine.Placeholders(statemachine.Pipeline) {
		if p == statemachine.TopicPlaceholder {
			continue
		}
		name, ok := s.functionOfPlaceholder(p)
		if !ok {
			missing = append(missing, p)
			continue
		}
		subs[p] = s.Steps[name].Function().FunctionArn()
	}
	return subs, missing
}

// addStateMachine deploys the daily pipeline from statemachine/pipeline.asl.json,
// passed inline so tests read the definition in the template. Its role may
// invoke exactly the step functions and publish to the failure topic.
func (s *Stack) addStateMachine() awsstepfunctions.StateMachine {
	subs, missing := s.PipelineSubstitutions()
	for _, p := range missing {
		awscdk.Annotations_Of(s.Stack).AddError(jsii.String("the pipeline needs ${" + p + "}, but no step function of that name is registered: add functions/<name> and its s.addStep"))
	}
	logs := awslogs.NewLogGroup(s.Stack, jsii.String("PipelineLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + s.Config.Names().StateMachine),
		Retention:     retention(s.Config.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(s.Stack, jsii.String("PipelineRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("states.amazonaws.com"), nil),
		Description: jsii.String("lakeforge pipeline: invokes the step functions and reports failures"),
	})
	var fnARNs []*string
	names := make([]string, 0, len(s.Steps))
	for _, p := range statemachine.Placeholders(statemachine.Pipeline) {
		if name, ok := s.functionOfPlaceholder(p); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fnARNs = append(fnARNs, s.Steps[n].Function().FunctionArn())
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
		Resources: &[]*string{s.FailureTopic.TopicArn()},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptedFailureTopic"),
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: &[]*string{s.Key.KeyArn()},
	}))
	sm := awsstepfunctions.NewStateMachine(s.Stack, jsii.String("Pipeline"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(s.Config.Names().StateMachine),
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
