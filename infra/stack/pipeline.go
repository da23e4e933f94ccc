package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// MetricNamespace is where VerifyQuery publishes its row counts.
const MetricNamespace = "lakeforge"

// addPipeline deploys the daily pipeline: the Glue import workflow, the
// import steps, the state machine, its schedule, the post-import tagging
// rule and the failure alarms.
func (s *Stack) addPipeline() {
	wf := s.addImportWorkflow()
	s.addImportSteps()
	sm := s.addStateMachine()
	s.StateMachine = sm
	s.addSchedule(sm)
	s.addPostImportTagging(wf)
	s.addMonitoring(sm)
}

// RunsPrefix is the S3 prefix of the import manifests.
func (s *Stack) RunsPrefix() string { return s.Config.Lake.Prefix + verify.RunsFolder + "/" }

// VerifyAnalystRoleARN is the role VerifyQuery assumes: the stack's analyst
// role, or the first existing analyst role from the config.
func (s *Stack) VerifyAnalystRoleARN() string {
	if s.AnalystRole != nil {
		return *s.AnalystRole.RoleArn()
	}
	for _, a := range s.Config.Personas.Analysts.PrincipalARNs {
		if config.IsRoleARN(a) {
			return a
		}
	}
	return ""
}

// addImportSteps makes StartImport, GetImportStatus and VerifyQuery.
func (s *Stack) addImportSteps() {
	names := s.Config.Names()
	workflowARN := glueARN("workflow/" + names.Workflow)
	wait := jsii.String(strconv.Itoa(s.Config.Import.WaitTimeoutMinutes))
	s.addStep(&StepFunctionProps{
		Name:        "start-import",
		Description: "lakeforge StartImport: starts the Glue import workflow, or attaches to the run in progress",
		Environment: map[string]*string{stepcontract.EnvWorkflowName: jsii.String(names.Workflow), stepcontract.EnvWaitTimeoutMinutes: wait},
		Statements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("StartOrAttachToImportRun"),
			Actions:   jsii.Strings("glue:GetWorkflow", "glue:StartWorkflowRun"),
			Resources: jsii.Strings(workflowARN),
		})},
	})
	s.addStep(&StepFunctionProps{
		Name:        "get-import-status",
		Description: "lakeforge GetImportStatus: reads the import workflow run and judges it from its statistics",
		Environment: map[string]*string{stepcontract.EnvWorkflowName: jsii.String(names.Workflow), stepcontract.EnvWaitTimeoutMinutes: wait},
		Statements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadImportRun"),
			Actions:   jsii.Strings("glue:GetWorkflowRun"),
			Resources: jsii.Strings(workflowARN),
		})},
	})
	analyst := s.VerifyAnalystRoleARN()
	verifyStatements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadImportManifests"),
			Actions:   jsii.Strings("s3:GetObject"),
			Resources: jsii.Strings(*s.LakeBucket.BucketArn() + "/" + s.RunsPrefix() + "*"),
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
	if analyst != "" {
		verifyStatements = append(verifyStatements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("QueryAsAnalyst"),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(analyst),
		}))
	}
	fn := s.addStep(&StepFunctionProps{
		Name:        "verify-query",
		Description: "lakeforge VerifyQuery: counts every imported table in Athena as the analyst and compares with the import's counts",
		Environment: map[string]*string{
			stepcontract.EnvLakeBucket:        s.LakeBucket.BucketName(),
			stepcontract.EnvRunsPrefix:        jsii.String(s.RunsPrefix()),
			stepcontract.EnvDatabaseName:      jsii.String(s.Config.Database.Name),
			stepcontract.EnvTablePrefix:       jsii.String(s.Config.Database.TablePrefix),
			stepcontract.EnvWorkgroup:         jsii.String(s.Config.Athena.WorkgroupName),
			stepcontract.EnvAnalystRoleARN:    jsii.String(analyst),
			stepcontract.EnvMetricNamespace:   jsii.String(MetricNamespace),
			stepcontract.EnvRowCountTolerance: jsii.String(strconv.FormatFloat(s.Config.Import.RowCountTolerance, 'g', -1, 64)),
		},
		Statements: verifyStatements,
		Timeout:    awscdk.Duration_Minutes(jsii.Number(10)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("cloudwatch:PutMetricData has no resource-level permissions and is limited by the cloudwatch:namespace condition; manifests are one object per workflow run under the runs prefix."),
		AppliesTo: &[]any{
			"Resource::*",
			"Resource::<LakeBucket9CD7BBD2.Arn>/" + s.RunsPrefix() + "*",
		},
	}}, jsii.Bool(true))
	// The log streams are named by the Lambda service, in the step's own
	// log group (suppression on the step's construct, as accessmodel.go).
	for _, name := range []string{"start-import", "get-import-status", "verify-query"} {
		cdknag.NagSuppressions_AddResourceSuppressions(s.Steps[name].Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("The function writes log streams (named by the Lambda service) only in its own log group."),
			AppliesTo: &[]any{map[string]any{"regex": "/^Resource::<Step" + pascal(name) + "Logs[0-9A-F]+\\.Arn>:\\*$/"}},
		}}, jsii.Bool(true))
	}
	if s.AnalystRole != nil {
		// The analyst role trusts the account root; this adds the
		// function's role explicitly so the trust survives a narrowed root.
		s.AnalystRole.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("VerifyQueryActsAsAnalyst"),
			Actions:    jsii.Strings("sts:AssumeRole"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(fn.Role().RoleArn())},
		}))
	}
}
