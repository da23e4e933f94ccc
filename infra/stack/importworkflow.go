package stack

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	gluescript "github.com/lakeforge/lakeforge/infra/glue"
	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// ImportWorkflow is the Glue workflow that replaces the Lake Formation
// "database snapshot" blueprint (which has no API): an on-demand trigger that
// runs the import job. The job discovers the source tables itself (JDBC
// metadata) and registers its Iceberg tables in the lake database, so no
// crawler runs.
type ImportWorkflow struct {
	Workflow awsglue.CfnWorkflow
	Job      awsglue.CfnJob
	Security awsglue.CfnSecurityConfiguration
}

// workerCores are the vCPUs of one Glue worker of each type.
var workerCores = map[string]int{"G.1X": 4, "G.2X": 8, "G.4X": 16, "G.8X": 32}

// ExecutorCores is the number of Spark task slots of an import run: every
// worker but the driver's, times its cores. The job splits a table's read
// into this many key ranges and imports at most this many tables at once
// (capped at 16 concurrent tables, each holding a database connection).
func ExecutorCores(cfg config.Config) int {
	cores := workerCores[cfg.Import.WorkerType]
	if cores == 0 {
		cores = 4
	}
	return max(1, (cfg.Import.NumberOfWorkers-1)*cores)
}

// icebergConf is the job's --conf: the Iceberg catalog "glue_catalog" on the
// Glue Data Catalog ("Using the Iceberg framework in AWS Glue"), with Lake
// Formation full-table access, so Lake Formation vends the credentials for
// the tables it governs ("Using AWS Glue with AWS Lake Formation for Full
// Table Access"). See docs/aws-behaviour.md.
func (s *Stack) icebergConf() string {
	c := "glue_catalog"
	confs := []string{
		"spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
		"spark.sql.catalog." + c + "=org.apache.iceberg.spark.SparkCatalog",
		"spark.sql.catalog." + c + ".warehouse=" + s.Lake().Dir(),
		"spark.sql.catalog." + c + ".catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
		"spark.sql.catalog." + c + ".io-impl=org.apache.iceberg.aws.s3.S3FileIO",
		"spark.sql.catalog." + c + ".glue.id=" + *awscdk.Aws_ACCOUNT_ID(),
		"spark.sql.catalog." + c + ".glue.lakeformation-enabled=true",
		"spark.hadoop.fs.s3.credentialsResolverClass=com.amazonaws.glue.accesscontrol.AWSLakeFormationCredentialResolver",
		"spark.hadoop.fs.s3.useDirectoryHeaderAsFolderObject=true",
		"spark.hadoop.fs.s3.folderObject.autoAction.disabled=true",
		"spark.sql.catalog.skipLocationValidationOnCreateTable.enabled=true",
		"spark.sql.catalog.createDirectoryAfterTable.enabled=true",
		"spark.sql.catalog.dropDirectoryBeforeTable.enabled=true",
	}
	return strings.Join(confs, " --conf ")
}

func jsonString(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(raw)
}

