// Package manualbuild makes, on the moto server, the account state the
// blog's walkthrough leaves by hand (/work/shared/seed/walkthrough.md,
// docs/migration.md): the groups and users, the crawler role, the Lake
// Formation administrator, settings, LF-tags (with the blog's "cralwer"
// typo) and grants, the registered bucket, the database, the JDBC
// connection, the blueprint's workflow (a scheduled trigger, crawlers and
// a job) and the catalog entries of the Parquet tables the blueprint
// wrote. The tests of pkg/adopt and the migration test of pkg/demo build
// on it; the Parquet files themselves are written by Spark (pkg/demo).
//
// What it cannot make: the blueprint itself (Lake Formation has no public
// API for blueprints, so its workflow is rebuilt from Glue triggers,
// crawlers and a job as the console shows it).
package manualbuild

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
)

// Names the walkthrough uses.
const (
	AdminsGroup    = "dl_admins"
	UsersGroup     = "dl_users"
	AdminUser      = "datalake_admin_user"
	AnalystUser    = "datalake_user"
	CrawlerRole    = "AWSGlueServiceRoleDefaultDataLakeDataAccess"
	Connection     = "kthr01-rds"
	Workflow       = "workflow"
	StartTrigger   = "workflow_starting_trigger"
	Schedule       = "cron(45 9 * * ? *)"
	SourceCrawler  = "workflow_discoverer"
	ImportJob      = "workflow_etl_job"
	OutputCrawler  = "workflow_output_crawler"
	TagValueTypo   = "cralwer" // sic: the blog's step 8
	ServiceLinked  = "AWSServiceRoleForLakeFormationDataAccess"
	MaintenanceKey = "maintenance"
	SourceKey      = "source"
)

// Column is one column of a Parquet table, as the blueprint's crawler
// catalogued it (Hive type names).
type Column struct{ Name, Type string }

// Options are the account-specific parts of the build.
type Options struct {
	Account  string
	Database string
	// Bucket is the data lake bucket (step 1); the blueprint writes each
	// table under s3://Bucket/Prefix<table>/.
	Bucket string
	Prefix string
	// Tables are the blueprint's Parquet tables, by name, with columns.
	Tables map[string][]Column
}

// Build is what Seed made.
type Build struct {
	AdminUserARN, AnalystUserARN, CrawlerRoleARN string
	// TableLocations are the S3 locations of the Parquet tables.
	TableLocations map[string]string
}

type clients struct {
	iam  *iam.Client
	glue *glue.Client
	lf   *lf.Client
}

