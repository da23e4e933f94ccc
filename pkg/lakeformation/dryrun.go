package lakeformation

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
)

// DryRunReadAPI is every read the access-model steps make of Lake
// Formation.
type DryRunReadAPI interface {
	GetDataLakeSettings(ctx context.Context, in *lf.GetDataLakeSettingsInput, optFns ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error)
	ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, optFns ...func(*lf.Options)) (*lf.ListPermissionsOutput, error)
	GetLFTag(ctx context.Context, in *lf.GetLFTagInput, optFns ...func(*lf.Options)) (*lf.GetLFTagOutput, error)
	GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, optFns ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error)
	DescribeResource(ctx context.Context, in *lf.DescribeResourceInput, optFns ...func(*lf.Options)) (*lf.DescribeResourceOutput, error)
}

// DryRunGlueAPI is every read the access-model steps make of Glue.
type DryRunGlueAPI interface {
	GetDatabase(ctx context.Context, in *glue.GetDatabaseInput, optFns ...func(*glue.Options)) (*glue.GetDatabaseOutput, error)
	GetTables(ctx context.Context, in *glue.GetTablesInput, optFns ...func(*glue.Options)) (*glue.GetTablesOutput, error)
}

// PlannedCall is a call a step would make that changes something.
type PlannedCall struct {
	Action string `json:"action"`
	// Request says what the call is about, as the step would send it.
	Request string `json:"request"`
}

// DryRun stands in for the Lake Formation and Glue clients of the
// access-model steps (lakeforge access --plan): it sends their reads and,
// instead of sending a call that changes anything, records it and answers
// it as a success with nothing in it. The steps then report the changes
// they would make; Calls holds the calls, in order.
type DryRun struct {
	LF    DryRunReadAPI
	Glue  DryRunGlueAPI
	Calls []PlannedCall
}

var (
	_ SettingsAPI     = (*DryRun)(nil)
	_ TagsAPI         = (*DryRun)(nil)
	_ LocationAPI     = (*DryRun)(nil)
	_ ResourceTagsAPI = (*DryRun)(nil)
	_ DatabaseAPI     = (*DryRun)(nil)
	_ TablesAPI       = (*DryRun)(nil)
	_ RevokeAPI       = (*DryRun)(nil)
)

func (d *DryRun) record(action, request string) {
	d.Calls = append(d.Calls, PlannedCall{Action: action, Request: request})
}

// Take returns the calls recorded since the last Take.
func (d *DryRun) Take() []PlannedCall {
	calls := d.Calls
	d.Calls = nil
	return calls
}

// Reads.

func (d *DryRun) GetDataLakeSettings(ctx context.Context, in *lf.GetDataLakeSettingsInput, o ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error) {
	return d.LF.GetDataLakeSettings(ctx, in, o...)
}
func (d *DryRun) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	return d.LF.ListPermissions(ctx, in, o...)
}
func (d *DryRun) GetLFTag(ctx context.Context, in *lf.GetLFTagInput, o ...func(*lf.Options)) (*lf.GetLFTagOutput, error) {
	return d.LF.GetLFTag(ctx, in, o...)
}
func (d *DryRun) GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, o ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error) {
	return d.LF.GetResourceLFTags(ctx, in, o...)
}
func (d *DryRun) DescribeResource(ctx context.Context, in *lf.DescribeResourceInput, o ...func(*lf.Options)) (*lf.DescribeResourceOutput, error) {
	return d.LF.DescribeResource(ctx, in, o...)
}
func (d *DryRun) GetDatabase(ctx context.Context, in *glue.GetDatabaseInput, o ...func(*glue.Options)) (*glue.GetDatabaseOutput, error) {
	return d.Glue.GetDatabase(ctx, in, o...)
}
func (d *DryRun) GetTables(ctx context.Context, in *glue.GetTablesInput, o ...func(*glue.Options)) (*glue.GetTablesOutput, error) {
	return d.Glue.GetTables(ctx, in, o...)
}

// Calls that change something: recorded, not sent.

