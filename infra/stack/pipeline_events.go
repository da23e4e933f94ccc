package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// ImportEventsFunction is the function that releases the import's task token.
const ImportEventsFunction = stepcontract.ImportEvents

// ImportEventsProps configures ImportEvents.
type ImportEventsProps struct {
	Steps StepOptions
	// WorkflowName and JobName are the Glue import workflow and its job,
	// whose end releases the pipeline's wait.
	WorkflowName, JobName string
	// WaitTimeoutMinutes bounds the wait for one import run.
	WaitTimeoutMinutes int
	// TagOutput is invoked for imports that ended well outside the
	// pipeline, so their tables get the analyst tag too.
	TagOutput awslambda.IFunction
}

// ImportEvents is the end of the import's wait: the table where
// StartImport keeps each waiting execution's task token, the import-events
// function that releases it, and the rules that invoke the function (the
// import job's end states, and the fallback check).
type ImportEvents struct {
	constructs.Construct
	TokenTable   awsdynamodb.ITable
	Function     StepFunction
	JobRule      awsevents.IRule
	FallbackRule awsevents.IRule
}

// Rules are the rules that invoke the function.
func (e *ImportEvents) Rules() []awsevents.IRule { return []awsevents.IRule{e.JobRule, e.FallbackRule} }

// NewImportEvents makes the token table, the function and its rules.
func NewImportEvents(scope constructs.Construct, id string, props *ImportEventsProps) *ImportEvents {
	c := constructs.NewConstruct(scope, jsii.String(id))
	tokens := newTokenTable(c)
	fn := newStep(c, props.Steps, &StepFunctionProps{
		Name:        ImportEventsFunction,
		Description: "lakeforge import-events: releases the pipeline's wait when the import ends (Glue events, or the fallback check) and has runs outside the pipeline tagged",
		Environment: map[string]*string{
			stepcontract.EnvWorkflowName:       jsii.String(props.WorkflowName),
			stepcontract.EnvTokenTable:         tokens.TableName(),
			stepcontract.EnvWaitTimeoutMinutes: jsii.String(strconv.Itoa(props.WaitTimeoutMinutes)),
			stepcontract.EnvImportJob:          jsii.String(props.JobName),
			stepcontract.EnvTagFunction:        props.TagOutput.FunctionName(),
		},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadImportRun"),
				Actions:   jsii.Strings("glue:GetWorkflowRun", "glue:GetWorkflowRuns"),
				Resources: jsii.Strings(arn("glue", "workflow/"+props.WorkflowName)),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadAndForgetTaskTokens"),
				Actions:   jsii.Strings("dynamodb:Scan", "dynamodb:DeleteItem"),
				Resources: &[]*string{tokens.TableArn()},
			}),
			// The claim that a run is tagged (importrun.DynamoTokens.Claim):
			// a PutItem of the key and the TTL only, never a token.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ClaimTaggedRuns"),
				Actions:   jsii.Strings("dynamodb:PutItem"),
				Resources: &[]*string{tokens.TableArn()},
				Conditions: &map[string]any{
					"ForAllValues:StringEquals": map[string]any{"dynamodb:Attributes": []string{importrun.AttrRunID, importrun.AttrExecutionName, importrun.AttrExpiresAt}},
				},
			}),
			// states:SendTask* take no resource-level permissions (the IAM
			// console: "only support the all resources wildcard"; aws-cdk
			// discussion 26401): the task token itself says which task.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReleaseTheWait"),
				Actions:   jsii.Strings("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("TagRunsOutsideThePipeline"),
				Actions:   jsii.Strings("lambda:InvokeFunction"),
				Resources: &[]*string{props.TagOutput.FunctionArn()},
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("states:SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat have no resource-level permissions: the task token names the task."),
		AppliesTo: &[]any{"Resource::*"},
	}}, jsii.Bool(true))
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(fn.Function(), &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(4),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
		})
	}
	ev := &ImportEvents{Construct: c, TokenTable: tokens, Function: fn}
	ev.JobRule = awsevents.NewRule(c, jsii.String("ImportJobEnded"), &awsevents.RuleProps{
		Description: jsii.String("lakeforge: the import job ended; release the pipeline's wait"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(importrun.GlueSource),
			DetailType: jsii.Strings(importrun.JobStateChange),
			Detail: &map[string]any{
				"jobName": []string{props.JobName},
				"state":   importrun.JobEndStates,
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	ev.FallbackRule = awsevents.NewRule(c, jsii.String("ImportFallbackCheck"), &awsevents.RuleProps{
		Description: jsii.String("lakeforge: Glue events are best effort; read the runs still awaited and release those that ended"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(importrun.FallbackInterval.Minutes()))),
		Targets:     &[]awsevents.IRuleTarget{target()},
	})
	return ev
}

// newTokenTable makes the table where StartImport keeps each waiting
// execution's task token. A token ends the wait of whoever holds it, so it
// is kept here (IAM-controlled, encrypted at rest, its items never logged)
// and never in Glue workflow run properties, which may be logged.
func newTokenTable(scope constructs.Construct) awsdynamodb.Table {
	t := awsdynamodb.NewTable(scope, jsii.String("ImportTokens"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(importrun.AttrRunID), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(importrun.AttrExecutionName), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(importrun.AttrExpiresAt),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(t, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-DDB3"),
		Reason: jsii.String("The table holds only the task tokens of waiting executions, each for at most a day: a point-in-time backup would only keep credentials around longer."),
	}}, jsii.Bool(true))
	return t
}
