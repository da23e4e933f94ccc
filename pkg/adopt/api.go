// Package adopt takes over a data lake built by hand from the blog's
// walkthrough (docs/migration.md): it inventories the account's groups,
// users, Lake Formation settings, tags, grants, location, database, tables,
// connection and the blueprint's Glue workflow, says for each what lakeforge
// adopts, changes or leaves and why, and with Apply makes the changes that
// must precede lakeforge's first import. It deletes nothing.
//
// It talks to AWS only through the small interfaces below, so the tests
// point it at moto.
package adopt

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
)

// IAMAPI reads the groups and users of the manual build.
type IAMAPI interface {
	GetGroup(context.Context, *iam.GetGroupInput, ...func(*iam.Options)) (*iam.GetGroupOutput, error)
	ListGroupPolicies(context.Context, *iam.ListGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error)
	ListAttachedGroupPolicies(context.Context, *iam.ListAttachedGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
}

// StacksAPI tells whether a group is the stack's own.
type StacksAPI interface {
	DescribeStackResources(context.Context, *cloudformation.DescribeStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourcesOutput, error)
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// GlueAPI reads the catalog and the blueprint's workflow, stops its
// scheduled trigger and marks tables for conversion.
type GlueAPI interface {
	GetDatabase(context.Context, *glue.GetDatabaseInput, ...func(*glue.Options)) (*glue.GetDatabaseOutput, error)
	UpdateDatabase(context.Context, *glue.UpdateDatabaseInput, ...func(*glue.Options)) (*glue.UpdateDatabaseOutput, error)
	GetTables(context.Context, *glue.GetTablesInput, ...func(*glue.Options)) (*glue.GetTablesOutput, error)
	UpdateTable(context.Context, *glue.UpdateTableInput, ...func(*glue.Options)) (*glue.UpdateTableOutput, error)
	GetConnections(context.Context, *glue.GetConnectionsInput, ...func(*glue.Options)) (*glue.GetConnectionsOutput, error)
	GetTriggers(context.Context, *glue.GetTriggersInput, ...func(*glue.Options)) (*glue.GetTriggersOutput, error)
	StopTrigger(context.Context, *glue.StopTriggerInput, ...func(*glue.Options)) (*glue.StopTriggerOutput, error)
	GetCrawlers(context.Context, *glue.GetCrawlersInput, ...func(*glue.Options)) (*glue.GetCrawlersOutput, error)
	GetJobs(context.Context, *glue.GetJobsInput, ...func(*glue.Options)) (*glue.GetJobsOutput, error)
}

// LakeFormationAPI reads the Lake Formation state and copies grants.
type LakeFormationAPI interface {
	GetDataLakeSettings(context.Context, *lf.GetDataLakeSettingsInput, ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error)
	ListPermissions(context.Context, *lf.ListPermissionsInput, ...func(*lf.Options)) (*lf.ListPermissionsOutput, error)
	ListLFTags(context.Context, *lf.ListLFTagsInput, ...func(*lf.Options)) (*lf.ListLFTagsOutput, error)
	GetResourceLFTags(context.Context, *lf.GetResourceLFTagsInput, ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error)
	ListResources(context.Context, *lf.ListResourcesInput, ...func(*lf.Options)) (*lf.ListResourcesOutput, error)
	GrantPermissions(context.Context, *lf.GrantPermissionsInput, ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error)
}

// Clients are the AWS clients of one inventory.
type Clients struct {
	IAM    IAMAPI
	Stacks StacksAPI
	Glue   GlueAPI
	LF     LakeFormationAPI
}

// maxPages bounds every listing.
const maxPages = 100
