package stack

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	gluescript "github.com/lakeforge/lakeforge/infra/glue"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/verify"
	"github.com/lakeforge/lakeforge/statemachine"
)

// LakeProps configures a lake.
type LakeProps struct {
	// Config is a validated configuration (config.Config.Validate).
	Config config.Config
	// AssetDir holds <function>/bootstrap for every step, as `make build`
	// writes them into dist/.
	AssetDir string
	// LakeBucket is an existing bucket for the lake, used instead of
	// lake.existingBucketName or a new bucket.
	LakeBucket awss3.IBucket
	// WorkflowRole is an existing role for the import job (it must trust
	// glue.amazonaws.com), used instead of a new one.
	WorkflowRole awsiam.IRole
}

// Lake is the whole of lakeforge: its constructs, composed from the
// configuration. Each part exposes its resources.
type Lake struct {
	constructs.Construct
	Storage        *Storage
	Alerts         *Alerts
	Personas       *Personas
	Source         *Source
	ImportWorkflow *ImportWorkflow
	AccessModel    *AccessModel
	ImportEvents   *ImportEvents
	Pipeline       *Pipeline
	Monitoring     *Monitoring
	// FirstRun is nil unless schedule.runAtDeploy is on.
	FirstRun *FirstRun
}

// NewLake composes the lake in scope, which may be any construct of any
// stack. Each part is made once the parts it needs exist.
func NewLake(scope constructs.Construct, id string, props *LakeProps) *Lake {
	cfg := props.Config
	names := cfg.Names()
	c := constructs.NewConstruct(scope, jsii.String(id))
	tagLakeforge(c, cfg.StackName)
	steps := StepOptions{AssetDir: props.AssetDir, LogRetention: retention(cfg.LogRetentionDays)}
	// The import's manifests, under the lake prefix.
	runsPrefix := cfg.Lake.Prefix + verify.RunsFolder + "/"
	l := &Lake{Construct: c}

	lakeBucket := props.LakeBucket
	if name := cfg.Lake.ExistingBucketName; lakeBucket == nil && name != "" {
		lakeBucket = awss3.Bucket_FromBucketName(c, jsii.String("ExistingLakeBucket"), jsii.String(name))
	}
	l.Storage = NewStorage(c, "Storage", &StorageProps{LakeBucket: lakeBucket, LakeBucketName: cfg.Lake.BucketName, LakePrefix: cfg.Lake.Prefix})
	lake := l.Storage
	l.Alerts = NewAlerts(c, "Alerts", &AlertsProps{Key: lake.Key, Emails: cfg.Notifications.Emails})
	l.Personas = NewPersonas(c, "Personas", &PersonasProps{
		Admins: cfg.Personas.Admins, Analysts: cfg.Personas.Analysts, DatabaseName: cfg.Database.Name,
		WorkgroupName: cfg.Athena.WorkgroupName, BytesScannedCutoffPerQuery: cfg.Athena.BytesScannedCutoffPerQuery,
		ResultsBucket: lake.ResultsBucket,
	})
	l.Source = NewSource(c, "Source", &SourceProps{
		ConnectionName: names.Connection, Database: cfg.Source, Network: cfg.Network, Steps: steps,
		TestConnection: TestConnectionProps{
			StackName: cfg.StackName, Repair: cfg.Preflight.Repair,
			// One ENI per import worker plus one for the connection test.
			RequiredFreeIPs: cfg.RequiredFreeIPs(),
		},
	})
	l.ImportWorkflow = NewImportWorkflow(c, "ImportWorkflow", &ImportWorkflowProps{
		Role: props.WorkflowRole, LakeBucket: lake.LakeBucket, LakePrefix: cfg.Lake.Prefix, Key: lake.Key,
		Connection: l.Source.Connection, ConnectionName: l.Source.ConnectionName,
		SecretARN: cfg.Source.SecretARN, SecretKMSKeyARN: cfg.Source.SecretKMSKeyARN,
		WorkflowName: names.Workflow, JobName: names.ImportJob, SecurityConfigurationName: names.GlueSecurityConfiguration,
		Job: ImportJobProps{
			WorkerType: cfg.Import.WorkerType, NumberOfWorkers: cfg.Import.NumberOfWorkers, ExecutionClass: cfg.Import.ExecutionClass,
			TimeoutMinutes: cfg.Import.JobTimeoutMinutes, ExecutorCores: cfg.ExecutorCores(),
			Engine: cfg.Source.Engine, SourceDatabase: cfg.Source.DatabaseName, IncludePaths: cfg.Source.EffectiveIncludePaths(),
			RequireTLS: cfg.Source.RequireTLS, LakeDatabase: cfg.Database.Name, TablePrefix: cfg.Database.TablePrefix,
			Mode: cfg.Import.Mode, BookmarkKeys: cfg.Import.BookmarkKeys, Tables: cfg.Import.Tables, Partitioning: cfg.Import.Partitioning,
			MergeOverlapMinutes: cfg.Import.MergeOverlapMinutes, OrphanFileAgeHours: cfg.Import.OrphanFileAgeHours,
			SnapshotRetentionDays: cfg.Import.SnapshotRetentionDays, AdoptLocations: cfg.Import.AdoptLocations,
		},
	})
	// The stack-delete cleanup revokes the grants of the roles that go
	// with the lake.
	var ownRoles []awsiam.IRole
	if props.WorkflowRole == nil {
		ownRoles = append(ownRoles, l.ImportWorkflow.Role)
	}
	if l.Personas.AnalystRole != nil {
		ownRoles = append(ownRoles, l.Personas.AnalystRole)
	}
	l.AccessModel = NewAccessModel(c, "AccessModel", &AccessModelProps{
		Steps: steps, LakeBucket: lake.LakeBucket, LakePrefix: cfg.Lake.Prefix, WorkflowRole: l.ImportWorkflow.Role,
		AdminRole: l.Personas.AdminRole, AnalystRole: l.Personas.AnalystRole,
		Admins: cfg.Personas.Admins.PrincipalARNs, Analysts: cfg.Personas.Analysts.PrincipalARNs, OtherOwnRoles: ownRoles,
		DatabaseName: cfg.Database.Name, AccountSettings: cfg.LakeFormation.AccountSettings, LFTags: cfg.LFTags,
		TagOntology: cfg.LFTagOntology(), Governance: cfg.GovernanceModel(), RunsPrefix: runsPrefix,
	})
	l.ImportEvents = NewImportEvents(c, "ImportEvents", &ImportEventsProps{
		Steps: steps, WorkflowName: names.Workflow, JobName: names.ImportJob,
		WaitTimeoutMinutes: cfg.Import.WaitTimeoutMinutes, TagOutput: l.AccessModel.TagOutput().Function(),
	})
	schedule := ScheduleProps{Name: names.Schedule, Expression: cfg.Schedule.Expression, TimeZone: cfg.Schedule.TimeZone, Enabled: cfg.Schedule.Enabled}
	l.Pipeline = NewPipeline(c, "Pipeline", &PipelineProps{
		Steps: steps, Functions: append(l.AccessModel.PipelineSteps(), l.Source.TestConnection),
		FailureTopic: l.Alerts.FailureTopic, FailureTopicKey: lake.Key,
		StateMachineName: names.StateMachine, LogGroupName: names.StateMachineLogGroup,
		WorkflowName: names.Workflow, TokenTable: l.ImportEvents.TokenTable,
		VerifyQuery: VerifyQueryProps{
			LakeBucket: lake.LakeBucket, RunsPrefix: runsPrefix, Governance: cfg.GovernanceModel(),
			DatabaseName: cfg.Database.Name, TablePrefix: cfg.Database.TablePrefix, WorkgroupName: cfg.Athena.WorkgroupName,
			AnalystRole: verifyAnalystRole(c, l.Personas, cfg), RowCountTolerance: cfg.Import.RowCountTolerance,
		},
		Schedule: schedule,
	})
	l.Personas.TrustAsAnalyst("VerifyQueryActsAsAnalyst", l.Pipeline.VerifyQuery.Role())
	l.Monitoring = NewMonitoring(c, "Monitoring", &MonitoringProps{
		StateMachine: l.Pipeline.StateMachine, FailureTopic: l.Alerts.FailureTopic,
		StaleAfterHours: cfg.Schedule.StaleAfterHours(), Schedule: schedule,
		EventRules: l.ImportEvents.Rules(), EventFunction: l.ImportEvents.Function.Function(), TagOutput: l.AccessModel.TagOutput().Function(),
		DashboardName: names.Dashboard, DatabaseName: cfg.Database.Name, Governance: cfg.Governance.Enabled,
	})
	if cfg.Schedule.RunAtDeploy {
		l.FirstRun = NewFirstRun(c, "FirstRun", &FirstRunProps{
			Steps: steps, StateMachine: l.Pipeline.StateMachine,
			Digest: lakeDigest(c, cfg, props.AssetDir, append(slices.Collect(maps.Keys(l.Steps())), FirstRunFunction)),
		})
	}
	addOutputs(c, l.outputs(cfg))
	return l
}

