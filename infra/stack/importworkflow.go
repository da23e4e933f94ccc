package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	gluescript "github.com/lakeforge/lakeforge/infra/glue"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// ImportWorkflow is the Glue workflow that replaces the Lake Formation
// "database snapshot" blueprint (which has no API).
type ImportWorkflow struct {
	Workflow      awsglue.CfnWorkflow
	SourceCrawler awsglue.CfnCrawler
	Job           awsglue.CfnJob
	OutputCrawler awsglue.CfnCrawler
	Security      awsglue.CfnSecurityConfiguration
}

// LakeURI is the s3:// URI of the lake prefix, with a trailing "/".
func (s *Stack) LakeURI() string {
	return "s3://" + *s.LakeBucket.BucketName() + "/" + s.Config.Lake.Prefix
}

// tableLevel is the output crawler's TableLevelConfiguration: tables sit one
// folder below the lake prefix, and the bucket is level 1.
func tableLevel(prefix string) int {
	return len(strings.Split(strings.Trim(prefix, "/"), "/")) + 2
}

// addImportWorkflow builds: ON_DEMAND trigger -> JDBC crawler on the source
// -> (crawler SUCCEEDED) -> import job -> (job SUCCEEDED) -> crawler on the
// lake output, writing to the output database with the table prefix.
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

	// The source crawler writes JDBC table definitions (no data) into
	// names.SourceDatabase. That database is not a CloudFormation resource:
	// once ConfigureLakeFormation has run, CloudFormation's role has no Lake
	// Formation CREATE_DATABASE, and a database made without
	// IAM_ALLOWED_PRINCIPALS gives the workflow role no permission to create
	// its tables. The EnsureDatabase step creates it as a data lake admin and
	// tags it with the workflow tag (not the analysts'), before StartImport
	// runs this workflow.
	var jdbcTargets []any
	for _, p := range cfg.Source.EffectiveIncludePaths() {
		jdbcTargets = append(jdbcTargets, &awsglue.CfnCrawler_JdbcTargetProperty{
			ConnectionName: jsii.String(s.ConnectionName()),
			Path:           jsii.String(p),
		})
	}
	srcCrawler := awsglue.NewCfnCrawler(s.Stack, jsii.String("SourceCrawler"), &awsglue.CfnCrawlerProps{
		Name:                         jsii.String(names.SourceCrawler),
		Description:                  jsii.String("lakeforge: discovers the source tables (Discovering)"),
		Role:                         role,
		DatabaseName:                 jsii.String(names.SourceDatabase),
		Targets:                      &awsglue.CfnCrawler_TargetsProperty{JdbcTargets: &jdbcTargets},
		CrawlerSecurityConfiguration: sec.Name(),
		SchemaChangePolicy: &awsglue.CfnCrawler_SchemaChangePolicyProperty{
			UpdateBehavior: jsii.String("UPDATE_IN_DATABASE"),
			DeleteBehavior: jsii.String("DELETE_FROM_DATABASE"),
		},
	})
	srcCrawler.AddResourceDependency(s.Connection, jsii.String("the crawler names the connection"))
	srcCrawler.AddResourceDependency(sec, jsii.String("the crawler names the security configuration"))

	// The script as an S3 asset, from the bytes the Python test checks.
	scriptDir, err := os.MkdirTemp("", "lakeforge-glue-")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(scriptDir, gluescript.ImportJobFile), gluescript.ImportJobScript, 0o644); err != nil {
		panic(err)
	}
	script := awss3assets.NewAsset(s.Stack, jsii.String("ImportJobScript"), &awss3assets.AssetProps{
		Path: jsii.String(filepath.Join(scriptDir, gluescript.ImportJobFile)),
	})
	script.GrantRead(s.WorkflowRole)
	cdknag.NagSuppressions_AddResourceSuppressions(s.WorkflowRole, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Reading the import job script: CDK's asset grant covers the bootstrap staging bucket's objects (s3:GetObject*, s3:List*, s3:GetBucket*) because asset keys are content hashes."),
		AppliesTo: &[]any{
			"Action::s3:GetObject*",
			"Action::s3:GetBucket*",
			"Action::s3:List*",
			"Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
		},
	}}, jsii.Bool(true))

	bookmark := "job-bookmark-disable"
	if cfg.Import.Mode == config.ModeIncremental {
		bookmark = "job-bookmark-enable"
	}
	keys, _ := json.Marshal(cfg.Import.BookmarkKeys)
	if cfg.Import.BookmarkKeys == nil {
		keys = []byte("{}")
	}
	job := awsglue.NewCfnJob(s.Stack, jsii.String("ImportJob"), &awsglue.CfnJobProps{
		Name:        jsii.String(names.ImportJob),
		Description: jsii.String("lakeforge: copies the source tables into the lake as Parquet (Importing)"),
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
			"--job-bookmark-option":              bookmark,
			"--source_database":                  names.SourceDatabase,
			"--lake_path":                        s.LakeURI(),
			"--runs_path":                        s.LakeURI() + verify.RunsFolder + "/",
			"--mode":                             cfg.Import.Mode,
			"--bookmark_keys":                    string(keys),
			"--enable-continuous-cloudwatch-log": "true",
			"--enable-metrics":                   "true",
			"--enable-glue-datacatalog":          "true",
		},
	})
	job.AddResourceDependency(sec, jsii.String("the job names the security configuration"))
	job.AddResourceDependency(s.Connection, jsii.String("the job names the connection"))

	outCrawlerConfig, _ := json.Marshal(map[string]any{
		"Version":  1.0,
		"Grouping": map[string]any{"TableLevelConfiguration": tableLevel(cfg.Lake.Prefix)},
		// A new column in the source updates the table instead of making
		// partitions or new tables.
		"CrawlerOutput": map[string]any{"Tables": map[string]any{"AddOrUpdateBehavior": "MergeNewColumns"}},
	})
	outCrawler := awsglue.NewCfnCrawler(s.Stack, jsii.String("OutputCrawler"), &awsglue.CfnCrawlerProps{
		Name:         jsii.String(names.OutputCrawler),
		Description:  jsii.String("lakeforge: catalogs the imported tables in the lake database"),
		Role:         role,
		DatabaseName: jsii.String(cfg.Database.Name),
		TablePrefix:  jsii.String(cfg.Database.TablePrefix),
		Targets: &awsglue.CfnCrawler_TargetsProperty{S3Targets: &[]any{&awsglue.CfnCrawler_S3TargetProperty{
			Path: jsii.String(s.LakeURI()),
			// The run manifests are not data.
			Exclusions: jsii.Strings(verify.RunsFolder + "/**"),
		}}},
		Configuration:                jsii.String(string(outCrawlerConfig)),
		CrawlerSecurityConfiguration: sec.Name(),
		SchemaChangePolicy: &awsglue.CfnCrawler_SchemaChangePolicyProperty{
			UpdateBehavior: jsii.String("UPDATE_IN_DATABASE"),
			DeleteBehavior: jsii.String("LOG"),
		},
	})
	outCrawler.AddResourceDependency(sec, jsii.String("the crawler names the security configuration"))

	wf := awsglue.NewCfnWorkflow(s.Stack, jsii.String("ImportWorkflow"), &awsglue.CfnWorkflowProps{
		Name:        jsii.String(names.Workflow),
		Description: jsii.String("lakeforge import: discover the source, import into the lake, catalog the output"),
		// One run at a time: StartImport attaches to the running one.
		MaxConcurrentRuns: jsii.Number(1),
	})
	trigger := func(id string, props *awsglue.CfnTriggerProps, deps ...awscdk.CfnResource) {
		props.WorkflowName = jsii.String(names.Workflow)
		t := awsglue.NewCfnTrigger(s.Stack, jsii.String(id), props)
		t.AddResourceDependency(wf, jsii.String("triggers name their workflow"))
		for _, d := range deps {
			t.AddResourceDependency(d, jsii.String("triggers name the crawlers and job they start or watch"))
		}
	}
	trigger("ImportStartTrigger", &awsglue.CfnTriggerProps{
		Name:        jsii.String(names.Workflow + "-start"),
		Description: jsii.String("Starts the source crawler when the workflow starts"),
		Type:        jsii.String("ON_DEMAND"),
		Actions:     &[]any{&awsglue.CfnTrigger_ActionProperty{CrawlerName: jsii.String(names.SourceCrawler)}},
	}, srcCrawler)
	trigger("ImportJobTrigger", &awsglue.CfnTriggerProps{
		Name:            jsii.String(names.Workflow + "-import"),
		Description:     jsii.String("Runs the import job when the source crawler succeeded"),
		Type:            jsii.String("CONDITIONAL"),
		StartOnCreation: jsii.Bool(true),
		Predicate: &awsglue.CfnTrigger_PredicateProperty{Conditions: &[]any{&awsglue.CfnTrigger_ConditionProperty{
			LogicalOperator: jsii.String("EQUALS"),
			CrawlerName:     jsii.String(names.SourceCrawler),
			CrawlState:      jsii.String("SUCCEEDED"),
		}}},
		Actions: &[]any{&awsglue.CfnTrigger_ActionProperty{JobName: jsii.String(names.ImportJob)}},
	}, srcCrawler, job)
	trigger("OutputCrawlerTrigger", &awsglue.CfnTriggerProps{
		Name:            jsii.String(names.Workflow + "-catalog"),
		Description:     jsii.String("Runs the output crawler when the import job succeeded"),
		Type:            jsii.String("CONDITIONAL"),
		StartOnCreation: jsii.Bool(true),
		Predicate: &awsglue.CfnTrigger_PredicateProperty{Conditions: &[]any{&awsglue.CfnTrigger_ConditionProperty{
			LogicalOperator: jsii.String("EQUALS"),
			JobName:         jsii.String(names.ImportJob),
			State:           jsii.String("SUCCEEDED"),
		}}},
		Actions: &[]any{&awsglue.CfnTrigger_ActionProperty{CrawlerName: jsii.String(names.OutputCrawler)}},
	}, job, outCrawler)

	return &ImportWorkflow{Workflow: wf, SourceCrawler: srcCrawler, Job: job, OutputCrawler: outCrawler, Security: sec}
}
