package stack

import (
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	gluescript "github.com/lakeforge/lakeforge/infra/glue"
	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// icebergConf is the job's --conf: the Iceberg catalog "glue_catalog" on the
// Glue Data Catalog ("Using the Iceberg framework in AWS Glue"), with Lake
// Formation full-table access, so Lake Formation vends the credentials for
// the tables it governs ("Using AWS Glue with AWS Lake Formation for Full
// Table Access"). See docs/aws-behaviour.md.
func icebergConf(lake awsarn.Lake) string {
	c := "glue_catalog"
	confs := []string{
		"spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
		"spark.sql.catalog." + c + "=org.apache.iceberg.spark.SparkCatalog",
		"spark.sql.catalog." + c + ".warehouse=" + lake.Dir(),
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

// ImportWorkflowProps configures ImportWorkflow.
type ImportWorkflowProps struct {
	// Role runs the import job. Nil makes the workflow role (Glue's
	// service principal and AWSGlueServiceRole); a role passed in must
	// trust glue.amazonaws.com and gets the same statements.
	Role awsiam.IRole
	// LakeBucket and LakePrefix are where the job writes: it reads and
	// writes only objects under the prefix.
	LakeBucket awss3.IBucket
	LakePrefix string
	// Key encrypts the job's CloudWatch logs and bookmarks.
	Key awskms.IKey
	// Connection (named ConnectionName) is the Glue connection the job
	// reads the source through; SecretARN (and SecretKMSKeyARN, if any)
	// hold its credentials.
	Connection      awsglue.CfnConnection
	ConnectionName  string
	SecretARN       string
	SecretKMSKeyARN string
	// WorkflowName, JobName and SecurityConfigurationName name the Glue
	// resources.
	WorkflowName, JobName, SecurityConfigurationName string
	Job                                              ImportJobProps
}

// ImportJobProps are the import job's size and its arguments.
type ImportJobProps struct {
	WorkerType      string
	NumberOfWorkers int
	ExecutionClass  string
	TimeoutMinutes  int
	// ExecutorCores is the job's Spark task slots: the ranges a table's read
	// is split into, and the tables imported at once (at most 16).
	ExecutorCores int

	Engine         string
	SourceDatabase string
	IncludePaths   []string
	RequireTLS     bool

	LakeDatabase          string
	TablePrefix           string
	Mode                  string
	BookmarkKeys          map[string][]string
	Tables                map[string]config.TableImportConfig
	Partitioning          map[string]config.PartitionConfig
	SnapshotRetentionDays int
	// MergeOverlapMinutes and OrphanFileAgeHours are the merge mode's
	// watermark overlap and the age of files orphan removal may delete.
	MergeOverlapMinutes, OrphanFileAgeHours int
	// AdoptLocations are S3 prefixes (s3://bucket/prefix/) of Parquet
	// tables a blueprint wrote, which the job may read to convert them.
	AdoptLocations []string
}

// ImportWorkflow is the Glue workflow that replaces the Lake Formation
// "database snapshot" blueprint (which has no API): an on-demand trigger that
// runs the import job. The job discovers the source tables itself (JDBC
// metadata) and registers its Iceberg tables in the lake database, so no
// crawler runs.
type ImportWorkflow struct {
	constructs.Construct
	// Role runs the import job: props.Role, or the role made here.
	Role     awsiam.IRole
	Workflow awsglue.CfnWorkflow
	Job      awsglue.CfnJob
	Security awsglue.CfnSecurityConfiguration
}

// NewImportWorkflow builds: ON_DEMAND trigger -> import job, and the job's
// role unless props.Role is given.
func NewImportWorkflow(scope constructs.Construct, id string, props *ImportWorkflowProps) *ImportWorkflow {
	c := constructs.NewConstruct(scope, jsii.String(id))
	role := props.Role
	if role == nil {
		role = awsiam.NewRole(c, jsii.String("WorkflowRole"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
			Description: jsii.String("lakeforge: runs the Glue import job"),
			ManagedPolicies: &[]awsiam.IManagedPolicy{
				awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSGlueServiceRole")),
			},
		})
	}
	allowJobCalls(role, props)
	lake := awsarn.Lake{Bucket: *props.LakeBucket.BucketName(), Prefix: props.LakePrefix}
	job := props.Job

	sec := awsglue.NewCfnSecurityConfiguration(c, jsii.String("GlueSecurity"), &awsglue.CfnSecurityConfigurationProps{
		Name: jsii.String(props.SecurityConfigurationName),
		EncryptionConfiguration: &awsglue.CfnSecurityConfiguration_EncryptionConfigurationProperty{
			CloudWatchEncryption: &awsglue.CfnSecurityConfiguration_CloudWatchEncryptionProperty{
				CloudWatchEncryptionMode: jsii.String("SSE-KMS"),
				KmsKeyArn:                props.Key.KeyArn(),
			},
			JobBookmarksEncryption: &awsglue.CfnSecurityConfiguration_JobBookmarksEncryptionProperty{
				JobBookmarksEncryptionMode: jsii.String("CSE-KMS"),
				KmsKeyArn:                  props.Key.KeyArn(),
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
	script := awss3assets.NewAsset(c, jsii.String("ImportJobScript"), &awss3assets.AssetProps{
		Path: jsii.String(scriptFile),
	})
	script.GrantRead(role)
	// The script's modules, zipped by the CDK (a directory asset), on the
	// job's Python path through --extra-py-files.
	modulesDir, err := gluescript.ModulesDir()
	if err != nil {
		panic(err)
	}
	modules := awss3assets.NewAsset(c, jsii.String("ImportJobModules"), &awss3assets.AssetProps{Path: jsii.String(modulesDir)})
	modules.GrantRead(role)
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Reading the import job script: CDK's asset grant covers the bootstrap staging bucket's objects (s3:GetObject*, s3:List*, s3:GetBucket*) because asset keys are content hashes."),
		AppliesTo: &[]any{
			"Action::s3:GetObject*",
			"Action::s3:GetBucket*",
			"Action::s3:List*",
			"Resource::" + awsarn.S3("<AWS::Partition>", "cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>", "*"),
		},
	}}, jsii.Bool(true))

	keys := job.BookmarkKeys
	if keys == nil {
		keys = map[string][]string{}
	}
	tables := job.Tables
	if tables == nil {
		tables = map[string]config.TableImportConfig{}
	}
	partitioning := job.Partitioning
	if partitioning == nil {
		partitioning = map[string]config.PartitionConfig{}
	}
	connection := props.ConnectionName
	cores := job.ExecutorCores
	cfnJob := awsglue.NewCfnJob(c, jsii.String("ImportJob"), &awsglue.CfnJobProps{
		Name:        jsii.String(props.JobName),
		Description: jsii.String("lakeforge: discovers the source tables and imports them into the lake as Iceberg tables (Importing)"),
		Role:        role.RoleArn(),
		Command: &awsglue.CfnJob_JobCommandProperty{
			Name:           jsii.String("glueetl"),
			PythonVersion:  jsii.String("3"),
			ScriptLocation: script.S3ObjectUrl(),
		},
		GlueVersion:           jsii.String("5.0"),
		WorkerType:            jsii.String(job.WorkerType),
		NumberOfWorkers:       jsii.Number(float64(job.NumberOfWorkers)),
		ExecutionClass:        jsii.String(job.ExecutionClass),
		Timeout:               jsii.Number(float64(job.TimeoutMinutes)),
		MaxRetries:            jsii.Number(0),
		SecurityConfiguration: sec.Name(),
		Connections:           &awsglue.CfnJob_ConnectionsListProperty{Connections: jsii.Strings(connection)},
		ExecutionProperty:     &awsglue.CfnJob_ExecutionPropertyProperty{MaxConcurrentRuns: jsii.Number(1)},
		DefaultArguments: map[string]any{
			"--connection_name":         connection,
			"--engine":                  job.Engine,
			"--source_dbname":           job.SourceDatabase,
			"--include_paths":           stepcontract.Encode(job.IncludePaths),
			"--require_tls":             boolString(job.RequireTLS),
			"--lake_database":           job.LakeDatabase,
			"--table_prefix":            job.TablePrefix,
			"--lake_path":               lake.Dir(),
			"--runs_path":               lake.Dir() + verify.RunsFolder + "/",
			"--mode":                    job.Mode,
			"--bookmark_keys":           stepcontract.Encode(keys),
			"--tables":                  stepcontract.Encode(tables),
			"--merge_overlap_minutes":   strconv.Itoa(job.MergeOverlapMinutes),
			"--orphan_file_age_hours":   strconv.Itoa(job.OrphanFileAgeHours),
			"--partitioning":            stepcontract.Encode(partitioning),
			"--read_partitions":         strconv.Itoa(cores),
			"--parallel_tables":         strconv.Itoa(min(cores, 16)),
			"--snapshot_retention_days": strconv.Itoa(job.SnapshotRetentionDays),
			"--extra-py-files":          modules.S3ObjectUrl(),
			"--datalake-formats":        "iceberg",
			"--conf":                    icebergConf(lake),
			// Job bookmarks do not support Iceberg tables: the watermark
			// is the lake table's own highest key.
			"--job-bookmark-option": "job-bookmark-disable",
			// No --enable-continuous-cloudwatch-log: Glue 5.0 logs in real
			// time by itself; the flag is a Glue 4.0-and-earlier feature.
			"--enable-metrics":          "true",
			"--enable-glue-datacatalog": "true",
		},
	})
	cfnJob.AddResourceDependency(sec, jsii.String("the job names the security configuration"))
	cfnJob.AddResourceDependency(props.Connection, jsii.String("the job names the connection"))

	wf := awsglue.NewCfnWorkflow(c, jsii.String("ImportWorkflow"), &awsglue.CfnWorkflowProps{
		Name:        jsii.String(props.WorkflowName),
		Description: jsii.String("lakeforge import: the import job discovers the source tables and publishes them to the lake"),
		// One run at a time: StartImport attaches to the running one.
		MaxConcurrentRuns: jsii.Number(1),
	})
	start := awsglue.NewCfnTrigger(c, jsii.String("ImportStartTrigger"), &awsglue.CfnTriggerProps{
		Name:         jsii.String(props.WorkflowName + "-start"),
		Description:  jsii.String("Runs the import job when the workflow starts"),
		Type:         jsii.String("ON_DEMAND"),
		WorkflowName: jsii.String(props.WorkflowName),
		Actions:      &[]any{&awsglue.CfnTrigger_ActionProperty{JobName: jsii.String(props.JobName)}},
	})
	start.AddResourceDependency(wf, jsii.String("triggers name their workflow"))
	start.AddResourceDependency(cfnJob, jsii.String("the trigger starts the job"))

	return &ImportWorkflow{Construct: c, Role: role, Workflow: wf, Job: cfnJob, Security: sec}
}

// allowJobCalls gives the job's role what the post's
// AWSGlueServiceRoleDefaultDataLakeDataAccess had, without
// AmazonS3ReadOnlyAccess: it reads and writes only the lake prefix.
func allowJobCalls(role awsiam.IRole, props *ImportWorkflowProps) {
	bucketARN := *props.LakeBucket.BucketArn()
	for _, st := range []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LakeFormationVendsCatalogTableData"),
			Actions:   jsii.Strings("lakeformation:GetDataAccess"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadWriteLakePrefix"),
			Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
			Resources: jsii.Strings(bucketARN + "/" + props.LakePrefix + "*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ListLakePrefix"),
			Actions:   jsii.Strings("s3:ListBucket", "s3:GetBucketLocation"),
			Resources: jsii.Strings(bucketARN),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadSourceSecret"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
			Resources: jsii.Strings(props.SecretARN),
		}),
	} {
		role.AddToPrincipalPolicy(st)
	}
	adoptObjects := allowAdoptLocationsRead(role, props.Job.AdoptLocations)
	props.Key.GrantEncryptDecrypt(role)
	// The security configuration encrypts the job's CloudWatch logs: Glue
	// associates the key with the /aws-glue log groups it creates as the
	// job's role.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptGlueLogGroups"),
		Actions:   jsii.Strings("logs:AssociateKmsKey"),
		Resources: jsii.Strings(arn("logs", "log-group:/aws-glue/*")),
	}))
	// The job reads the secret.
	if st := secretKeyDecrypt(props.SecretKMSKeyARN); st != nil {
		role.AddToPrincipalPolicy(st)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{
		{
			Id:        jsii.String("AwsSolutions-IAM4"),
			Reason:    jsii.String("AWSGlueServiceRole is the AWS-maintained policy Glue documents for crawler and job roles; it covers the VPC network-interface lifecycle of JDBC connections, which changes as Glue evolves."),
			AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSGlueServiceRole"},
		},
		{
			Id:     jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("lakeformation:GetDataAccess has no resource-level permissions (Lake Formation authorizes per table); S3 access is limited to objects under the lake prefix; logs:AssociateKmsKey is limited to the /aws-glue log groups Glue creates for the job; kms wildcards are the action groups CDK grants for encrypt/decrypt on the stack's own key."),
			AppliesTo: &[]any{
				"Resource::*",
				"Resource::" + nagBucketARN(props.LakeBucket) + "/" + props.LakePrefix + "*",
				"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/*",
				"Action::kms:ReEncrypt*",
				"Action::kms:GenerateDataKey*",
			},
		},
	}, jsii.Bool(true))
	if len(adoptObjects) > 0 {
		cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("import.adoptLocations: read-only access to the Parquet files under the prefixes a Lake Formation blueprint wrote, which the import converts in place once (docs/migration.md)."),
			AppliesTo: &adoptObjects,
		}}, jsii.Bool(true))
	}
}

// allowAdoptLocationsRead lets the import job read the Parquet tables a
// blueprint wrote under locations (s3://bucket/prefix/, read only), and
// returns the object ARNs for the nag suppression. A converted table's
// files are read once; with full table access such a data source read
// falls back to the job role's IAM permissions.
func allowAdoptLocationsRead(role awsiam.IRole, locations []string) []any {
	if len(locations) == 0 {
		return nil
	}
	var objects, buckets []string
	var suppress []any
	for _, loc := range locations {
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(loc, "s3://"), "/")
		objects = append(objects, awsarn.S3(*awscdk.Aws_PARTITION(), bucket, prefix+"*"))
		suppress = append(suppress, "Resource::arn:<AWS::Partition>:s3:::"+bucket+"/"+prefix+"*")
		if b := awsarn.S3(*awscdk.Aws_PARTITION(), bucket, ""); !slices.Contains(buckets, b) {
			buckets = append(buckets, b)
		}
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadAdoptedParquet"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(objects...),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListAdoptedParquet"),
		Actions:   jsii.Strings("s3:ListBucket", "s3:GetBucketLocation"),
		Resources: jsii.Strings(buckets...),
	}))
	return suppress
}
