package stack

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// StepFunctionProps describes one Go step Lambda, built by `make build` from
// functions/<Name> into dist/<Name>/bootstrap.
type StepFunctionProps struct {
	// Name is the folder under functions/, e.g. "register-location".
	Name        string
	Description string
	// Environment is the function's whole configuration: handlers read it
	// once at cold start.
	Environment map[string]*string
	// Statements are exactly the actions the handler calls. Logging to the
	// function's own log group is added here.
	Statements []awsiam.PolicyStatement
	// Timeout defaults to 1 minute, MemoryMB to 256.
	Timeout  awscdk.Duration
	MemoryMB float64
	StepOptions
}

// StepOptions are what every step Lambda of a lake shares.
type StepOptions struct {
	// AssetDir holds <name>/bootstrap for each function, as `make build`
	// writes them into dist/.
	AssetDir string
	// LogRetention is how long the functions' log groups keep events.
	LogRetention awslogs.RetentionDays
}

// StepFunction is a deployed step Lambda and its own role.
type StepFunction interface {
	Name() string
	Function() awslambda.Function
	Role() awsiam.Role
}

type stepFunction struct {
	name string
	fn   awslambda.Function
	role awsiam.Role
}

func (f *stepFunction) Name() string                 { return f.name }
func (f *stepFunction) Function() awslambda.Function { return f.fn }
func (f *stepFunction) Role() awsiam.Role            { return f.role }

// NewStepFunction makes an arm64 provided.al2023 Lambda with JSON logs to a
// log group of its own (with the configured retention) and a role that holds
// only props.Statements plus writing to that log group, whose log-stream
// wildcard carries its cdk-nag suppression.
func NewStepFunction(scope constructs.Construct, id string, props *StepFunctionProps) StepFunction {
	c := constructs.NewConstruct(scope, jsii.String(id))
	timeout := props.Timeout
	if timeout == nil {
		timeout = awscdk.Duration_Minutes(jsii.Number(1))
	}
	memory := props.MemoryMB
	if memory == 0 {
		memory = 256
	}
	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("lakeforge step %s: only the calls its handler makes", props.Name)),
	})
	statements := append([]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteOwnLogs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*logGroup.LogGroupArn() + ":*"),
		}),
	}, props.Statements...)
	policy := awsiam.NewPolicy(c, jsii.String("Policy"), &awsiam.PolicyProps{
		Statements: &statements,
	})
	role.AttachInlinePolicy(policy)

	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:   jsii.String(props.Description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetDir, props.Name)), nil),
		Role:          role,
		Timeout:       timeout,
		MemorySize:    jsii.Number(memory),
		Environment:   &props.Environment,
		LogGroup:      logGroup,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		// The handlers log through slog at INFO; DEBUG would only add noise.
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
	})
	// The function must not start before its policy exists, or the first
	// invocation after a deploy could fail with AccessDenied.
	fn.Node().AddDependency(policy)
	// The one wildcard every step has: on the step's construct, since the
	// inline Policy is a sibling of the Role. A caller's own suppressions
	// for its Statements go on the same construct (Role().Node().Scope()).
	logsID := *awscdk.Stack_Of(c).GetLogicalId(logGroup.Node().DefaultChild().(awscdk.CfnElement))
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("The function writes log streams (named by the Lambda service) only in its own log group."),
		AppliesTo: &[]any{"Resource::<" + logsID + ".Arn>:*"},
	}}, jsii.Bool(true))
	return &stepFunction{name: props.Name, fn: fn, role: role}
}

// newStep makes the step function of functions/<props.Name> in scope, with
// the construct id Step<Pascal name>.
func newStep(scope constructs.Construct, opts StepOptions, props *StepFunctionProps) StepFunction {
	props.StepOptions = opts
	return NewStepFunction(scope, "Step"+stepcontract.Pascal(props.Name), props)
}
