package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// MetricNamespace is where VerifyQuery publishes its row counts.
const MetricNamespace = "lakeforge"

// addPipeline deploys the daily pipeline: the Glue import workflow, the
// import steps and their token table, the state machine, its schedule,
// the import's event handling (token release, fallback, post-import
// tagging), the first run at deploy, the dashboard and the alarms.
func (s *Stack) addPipeline() {
	s.addImportWorkflow()
	tokens := s.addTokenTable()
	s.addImportSteps(tokens)
	sm := s.addStateMachine()
	s.StateMachine = sm
	s.addSchedule(sm)
	s.addImportEvents(tokens)
	s.addMonitoring(sm)
	s.addFirstRun(sm)
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

// addImportSteps makes StartImport and VerifyQuery.
func (s *Stack) addImportSteps(tokens awsdynamodb.Table) {
	names := s.Config.Names()
	s.addStep(&StepFunctionProps{
		Name:        "start-import",
		Description: "lakeforge StartImport: starts the Glue import workflow, or attaches to the run in progress, and keeps the task token",
		Environment: map[string]*string{
			importrun.EnvWorkflowName: jsii.String(names.Workflow),
			importrun.EnvTokenTable:   tokens.TableName(),
		},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("StartOrAttachToImportRun"),
				Actions:   jsii.Strings("glue:GetWorkflow", "glue:StartWorkflowRun"),
				Resources: jsii.Strings(arn("glue", "workflow/"+names.Workflow)),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("KeepTaskToken"),
				Actions:   jsii.Strings("dynamodb:PutItem"),
				Resources: &[]*string{tokens.TableArn()},
			}),
		},
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
			"LAKE_BUCKET":         s.LakeBucket.BucketName(),
			"RUNS_PREFIX":         jsii.String(s.RunsPrefix()),
			"DATABASE_NAME":       jsii.String(s.Config.Database.Name),
			"TABLE_PREFIX":        jsii.String(s.Config.Database.TablePrefix),
			"WORKGROUP":           jsii.String(s.Config.Athena.WorkgroupName),
			"ANALYST_ROLE_ARN":    jsii.String(analyst),
			"METRIC_NAMESPACE":    jsii.String(MetricNamespace),
			"ROW_COUNT_TOLERANCE": jsii.String(strconv.FormatFloat(s.Config.Import.RowCountTolerance, 'g', -1, 64)),
			// Governance: VerifyQuery also proves the column security.
			stepcontract.EnvGovernance: jsii.String(mustJSON(s.Config.GovernanceModel())),
		},
		Statements: verifyStatements,
		Timeout:    awscdk.Duration_Minutes(jsii.Number(10)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("cloudwatch:PutMetricData has no resource-level permissions and is limited by the cloudwatch:namespace condition; manifests are one object per workflow run under the runs prefix."),
		AppliesTo: &[]any{
			"Resource::*",
			"Resource::" + s.LakeBucketNagARN() + "/" + s.RunsPrefix() + "*",
		},
	}}, jsii.Bool(true))
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