// verifyAnalystRole is the role VerifyQuery queries as: the lake's analyst
// role, or the first configured analyst that is a role; nil when there is
// none.
func verifyAnalystRole(scope constructs.Construct, personas *Personas, cfg config.Config) awsiam.IRole {
	if personas.AnalystRole != nil {
		return personas.AnalystRole
	}
	for _, a := range cfg.Personas.Analysts.PrincipalARNs {
		if config.IsRoleARN(a) {
			return awsiam.Role_FromRoleArn(scope, jsii.String("VerifyAnalystRole"), jsii.String(a), &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})
		}
	}
	return nil
}

// lakeDigest is PipelineDigest of the lake: its definition, configuration,
// the job script it uploads and the bootstrap of each of functions.
func lakeDigest(scope constructs.Construct, cfg config.Config, assetDir string, functions []string) string {
	raw, _ := json.Marshal(cfg)
	code := map[string][]byte{}
	for _, name := range functions {
		b, err := os.ReadFile(filepath.Join(assetDir, name, "bootstrap"))
		if err != nil {
			awscdk.Annotations_Of(scope).AddError(jsii.String("the first run's digest needs every function's code: " + err.Error() + " (run `make build`)"))
			continue
		}
		code[name] = b
	}
	return PipelineDigest(statemachine.Pipeline, raw, gluescript.ImportJobScript, code)
}