// Seed makes the manual build with cfg (moto's endpoint and credentials).
func Seed(ctx context.Context, cfg aws.Config, o Options) (Build, error) {
	c := clients{iam: iam.NewFromConfig(cfg), glue: glue.NewFromConfig(cfg), lf: lf.NewFromConfig(cfg)}
	b := Build{
		AdminUserARN:   fmt.Sprintf("arn:aws:iam::%s:user/%s", o.Account, AdminUser),
		AnalystUserARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", o.Account, AnalystUser),
		TableLocations: map[string]string{},
	}
	steps := []func(context.Context, clients, Options, *Build) error{identities, lakeFormation, catalog, blueprintWorkflow}
	for _, s := range steps {
		if err := s(ctx, c, o, &b); err != nil {
			return b, err
		}
	}
	return b, nil
}

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%q,"Resource":"*"}]}`

// identities: steps 2-4.
func identities(ctx context.Context, c clients, o Options, b *Build) error {
	// moto loads no AWS managed policy by default: customer managed ones
	// with the same names stand for AmazonAthenaFullAccess and AmazonS3FullAccess.
	policies := map[string]string{}
	for name, action := range map[string]string{"AmazonAthenaFullAccess": "athena:*", "AmazonS3FullAccess": "s3:*", "AWSLakeFormationDataAdmin": "lakeformation:*"} {
		p, err := c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(fmt.Sprintf(allowAll, action))})
		if err != nil {
			return fmt.Errorf("policy %s: %w", name, err)
		}
		policies[name] = aws.ToString(p.Policy.Arn)
	}
	for group, g := range map[string]struct {
		user     string
		policies []string
		inline   string
	}{
		AdminsGroup: {AdminUser, []string{"AmazonAthenaFullAccess", "AWSLakeFormationDataAdmin"}, "iam:PutRolePolicy"},
		UsersGroup:  {AnalystUser, []string{"AmazonS3FullAccess", "AmazonAthenaFullAccess"}, "lakeformation:GetDataAccess"},
	} {
		if _, err := c.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(group)}); err != nil {
			return fmt.Errorf("group %s: %w", group, err)
		}
		if _, err := c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(g.user)}); err != nil {
			return fmt.Errorf("user %s: %w", g.user, err)
		}
		if _, err := c.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(g.user)}); err != nil {
			return err
		}
		for _, p := range g.policies {
			if _, err := c.iam.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(policies[p])}); err != nil {
				return err
			}
		}
		if _, err := c.iam.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(group + "-inline"), PolicyDocument: aws.String(fmt.Sprintf(allowAll, g.inline))}); err != nil {
			return err
		}
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"glue.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	r, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(CrawlerRole), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		return fmt.Errorf("role %s: %w", CrawlerRole, err)
	}
	b.CrawlerRoleARN = aws.ToString(r.Role.Arn)
	return nil
}

func principal(arn string) *lftypes.DataLakePrincipal {
	return &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(arn)}
}

func tagPolicy(t lftypes.ResourceType, key, value string) *lftypes.Resource {
	return &lftypes.Resource{LFTagPolicy: &lftypes.LFTagPolicyResource{ResourceType: t,
		Expression: []lftypes.LFTag{{TagKey: aws.String(key), TagValues: []string{value}}}}}
}

// lakeFormation: steps 5-12.
func lakeFormation(ctx context.Context, c clients, o Options, b *Build) error {
	if _, err := c.lf.PutDataLakeSettings(ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &lftypes.DataLakeSettings{
		DataLakeAdmins:                   []lftypes.DataLakePrincipal{*principal(b.AdminUserARN)},
		CreateDatabaseDefaultPermissions: []lftypes.PrincipalPermissions{},
		CreateTableDefaultPermissions:    []lftypes.PrincipalPermissions{},
	}}); err != nil {
		return fmt.Errorf("data lake settings: %w", err)
	}
	for key, values := range map[string][]string{MaintenanceKey: {TagValueTypo, "manual"}, SourceKey: {"product"}} {
		if _, err := c.lf.CreateLFTag(ctx, &lf.CreateLFTagInput{TagKey: aws.String(key), TagValues: values}); err != nil {
			return fmt.Errorf("LF-tag %s: %w", key, err)
		}
	}
	grants := []*lf.GrantPermissionsInput{
		// Step 9: the crawler role, Super on databases and tables tagged maintenance=cralwer.
		{Principal: principal(b.CrawlerRoleARN), Resource: tagPolicy(lftypes.ResourceTypeDatabase, MaintenanceKey, TagValueTypo), Permissions: []lftypes.Permission{lftypes.PermissionAll}},
		{Principal: principal(b.CrawlerRoleARN), Resource: tagPolicy(lftypes.ResourceTypeTable, MaintenanceKey, TagValueTypo), Permissions: []lftypes.Permission{lftypes.PermissionAll}},
		// Step 10: the analyst user, SELECT and DESCRIBE on tables tagged source=product.
		{Principal: principal(b.AnalystUserARN), Resource: tagPolicy(lftypes.ResourceTypeTable, SourceKey, "product"),
			Permissions: []lftypes.Permission{lftypes.PermissionSelect, lftypes.PermissionDescribe}},
	}
	for _, g := range grants {
		if _, err := c.lf.GrantPermissions(ctx, g); err != nil {
			return fmt.Errorf("grant: %w", err)
		}
	}
	// Step 11: the bucket, registered with the service-linked role.
	bucketARN := "arn:aws:s3:::" + o.Bucket
	if _, err := c.lf.RegisterResource(ctx, &lf.RegisterResourceInput{ResourceArn: aws.String(bucketARN), UseServiceLinkedRole: aws.Bool(true),
		RoleArn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/lakeformation.amazonaws.com/%s", o.Account, ServiceLinked))}); err != nil {
		return fmt.Errorf("register %s: %w", bucketARN, err)
	}
	// Step 12.
	if _, err := c.lf.GrantPermissions(ctx, &lf.GrantPermissionsInput{Principal: principal(b.CrawlerRoleARN),
		Resource:    &lftypes.Resource{DataLocation: &lftypes.DataLocationResource{ResourceArn: aws.String(bucketARN)}},
		Permissions: []lftypes.Permission{lftypes.PermissionDataLocationAccess}}); err != nil {
		return fmt.Errorf("data location grant: %w", err)
	}
	return nil
}

// ParquetTableInput is the catalog entry the blueprint's output crawler
// makes for a Parquet table (Hive Parquet SerDe, classification parquet).
func ParquetTableInput(name, location string, cols []Column) *gluetypes.TableInput {
	var columns []gluetypes.Column
	for _, c := range cols {
		columns = append(columns, gluetypes.Column{Name: aws.String(c.Name), Type: aws.String(c.Type)})
	}
	return &gluetypes.TableInput{
		Name: aws.String(name), TableType: aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{"classification": "parquet", "compressionType": "none", "typeOfData": "file"},
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Location: aws.String(location), Columns: columns,
			InputFormat:  aws.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"),
			OutputFormat: aws.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
			SerdeInfo:    &gluetypes.SerDeInfo{SerializationLibrary: aws.String("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"), Parameters: map[string]string{"serialization.format": "1"}},
		},
	}
}

// catalog: steps 13, 14 and 18, and the tables step 17 made.
func catalog(ctx context.Context, c clients, o Options, b *Build) error {
	if _, err := c.glue.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(o.Database)}}); err != nil {
		return fmt.Errorf("database %s: %w", o.Database, err)
	}
	db := &lftypes.Resource{Database: &lftypes.DatabaseResource{Name: aws.String(o.Database)}}
	if _, err := c.lf.AddLFTagsToResource(ctx, &lf.AddLFTagsToResourceInput{Resource: db, LFTags: []lftypes.LFTagPair{
		{TagKey: aws.String(MaintenanceKey), TagValues: []string{TagValueTypo}}, {TagKey: aws.String(SourceKey), TagValues: []string{"product"}}}}); err != nil {
		return fmt.Errorf("tag database: %w", err)
	}
	if _, err := c.glue.CreateConnection(ctx, &glue.CreateConnectionInput{ConnectionInput: &gluetypes.ConnectionInput{
		Name: aws.String(Connection), ConnectionType: gluetypes.ConnectionTypeJdbc,
		ConnectionProperties: map[string]string{"JDBC_CONNECTION_URL": "jdbc:postgresql://kthr01.example:5432/kthr01", "USERNAME": "kthr01"}}}); err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	for name, cols := range o.Tables {
		loc := fmt.Sprintf("s3://%s/%s%s/", o.Bucket, o.Prefix, name)
		if _, err := c.glue.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(o.Database), TableInput: ParquetTableInput(name, loc, cols)}); err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
		b.TableLocations[name] = loc
	}
	return nil
}

// blueprintWorkflow: step 16, the database snapshot blueprint's workflow
// as Glue shows it: a scheduled starting trigger -> the source crawler ->
// the import job -> the output crawler (target: the lake database).
func blueprintWorkflow(ctx context.Context, c clients, o Options, b *Build) error {
	if _, err := c.glue.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(Workflow)}); err != nil {
		return fmt.Errorf("workflow: %w", err)
	}
	for name, db := range map[string]string{SourceCrawler: "_blueprint_source_" + o.Database, OutputCrawler: o.Database} {
		if _, err := c.glue.CreateCrawler(ctx, &glue.CreateCrawlerInput{Name: aws.String(name), Role: aws.String(b.CrawlerRoleARN), DatabaseName: aws.String(db),
			Targets: &gluetypes.CrawlerTargets{S3Targets: []gluetypes.S3Target{{Path: aws.String(fmt.Sprintf("s3://%s/%s", o.Bucket, o.Prefix))}}}}); err != nil {
			return fmt.Errorf("crawler %s: %w", name, err)
		}
	}
	if _, err := c.glue.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String(ImportJob), Role: aws.String(b.CrawlerRoleARN),
		Command:          &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String(fmt.Sprintf("s3://%s/scripts/%s.py", o.Bucket, ImportJob))},
		DefaultArguments: map[string]string{"--DestinationDatabaseName": o.Database, "--DestinationPath": fmt.Sprintf("s3://%s/%s", o.Bucket, o.Prefix), "--DataFormat": "parquet"},
		Connections:      &gluetypes.ConnectionsList{Connections: []string{Connection}}}); err != nil {
		return fmt.Errorf("job: %w", err)
	}
	triggers := []*glue.CreateTriggerInput{
		{Name: aws.String(StartTrigger), WorkflowName: aws.String(Workflow), Type: gluetypes.TriggerTypeScheduled, Schedule: aws.String(Schedule), StartOnCreation: true,
			Actions: []gluetypes.Action{{CrawlerName: aws.String(SourceCrawler)}}},
		{Name: aws.String("workflow_etl_trigger"), WorkflowName: aws.String(Workflow), Type: gluetypes.TriggerTypeConditional, StartOnCreation: true,
			Predicate: &gluetypes.Predicate{Logical: gluetypes.LogicalAnd, Conditions: []gluetypes.Condition{{CrawlerName: aws.String(SourceCrawler), CrawlState: gluetypes.CrawlStateSucceeded, LogicalOperator: gluetypes.LogicalOperatorEquals}}},
			Actions:   []gluetypes.Action{{JobName: aws.String(ImportJob)}}},
		{Name: aws.String("workflow_output_trigger"), WorkflowName: aws.String(Workflow), Type: gluetypes.TriggerTypeConditional, StartOnCreation: true,
			Predicate: &gluetypes.Predicate{Logical: gluetypes.LogicalAnd, Conditions: []gluetypes.Condition{{JobName: aws.String(ImportJob), State: gluetypes.JobRunStateSucceeded, LogicalOperator: gluetypes.LogicalOperatorEquals}}},
			Actions:   []gluetypes.Action{{CrawlerName: aws.String(OutputCrawler)}}},
	}
	for _, t := range triggers {
		if _, err := c.glue.CreateTrigger(ctx, t); err != nil {
			return fmt.Errorf("trigger %s: %w", aws.ToString(t.Name), err)
		}
	}
	return nil
}