func (d *DryRun) PutDataLakeSettings(_ context.Context, in *lf.PutDataLakeSettingsInput, _ ...func(*lf.Options)) (*lf.PutDataLakeSettingsOutput, error) {
	var admins []string
	if in.DataLakeSettings != nil {
		for _, a := range in.DataLakeSettings.DataLakeAdmins {
			admins = append(admins, aws.ToString(a.DataLakePrincipalIdentifier))
		}
	}
	d.record("lakeformation:PutDataLakeSettings", "administrators "+strings.Join(admins, ", "))
	return &lf.PutDataLakeSettingsOutput{}, nil
}
func (d *DryRun) GrantPermissions(_ context.Context, in *lf.GrantPermissionsInput, _ ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error) {
	request := permissionRequest(in.Principal, in.Resource, in.Permissions)
	if len(in.PermissionsWithGrantOption) > 0 {
		request += " (with grant option: " + joinPermissions(in.PermissionsWithGrantOption) + ")"
	}
	d.record("lakeformation:GrantPermissions", request)
	return &lf.GrantPermissionsOutput{}, nil
}
func (d *DryRun) RevokePermissions(_ context.Context, in *lf.RevokePermissionsInput, _ ...func(*lf.Options)) (*lf.RevokePermissionsOutput, error) {
	d.record("lakeformation:RevokePermissions", permissionRequest(in.Principal, in.Resource, in.Permissions))
	return &lf.RevokePermissionsOutput{}, nil
}
func (d *DryRun) CreateLFTag(_ context.Context, in *lf.CreateLFTagInput, _ ...func(*lf.Options)) (*lf.CreateLFTagOutput, error) {
	d.record("lakeformation:CreateLFTag", aws.ToString(in.TagKey)+" = "+strings.Join(in.TagValues, ", "))
	return &lf.CreateLFTagOutput{}, nil
}
func (d *DryRun) UpdateLFTag(_ context.Context, in *lf.UpdateLFTagInput, _ ...func(*lf.Options)) (*lf.UpdateLFTagOutput, error) {
	d.record("lakeformation:UpdateLFTag", aws.ToString(in.TagKey)+" + "+strings.Join(in.TagValuesToAdd, ", "))
	return &lf.UpdateLFTagOutput{}, nil
}
func (d *DryRun) UpdateResource(_ context.Context, in *lf.UpdateResourceInput, _ ...func(*lf.Options)) (*lf.UpdateResourceOutput, error) {
	d.record("lakeformation:UpdateResource", aws.ToString(in.ResourceArn)+" with role "+aws.ToString(in.RoleArn))
	return &lf.UpdateResourceOutput{}, nil
}
func (d *DryRun) RegisterResource(_ context.Context, in *lf.RegisterResourceInput, _ ...func(*lf.Options)) (*lf.RegisterResourceOutput, error) {
	d.record("lakeformation:RegisterResource", aws.ToString(in.ResourceArn))
	return &lf.RegisterResourceOutput{}, nil
}
func (d *DryRun) AddLFTagsToResource(_ context.Context, in *lf.AddLFTagsToResourceInput, _ ...func(*lf.Options)) (*lf.AddLFTagsToResourceOutput, error) {
	var tags []string
	for _, t := range in.LFTags {
		tags = append(tags, aws.ToString(t.TagKey)+"="+strings.Join(t.TagValues, ","))
	}
	d.record("lakeformation:AddLFTagsToResource", strings.Join(tags, ", ")+" on "+resourceText(in.Resource))
	return &lf.AddLFTagsToResourceOutput{}, nil
}
func (d *DryRun) CreateDatabase(_ context.Context, in *glue.CreateDatabaseInput, _ ...func(*glue.Options)) (*glue.CreateDatabaseOutput, error) {
	name := ""
	if in.DatabaseInput != nil {
		name = aws.ToString(in.DatabaseInput.Name) + " at " + aws.ToString(in.DatabaseInput.LocationUri)
	}
	d.record("glue:CreateDatabase", name)
	return &glue.CreateDatabaseOutput{}, nil
}

func permissionRequest(p *types.DataLakePrincipal, r *types.Resource, perms []types.Permission) string {
	names := make([]string, len(perms))
	for i, x := range perms {
		names[i] = string(x)
	}
	who := ""
	if p != nil {
		who = aws.ToString(p.DataLakePrincipalIdentifier)
	}
	return fmt.Sprintf("%s on %s to %s", strings.Join(names, "+"), resourceText(r), who)
}

// resourceText names a Lake Formation resource for a person.
func resourceText(r *types.Resource) string {
	switch {
	case r == nil:
		return "nothing"
	case r.LFTagPolicy != nil:
		return string(r.LFTagPolicy.ResourceType) + "s with " + listedExpression(r.LFTagPolicy.Expression).String()
	case r.LFTag != nil:
		return "LF-tag " + aws.ToString(r.LFTag.TagKey) + "=" + strings.Join(r.LFTag.TagValues, ",")
	case r.TableWithColumns != nil:
		return fmt.Sprintf("columns %s of table %s.%s", strings.Join(r.TableWithColumns.ColumnNames, ", "), aws.ToString(r.TableWithColumns.DatabaseName), aws.ToString(r.TableWithColumns.Name))
	case r.Table != nil && IsAllTables(r, aws.ToString(r.Table.DatabaseName)):
		return "every table of database " + aws.ToString(r.Table.DatabaseName)
	case r.Table != nil:
		return fmt.Sprintf("table %s.%s", aws.ToString(r.Table.DatabaseName), aws.ToString(r.Table.Name))
	case r.Database != nil:
		return "database " + aws.ToString(r.Database.Name)
	case r.DataLocation != nil:
		return "data location " + aws.ToString(r.DataLocation.ResourceArn)
	case r.Catalog != nil:
		return "the catalog"
	}
	return "a resource"
}
