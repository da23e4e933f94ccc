package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// MetricNamespace is where VerifyQuery publishes its row counts.
const MetricNamespace = "lakeforge"

// PipelineProps configures Pipeline.
type PipelineProps struct {
	Steps StepOptions
	// Functions are the step functions other constructs made that the
	// ASL names (the access model's, test-connection).
	Functions []StepFunction
	// FailureTopic gets a notice of every failed run; FailureTopicKey is
	// the key it is encrypted with.
	FailureTopic    awssns.ITopic
	FailureTopicKey awskms.IKey
	// StateMachineName and LogGroupName name the state machine and the log
	// group of its executions.
	StateMachineName, LogGroupName string
	// WorkflowName is the Glue import workflow StartImport starts;
	// TokenTable is where it keeps the task token.
	WorkflowName string
	TokenTable   awsdynamodb.ITable
	VerifyQuery  VerifyQueryProps
	Schedule     ScheduleProps
}

// VerifyQueryProps configures the VerifyQuery step.
type VerifyQueryProps struct {
	// LakeBucket holds the import manifests under RunsPrefix.
	LakeBucket awss3.IBucket
	RunsPrefix string
	// DatabaseName and TablePrefix are the lake tables to count, in
	// WorkgroupName.
	DatabaseName, TablePrefix, WorkgroupName string
	// AnalystRole is the role VerifyQuery queries as; nil for none.
	AnalystRole awsiam.IRole
	// RowCountTolerance is the fraction by which counts may differ.
	RowCountTolerance float64
	// Governance: VerifyQuery also proves the column security.
	Governance access.Governance
}

// ScheduleProps configures the daily start.
type ScheduleProps struct {
	// Name of the EventBridge Scheduler schedule.
	Name string
	// Expression (cron(...) or rate(...)) in TimeZone.
	Expression, TimeZone string
	Enabled              bool
}

// Pipeline is the daily run: the StartImport and VerifyQuery steps, the
// state machine that chains every step, and the schedule that starts it.
type Pipeline struct {
	constructs.Construct
	StartImport  StepFunction
	VerifyQuery  StepFunction
	StateMachine awsstepfunctions.StateMachine
	Schedule     awsscheduler.CfnSchedule
}

// NewPipeline makes the import steps, the state machine and the schedule.
func NewPipeline(scope constructs.Construct, id string, props *PipelineProps) *Pipeline {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := &Pipeline{Construct: c}
	p.StartImport = newStartImport(c, props)
	p.VerifyQuery = newVerifyQuery(c, props.Steps, &props.VerifyQuery)
	p.StateMachine = newStateMachine(c, props, append([]StepFunction{p.StartImport, p.VerifyQuery}, props.Functions...))
	p.Schedule = newSchedule(c, p.StateMachine, &props.Schedule)
	return p
}

// newStartImport makes StartImport.
func newStartImport(scope constructs.Construct, props *PipelineProps) StepFunction {
	return newStep(scope, props.Steps, &StepFunctionProps{
		Name:        stepcontract.StartImport,
		Description: "lakeforge StartImport: starts the Glue import workflow, or attaches to the run in progress, and keeps the task token",
		Environment: map[string]*string{
			stepcontract.EnvWorkflowName: jsii.String(props.WorkflowName),
			stepcontract.EnvTokenTable:   props.TokenTable.TableName(),
		},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("StartOrAttachToImportRun"),
				Actions:   jsii.Strings("glue:GetWorkflow", "glue:StartWorkflowRun"),
				Resources: jsii.Strings(arn("glue", "workflow/"+props.WorkflowName)),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("KeepTaskToken"),
				Actions:   jsii.Strings("dynamodb:PutItem"),
				Resources: &[]*string{props.TokenTable.TableArn()},
			}),
		},
	})
}

// newVerifyQuery makes VerifyQuery, which counts every imported table in
// Athena as the analyst.
func newVerifyQuery(scope constructs.Construct, opts StepOptions, props *VerifyQueryProps) StepFunction {
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadImportManifests"),
			Actions:   jsii.Strings("s3:GetObject"),
			Resources: jsii.Strings(*props.LakeBucket.BucketArn() + "/" + props.RunsPrefix + "*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PublishRowCounts"),
			Actions:   jsii.Strings("cloudwatch:PutMetricData"),
			Resources: jsii.Strings("*"),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"cloudwatch:namespace": MetricNamespace},
			},
		}),
	}
	analyst := ""
	if props.AnalystRole != nil {
		analyst = *props.AnalystRole.RoleArn()
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("QueryAsAnalyst"),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(analyst),
		}))
	}
	fn := newStep(scope, opts, &StepFunctionProps{
		Name:        stepcontract.VerifyQuery,
		Description: "lakeforge VerifyQuery: counts every imported table in Athena as the analyst and compares with the import's counts",
		Environment: map[string]*string{
			stepcontract.EnvLakeBucket:        props.LakeBucket.BucketName(),
			stepcontract.EnvRunsPrefix:        jsii.String(props.RunsPrefix),
			stepcontract.EnvDatabaseName:      jsii.String(props.DatabaseName),
			stepcontract.EnvTablePrefix:       jsii.String(props.TablePrefix),
			stepcontract.EnvWorkgroup:         jsii.String(props.WorkgroupName),
			stepcontract.EnvAnalystRoleARN:    jsii.String(analyst),
			stepcontract.EnvMetricNamespace:   jsii.String(MetricNamespace),
			stepcontract.EnvRowCountTolerance: jsii.String(strconv.FormatFloat(props.RowCountTolerance, 'g', -1, 64)),
			stepcontract.EnvGovernance:        jsii.String(stepcontract.Encode(props.Governance)),
		},
		Statements: statements,
		Timeout:    awscdk.Duration_Minutes(jsii.Number(10)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("cloudwatch:PutMetricData has no resource-level permissions and is limited by the cloudwatch:namespace condition; manifests are one object per workflow run under the runs prefix."),
		AppliesTo: &[]any{
			"Resource::*",
			"Resource::" + nagBucketARN(props.LakeBucket) + "/" + props.RunsPrefix + "*",
		},
	}}, jsii.Bool(true))
	return fn
}

// newSchedule makes the daily EventBridge Scheduler schedule that starts
// the pipeline, with a role allowed only to start that state machine.
func newSchedule(scope constructs.Construct, sm awsstepfunctions.IStateMachine, props *ScheduleProps) awsscheduler.CfnSchedule {
	role := awsiam.NewRole(scope, jsii.String("ScheduleRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			// Only schedules of this account may use the role.
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}),
		Description: jsii.String("lakeforge schedule: starts the daily pipeline"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("StartPipeline"),
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: &[]*string{sm.StateMachineArn()},
	}))
	state := "ENABLED"
	if !props.Enabled {
		state = "DISABLED"
	}
	return awsscheduler.NewCfnSchedule(scope, jsii.String("DailySchedule"), &awsscheduler.CfnScheduleProps{
		Name:                       jsii.String(props.Name),
		Description:                jsii.String("lakeforge: starts the daily pipeline"),
		ScheduleExpression:         jsii.String(props.Expression),
		ScheduleExpressionTimezone: jsii.String(props.TimeZone),
		State:                      jsii.String(state),
		FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     sm.StateMachineArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(`{"trigger":"schedule"}`),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(3),
				MaximumEventAgeInSeconds: jsii.Number(3600),
			},
		},
	})
}
