package lffake

import (
	"context"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
)

const lfService = "LakeFormation"

// maxTagValuesPerCall is how many values one CreateLFTag or UpdateLFTag may
// carry (the LFTag API reference: "A single API call supports 50 values").
const maxTagValuesPerCall = 50

// LakeFormation is a Lake Formation client of the account.
type LakeFormation struct {
	a      *Account
	onCall OnCall
}

// LakeFormation returns a client; onCall (may be nil) hears every call.
func (a *Account) LakeFormation(onCall OnCall) *LakeFormation {
	return &LakeFormation{a: a, onCall: onCall}
}

func (c *LakeFormation) called(op string, in any) {
	if c.onCall != nil {
		c.onCall(lfService, op, in)
	}
}

func (c *LakeFormation) invalid(op, msg string) error {
	return apiError(lfService, op, 400, &types.InvalidInputException{Message: aws.String(msg)})
}

func (c *LakeFormation) notFound(op, msg string) error {
	return apiError(lfService, op, 400, &types.EntityNotFoundException{Message: aws.String(msg)})
}

// ---- data lake settings ----

func (c *LakeFormation) GetDataLakeSettings(_ context.Context, in *lf.GetDataLakeSettingsInput, _ ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error) {
	c.called("GetDataLakeSettings", in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	s := clone(c.a.settings)
	return &lf.GetDataLakeSettingsOutput{DataLakeSettings: &s}, nil
}

// PutDataLakeSettings replaces the whole settings object. The default
// permissions may only be empty or the single entry ALL to
// IAM_ALLOWED_PRINCIPALS (the DataLakeSettings API reference).
func (c *LakeFormation) PutDataLakeSettings(_ context.Context, in *lf.PutDataLakeSettingsInput, _ ...func(*lf.Options)) (*lf.PutDataLakeSettingsOutput, error) {
	const op = "PutDataLakeSettings"
	c.called(op, in)
	if in.DataLakeSettings == nil {
		return nil, missingParam(lfService, op, "PutDataLakeSettingsInput", "DataLakeSettings")
	}
	for _, d := range [][]types.PrincipalPermissions{in.DataLakeSettings.CreateDatabaseDefaultPermissions, in.DataLakeSettings.CreateTableDefaultPermissions} {
		if len(d) == 0 {
			continue
		}
		if len(d) > 1 || principalOf(d[0].Principal) != IAMAllowedPrincipals || !slices.Equal(d[0].Permissions, []types.Permission{types.PermissionAll}) {
			return nil, c.invalid(op, "Only an empty list or ALL to IAM_ALLOWED_PRINCIPALS is permitted as default permissions")
		}
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	c.a.settings = clone(*in.DataLakeSettings)
	return &lf.PutDataLakeSettingsOutput{}, nil
}

// ---- LF-tags ----

func (c *LakeFormation) GetLFTag(_ context.Context, in *lf.GetLFTagInput, _ ...func(*lf.Options)) (*lf.GetLFTagOutput, error) {
	const op = "GetLFTag"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	values, ok := c.a.tags[aws.ToString(in.TagKey)]
	if !ok {
		return nil, c.notFound(op, "Tag key does not exist")
	}
	return &lf.GetLFTagOutput{CatalogId: aws.String(c.a.id), TagKey: in.TagKey, TagValues: slices.Clone(values)}, nil
}

func (c *LakeFormation) CreateLFTag(_ context.Context, in *lf.CreateLFTagInput, _ ...func(*lf.Options)) (*lf.CreateLFTagOutput, error) {
	const op = "CreateLFTag"
	c.called(op, in)
	if len(in.TagValues) == 0 || len(in.TagValues) > maxTagValuesPerCall {
		return nil, c.invalid(op, "TagValues must hold 1 to 50 values")
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	key := aws.ToString(in.TagKey)
	if _, ok := c.a.tags[key]; ok {
		return nil, apiError(lfService, op, 400, &types.AlreadyExistsException{Message: aws.String("Tag key already exists")})
	}
	c.a.tags[key] = union(nil, in.TagValues)
	return &lf.CreateLFTagOutput{}, nil
}

func (c *LakeFormation) UpdateLFTag(_ context.Context, in *lf.UpdateLFTagInput, _ ...func(*lf.Options)) (*lf.UpdateLFTagOutput, error) {
	const op = "UpdateLFTag"
	c.called(op, in)
	if len(in.TagValuesToAdd) > maxTagValuesPerCall || len(in.TagValuesToDelete) > maxTagValuesPerCall {
		return nil, c.invalid(op, "at most 50 values can be added or deleted per call")
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	key := aws.ToString(in.TagKey)
	values, ok := c.a.tags[key]
	if !ok {
		return nil, c.notFound(op, "Tag key does not exist")
	}
	for _, v := range in.TagValuesToDelete {
		if !slices.Contains(values, v) {
			return nil, c.invalid(op, "Tag value "+v+" does not exist")
		}
	}
	values = slices.DeleteFunc(slices.Clone(values), func(v string) bool { return slices.Contains(in.TagValuesToDelete, v) })
	c.a.tags[key] = union(values, in.TagValuesToAdd)
	return &lf.UpdateLFTagOutput{}, nil
}

// ListLFTags answers every LF-tag, by key.
func (c *LakeFormation) ListLFTags(_ context.Context, in *lf.ListLFTagsInput, _ ...func(*lf.Options)) (*lf.ListLFTagsOutput, error) {
	c.called("ListLFTags", in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	keys := make([]string, 0, len(c.a.tags))
	for k := range c.a.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &lf.ListLFTagsOutput{LFTags: []types.LFTagPair{}}
	for _, k := range keys {
		out.LFTags = append(out.LFTags, types.LFTagPair{CatalogId: aws.String(c.a.id), TagKey: aws.String(k), TagValues: slices.Clone(c.a.tags[k])})
	}
	return out, nil
}

// ---- registered locations ----

func (c *LakeFormation) DescribeResource(_ context.Context, in *lf.DescribeResourceInput, _ ...func(*lf.Options)) (*lf.DescribeResourceOutput, error) {
	const op = "DescribeResource"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	r, ok := c.a.resources[aws.ToString(in.ResourceArn)]
	if !ok {
		return nil, c.notFound(op, "Entity not found")
	}
	info := clone(*r)
	return &lf.DescribeResourceOutput{ResourceInfo: &info}, nil
}

// RegisterResource registers a location with a role, or with the
// service-linked role, which DescribeResource then names.
func (c *LakeFormation) RegisterResource(_ context.Context, in *lf.RegisterResourceInput, _ ...func(*lf.Options)) (*lf.RegisterResourceOutput, error) {
	const op = "RegisterResource"
	c.called(op, in)
	if in.ResourceArn == nil {
		return nil, missingParam(lfService, op, "RegisterResourceInput", "ResourceArn")
	}
	role := aws.ToString(in.RoleArn)
	if aws.ToBool(in.UseServiceLinkedRole) {
		role = c.a.ServiceLinkedRoleARN()
	}
	if role == "" {
		return nil, c.invalid(op, "RoleArn is required when UseServiceLinkedRole is false")
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	arn := aws.ToString(in.ResourceArn)
	if _, ok := c.a.resources[arn]; ok {
		return nil, apiError(lfService, op, 400, &types.AlreadyExistsException{Message: aws.String("Resource is already registered")})
	}
	// The flags are answered as they were set: the API reference marks
	// them optional in ResourceInfo.
	c.a.resources[arn] = &types.ResourceInfo{ResourceArn: aws.String(arn), RoleArn: aws.String(role),
		HybridAccessEnabled: clone(in.HybridAccessEnabled), WithFederation: clone(in.WithFederation)}
	return &lf.RegisterResourceOutput{}, nil
}

// UpdateResource changes the role (and the flags) of a registration in
// place: the location stays registered throughout.
func (c *LakeFormation) UpdateResource(_ context.Context, in *lf.UpdateResourceInput, _ ...func(*lf.Options)) (*lf.UpdateResourceOutput, error) {
	const op = "UpdateResource"
	c.called(op, in)
	if in.ResourceArn == nil || in.RoleArn == nil {
		return nil, missingParam(lfService, op, "UpdateResourceInput", "RoleArn")
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	r, ok := c.a.resources[aws.ToString(in.ResourceArn)]
	if !ok {
		return nil, c.notFound(op, "Entity not found")
	}
	r.RoleArn = aws.String(aws.ToString(in.RoleArn))
	r.HybridAccessEnabled, r.WithFederation = clone(in.HybridAccessEnabled), clone(in.WithFederation)
	return &lf.UpdateResourceOutput{}, nil
}

func (c *LakeFormation) DeregisterResource(_ context.Context, in *lf.DeregisterResourceInput, _ ...func(*lf.Options)) (*lf.DeregisterResourceOutput, error) {
	const op = "DeregisterResource"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	arn := aws.ToString(in.ResourceArn)
	if _, ok := c.a.resources[arn]; !ok {
		return nil, c.notFound(op, "Entity not found")
	}
	delete(c.a.resources, arn)
	return &lf.DeregisterResourceOutput{}, nil
}

// ListResources answers every registration, by ARN.
func (c *LakeFormation) ListResources(_ context.Context, in *lf.ListResourcesInput, _ ...func(*lf.Options)) (*lf.ListResourcesOutput, error) {
	c.called("ListResources", in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	arns := make([]string, 0, len(c.a.resources))
	for arn := range c.a.resources {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	out := &lf.ListResourcesOutput{ResourceInfoList: []types.ResourceInfo{}}
	for _, arn := range arns {
		out.ResourceInfoList = append(out.ResourceInfoList, clone(*c.a.resources[arn]))
	}
	return out, nil
}