// addImportWorkflow builds: ON_DEMAND trigger -> import job.
func (s *Stack) addImportWorkflow() *ImportWorkflow {
	cfg := s.Config
	names := cfg.Names()
	role := s.WorkflowRole.RoleArn()

	sec := awsglue.NewCfnSecurityConfiguration(s.Stack, jsii.String("GlueSecurity"), &awsglue.CfnSecurityConfigurationProps{
		Name: jsii.String(cfg.StackName + "-glue"),
		EncryptionConfiguration: &awsglue.CfnSecurityConfiguration_EncryptionConfigurationProperty{
			CloudWatchEncryption: &awsglue.CfnSecurityConfiguration_CloudWatchEncryptionProperty{
				CloudWatchEncryptionMode: jsii.String("SSE-KMS"),
				KmsKeyArn:                s.Key.KeyArn(),
			},
			JobBookmarksEncryption: &awsglue.CfnSecurityConfiguration_JobBookmarksEncryptionProperty{
				JobBookmarksEncryptionMode: jsii.String("CSE-KMS"),
				KmsKeyArn:                  s.Key.KeyArn(),
			},
			// SSE-S3, like the lake bucket's default: Lake Formation's
			// credential vending and Athena read it without key grants.
			S3Encryptions: []any{&awsglue.CfnSecurityConfiguration_S3EncryptionProperty{
				S3EncryptionMode: jsii.String("SSE-S3"),
			}},
		},
	})

	// The script as an S3 asset, from the bytes the Python test checks.
	scriptFile, err := gluescript.ScriptFile()
	if err != nil {
		panic(err)
	}
	script := awss3assets.NewAsset(s.Stack, jsii.String("ImportJobScript"), &awss3assets.AssetProps{
		Path: jsii.String(scriptFile),
	})
	script.GrantRead(s.WorkflowRole)
	cdknag.NagSuppressions_AddResourceSuppressions(s.WorkflowRole, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Reading the import job script: CDK's asset grant covers the bootstrap staging bucket's objects (s3:GetObject*, s3:List*, s3:GetBucket*) because asset keys are content hashes."),
		AppliesTo: &[]any{
			"Action::s3:GetObject*",
			"Action::s3:GetBucket*",
			"Action::s3:List*",
			"Resource::" + awsarn.S3("<AWS::Partition>", "cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>", "*"),
		},
	}}, jsii.Bool(true))

	keys := cfg.Import.BookmarkKeys
	if keys == nil {
		keys = map[string][]string{}
	}
	partitioning := cfg.Import.Partitioning
	if partitioning == nil {
		partitioning = map[string]config.PartitionConfig{}
	}
	cores := ExecutorCores(cfg)
	job := awsglue.NewCfnJob(s.Stack, jsii.String("ImportJob"), &awsglue.CfnJobProps{
		Name:        jsii.String(names.ImportJob),
		Description: jsii.String("lakeforge: discovers the source tables and imports them into the lake as Iceberg tables (Importing)"),
		Role:        role,
		Command: &awsglue.CfnJob_JobCommandProperty{
			Name:           jsii.String("glueetl"),
			PythonVersion:  jsii.String("3"),
			ScriptLocation: script.S3ObjectUrl(),
		},
		GlueVersion:           jsii.String("5.0"),
		WorkerType:            jsii.String(cfg.Import.WorkerType),
		NumberOfWorkers:       jsii.Number(float64(cfg.Import.NumberOfWorkers)),
		ExecutionClass:        jsii.String(cfg.Import.ExecutionClass),
		Timeout:               jsii.Number(float64(cfg.Import.JobTimeoutMinutes)),
		MaxRetries:            jsii.Number(0),
		SecurityConfiguration: sec.Name(),
		Connections:           &awsglue.CfnJob_ConnectionsListProperty{Connections: jsii.Strings(s.ConnectionName())},
		ExecutionProperty:     &awsglue.CfnJob_ExecutionPropertyProperty{MaxConcurrentRuns: jsii.Number(1)},
		DefaultArguments: map[string]any{
			"--connection_name":         s.ConnectionName(),
			"--engine":                  cfg.Source.Engine,
			"--source_dbname":           cfg.Source.DatabaseName,
			"--include_paths":           jsonString(cfg.Source.EffectiveIncludePaths()),
			"--require_tls":             boolString(cfg.Source.RequireTLS),
			"--lake_database":           cfg.Database.Name,
			"--table_prefix":            cfg.Database.TablePrefix,
			"--lake_path":               s.Lake().Dir(),
			"--runs_path":               s.Lake().Dir() + verify.RunsFolder + "/",
			"--mode":                    cfg.Import.Mode,
			"--bookmark_keys":           jsonString(keys),
			"--partitioning":            jsonString(partitioning),
			"--read_partitions":         strconv.Itoa(cores),
			"--parallel_tables":         strconv.Itoa(min(cores, 16)),
			"--snapshot_retention_days": strconv.Itoa(cfg.Import.SnapshotRetentionDays),
			"--datalake-formats":        "iceberg",
			"--conf":                    s.icebergConf(),
			// Job bookmarks do not support Iceberg tables: the watermark
			// is the lake table's own highest key.
			"--job-bookmark-option":              "job-bookmark-disable",
			"--enable-continuous-cloudwatch-log": "true",
			"--enable-metrics":                   "true",
			"--enable-glue-datacatalog":          "true",
		},
	})
	job.AddResourceDependency(sec, jsii.String("the job names the security configuration"))
	job.AddResourceDependency(s.Connection, jsii.String("the job names the connection"))

	wf := awsglue.NewCfnWorkflow(s.Stack, jsii.String("ImportWorkflow"), &awsglue.CfnWorkflowProps{
		Name:        jsii.String(names.Workflow),
		Description: jsii.String("lakeforge import: the import job discovers the source tables and publishes them to the lake"),
		// One run at a time: StartImport attaches to the running one.
		MaxConcurrentRuns: jsii.Number(1),
	})
	start := awsglue.NewCfnTrigger(s.Stack, jsii.String("ImportStartTrigger"), &awsglue.CfnTriggerProps{
		Name:         jsii.String(names.Workflow + "-start"),
		Description:  jsii.String("Runs the import job when the workflow starts"),
		Type:         jsii.String("ON_DEMAND"),
		WorkflowName: jsii.String(names.Workflow),
		Actions:      &[]any{&awsglue.CfnTrigger_ActionProperty{JobName: jsii.String(names.ImportJob)}},
	})
	start.AddResourceDependency(wf, jsii.String("triggers name their workflow"))
	start.AddResourceDependency(job, jsii.String("the trigger starts the job"))

	return &ImportWorkflow{Workflow: wf, Job: job, Security: sec}
}
