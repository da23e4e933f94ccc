package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/pkg/adopt"
	"github.com/lakeforge/lakeforge/pkg/preflight"
)

// The SDK clients main builds for each interface.
var (
	_ StacksAPI        = (*cloudformation.Client)(nil)
	_ ExecutionsAPI    = (*sfn.Client)(nil)
	_ WorkflowAPI      = (*glue.Client)(nil)
	_ ObjectsAPI       = (*s3.Client)(nil)
	_ LakeFormationAPI = (*lf.Client)(nil)
	_ IAMAPI           = (*iam.Client)(nil)
	_ SchedulerAPI     = (*scheduler.Client)(nil)
	_ NetworkAPI       = (*ec2.Client)(nil)

	_ adopt.IAMAPI           = (*iam.Client)(nil)
	_ adopt.StacksAPI        = (*cloudformation.Client)(nil)
	_ adopt.GlueAPI          = (*glue.Client)(nil)
	_ adopt.LakeFormationAPI = (*lf.Client)(nil)
)

// StacksAPI finds the stack's outputs.
type StacksAPI interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// ExecutionsAPI starts and reads executions of the pipeline.
type ExecutionsAPI interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
	ListExecutions(context.Context, *sfn.ListExecutionsInput, ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
}

// WorkflowAPI reads the import workflow's runs and the catalog.
type WorkflowAPI interface {
	GetWorkflowRuns(context.Context, *glue.GetWorkflowRunsInput, ...func(*glue.Options)) (*glue.GetWorkflowRunsOutput, error)
	GetWorkflowRun(context.Context, *glue.GetWorkflowRunInput, ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error)
	GetDatabase(context.Context, *glue.GetDatabaseInput, ...func(*glue.Options)) (*glue.GetDatabaseOutput, error)
	// GetTables lists the lake's tables and columns (access, status).
	GetTables(context.Context, *glue.GetTablesInput, ...func(*glue.Options)) (*glue.GetTablesOutput, error)
}

// ObjectsAPI reads the import's run manifests from the lake bucket.
type ObjectsAPI interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// LakeFormationAPI reads (never writes) the Lake Formation state.
type LakeFormationAPI interface {
	GetDataLakeSettings(context.Context, *lf.GetDataLakeSettingsInput, ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error)
	ListPermissions(context.Context, *lf.ListPermissionsInput, ...func(*lf.Options)) (*lf.ListPermissionsOutput, error)
	GetLFTag(context.Context, *lf.GetLFTagInput, ...func(*lf.Options)) (*lf.GetLFTagOutput, error)
	GetResourceLFTags(context.Context, *lf.GetResourceLFTagsInput, ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error)
	ListResources(context.Context, *lf.ListResourcesInput, ...func(*lf.Options)) (*lf.ListResourcesOutput, error)
	// DescribeResource is RegisterLocation's read (access --plan).
	DescribeResource(context.Context, *lf.DescribeResourceInput, ...func(*lf.Options)) (*lf.DescribeResourceOutput, error)
}

// IAMAPI asks whether a principal exists.
type IAMAPI interface {
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// SchedulerAPI reads the daily schedule.
type SchedulerAPI interface {
	GetSchedule(context.Context, *scheduler.GetScheduleInput, ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error)
}

// NetworkAPI finds network resources that repair mode created.
type NetworkAPI interface {
	DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeSecurityGroupRules(context.Context, *ec2.DescribeSecurityGroupRulesInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupRulesOutput, error)
}

// Clients are the AWS clients of one command. main builds them from the
// SDK's default configuration; tests point them at moto.
type Clients struct {
	Region     string
	Stacks     StacksAPI
	Executions ExecutionsAPI
	Glue       WorkflowAPI
	S3         ObjectsAPI
	LF         LakeFormationAPI
	IAM        IAMAPI
	Scheduler  SchedulerAPI
	Network    NetworkAPI
	// Adopt are pkg/adopt's clients: the manual build's groups, catalog,
	// blueprint workflow and Lake Formation state.
	Adopt adopt.Clients
	// The preflight checks' own interfaces (pkg/preflight).
	PreflightEC2     preflight.EC2API
	PreflightSecrets preflight.SecretsAPI
	PreflightGlue    preflight.GlueAPI
}