// outputs are what an operator needs after `make deploy`.
func (l *Lake) outputs(cfg config.Config) []output {
	names := cfg.Names()
	outs := []output{
		{stepcontract.OutputLakeBucketName, "Data lake bucket (kept on teardown)", l.Storage.LakeBucket.BucketName()},
		{stepcontract.OutputResultsBucketName, "Athena query results bucket", l.Storage.ResultsBucket.BucketName()},
		{stepcontract.OutputWorkgroup, "Athena workgroup for analysts", jsii.String(cfg.Athena.WorkgroupName)},
		{stepcontract.OutputStateMachineArn, "The daily pipeline; start a run with: aws stepfunctions start-execution --state-machine-arn <this> --input '{}'", l.Pipeline.StateMachine.StateMachineArn()},
		{stepcontract.OutputWorkflowName, "Glue workflow that imports the source into the lake", jsii.String(names.Workflow)},
		{stepcontract.OutputDashboardName, "CloudWatch dashboard of the pipeline: runs, duration, rows per table, verification, freshness", jsii.String(names.Dashboard)},
		{stepcontract.OutputFailureTopicArn, "SNS topic for failed runs; subscribe to it", l.Alerts.FailureTopic.TopicArn()},
		{stepcontract.OutputConnectionName, "Glue JDBC connection to the source database", jsii.String(names.Connection)},
		{stepcontract.OutputWorkflowRoleArn, "Role of the Glue import job", l.ImportWorkflow.Role.RoleArn()},
	}
	if r := l.Personas.AdminRole; r != nil {
		outs = append(outs, output{stepcontract.OutputAdminRoleArn, "Data lake administrator role (members of the admins group may assume it)", r.RoleArn()})
	}
	if r := l.Personas.AnalystRole; r != nil {
		outs = append(outs, output{stepcontract.OutputAnalystRoleArn, "Analyst role (members of the analysts group may assume it)", r.RoleArn()})
	}
	return outs
}

// Steps are the lake's step functions, by name (functions/<name>).
func (l *Lake) Steps() map[string]StepFunction {
	steps := map[string]StepFunction{}
	for name, f := range l.AccessModel.Steps {
		steps[name] = f
	}
	for _, f := range []StepFunction{l.Source.TestConnection, l.ImportEvents.Function, l.Pipeline.StartImport, l.Pipeline.VerifyQuery} {
		steps[f.Name()] = f
	}
	if f := l.Source.ManageNetwork; f != nil {
		steps[f.Name()] = f
	}
	if l.FirstRun != nil {
		steps[l.FirstRun.Function.Name()] = l.FirstRun.Function
	}
	return steps
}
