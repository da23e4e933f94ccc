package lakeformation

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
)

// The SDK clients the wiring passes for each interface.
var (
	_ SettingsAPI     = (*lf.Client)(nil)
	_ PermissionsAPI  = (*lf.Client)(nil)
	_ GrantAPI        = (*lf.Client)(nil)
	_ TagsAPI         = (*lf.Client)(nil)
	_ LocationAPI     = (*lf.Client)(nil)
	_ ResourceTagsAPI = (*lf.Client)(nil)
	_ DatabaseLFAPI   = (*lf.Client)(nil)
	_ DatabaseAPI     = (*glue.Client)(nil)
	_ PrincipalsAPI   = (*iam.Client)(nil)
)

// The steps Handler runs.
var (
	_ Runner = (*ConfigureLakeFormation)(nil)
	_ Runner = (*EnsureLFTags)(nil)
	_ Runner = (*RegisterLocation)(nil)
	_ Runner = (*EnsureDatabase)(nil)
	_ Runner = (*GrantTagPermissions)(nil)
	_ Runner = (*TagOutput)(nil)
)

// The interfaces hold only the SDK methods each step calls; *lf.Client and
// *glue.Client satisfy them.

// SettingsAPI is what ConfigureLakeFormation calls.
type SettingsAPI interface {
	GetDataLakeSettings(ctx context.Context, in *lf.GetDataLakeSettingsInput, optFns ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error)
	PutDataLakeSettings(ctx context.Context, in *lf.PutDataLakeSettingsInput, optFns ...func(*lf.Options)) (*lf.PutDataLakeSettingsOutput, error)
	PermissionsAPI
	RevokePermissions(ctx context.Context, in *lf.RevokePermissionsInput, optFns ...func(*lf.Options)) (*lf.RevokePermissionsOutput, error)
}

// PermissionsAPI reads Lake Formation grants.
type PermissionsAPI interface {
	ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, optFns ...func(*lf.Options)) (*lf.ListPermissionsOutput, error)
}

// GrantAPI reads and makes grants.
type GrantAPI interface {
	PermissionsAPI
	GrantPermissions(ctx context.Context, in *lf.GrantPermissionsInput, optFns ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error)
}

// TagsAPI is what EnsureLFTags calls.
type TagsAPI interface {
	GetLFTag(ctx context.Context, in *lf.GetLFTagInput, optFns ...func(*lf.Options)) (*lf.GetLFTagOutput, error)
	CreateLFTag(ctx context.Context, in *lf.CreateLFTagInput, optFns ...func(*lf.Options)) (*lf.CreateLFTagOutput, error)
	UpdateLFTag(ctx context.Context, in *lf.UpdateLFTagInput, optFns ...func(*lf.Options)) (*lf.UpdateLFTagOutput, error)
	GrantAPI
}

// LocationAPI is what RegisterLocation calls.
type LocationAPI interface {
	DescribeResource(ctx context.Context, in *lf.DescribeResourceInput, optFns ...func(*lf.Options)) (*lf.DescribeResourceOutput, error)
	RegisterResource(ctx context.Context, in *lf.RegisterResourceInput, optFns ...func(*lf.Options)) (*lf.RegisterResourceOutput, error)
	UpdateResource(ctx context.Context, in *lf.UpdateResourceInput, optFns ...func(*lf.Options)) (*lf.UpdateResourceOutput, error)
	GrantAPI
}

// ResourceTagsAPI reads and assigns LF-tags on catalog resources.
type ResourceTagsAPI interface {
	GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, optFns ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error)
	AddLFTagsToResource(ctx context.Context, in *lf.AddLFTagsToResourceInput, optFns ...func(*lf.Options)) (*lf.AddLFTagsToResourceOutput, error)
}

// DatabaseAPI is the Glue side of EnsureDatabase.
type DatabaseAPI interface {
	GetDatabase(ctx context.Context, in *glue.GetDatabaseInput, optFns ...func(*glue.Options)) (*glue.GetDatabaseOutput, error)
	CreateDatabase(ctx context.Context, in *glue.CreateDatabaseInput, optFns ...func(*glue.Options)) (*glue.CreateDatabaseOutput, error)
}
