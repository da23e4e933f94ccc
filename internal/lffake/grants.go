package lffake

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
)

// grant is what one principal holds on one resource.
type grant struct {
	principal string
	resource  types.Resource // without catalog IDs
	key       string         // resource as JSON, for equality
	perms     []types.Permission
	grantable []types.Permission
}

// clone deep-copies an SDK value through JSON (its exported fields).
func clone[T any](v T) T {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	return out
}

// normalize drops the catalog IDs: Lake Formation defaults each to the
// account, so a resource named with or without it is the same resource.
func normalize(r types.Resource) (types.Resource, string) {
	r = clone(r)
	if r.Database != nil {
		r.Database.CatalogId = nil
	}
	if r.Table != nil {
		r.Table.CatalogId = nil
	}
	if r.TableWithColumns != nil {
		r.TableWithColumns.CatalogId = nil
	}
	if r.DataLocation != nil {
		r.DataLocation.CatalogId = nil
	}
	if r.LFTag != nil {
		r.LFTag.CatalogId = nil
	}
	if r.LFTagPolicy != nil {
		r.LFTagPolicy.CatalogId = nil
	}
	raw, _ := json.Marshal(r)
	return r, string(raw)
}

// withCatalog is the resource as ListPermissions answers it: with the
// account's catalog ID filled in.
func (a *Account) withCatalog(r types.Resource) *types.Resource {
	r = clone(r)
	id := aws.String(a.id)
	switch {
	case r.Database != nil:
		r.Database.CatalogId = id
	case r.Table != nil:
		r.Table.CatalogId = id
	case r.TableWithColumns != nil:
		r.TableWithColumns.CatalogId = id
	case r.DataLocation != nil:
		r.DataLocation.CatalogId = id
	case r.LFTag != nil:
		r.LFTag.CatalogId = id
	case r.LFTagPolicy != nil:
		r.LFTagPolicy.CatalogId = id
	}
	return &r
}

func principalOf(p *types.DataLakePrincipal) string {
	if p == nil {
		return ""
	}
	return aws.ToString(p.DataLakePrincipalIdentifier)
}

func (a *Account) findGrant(principal, key string) (int, *grant) {
	for i, g := range a.grants {
		if g.principal == principal && g.key == key {
			return i, g
		}
	}
	return -1, nil
}

func union[T comparable](have, add []T) []T {
	out := slices.Clone(have)
	for _, p := range add {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// GrantPermissions adds the permissions to what the principal holds on the
// resource (granting what is held already changes nothing).
func (c *LakeFormation) GrantPermissions(_ context.Context, in *lf.GrantPermissionsInput, _ ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error) {
	const op = "GrantPermissions"
	c.called(op, in)
	switch {
	case in.Principal == nil:
		return nil, missingParam(lfService, op, "GrantPermissionsInput", "Principal")
	case in.Resource == nil:
		return nil, missingParam(lfService, op, "GrantPermissionsInput", "Resource")
	case in.Permissions == nil:
		return nil, missingParam(lfService, op, "GrantPermissionsInput", "Permissions")
	}
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	r, key := normalize(*in.Resource)
	who := principalOf(in.Principal)
	if _, g := a.findGrant(who, key); g != nil {
		g.perms = union(g.perms, in.Permissions)
		g.grantable = union(g.grantable, in.PermissionsWithGrantOption)
		return &lf.GrantPermissionsOutput{}, nil
	}
	a.grants = append(a.grants, &grant{principal: who, resource: r, key: key,
		perms: union(nil, in.Permissions), grantable: union(nil, in.PermissionsWithGrantOption)})
	return &lf.GrantPermissionsOutput{}, nil
}

// RevokePermissions removes the permissions named; when the principal holds
// none of them Lake Formation answers InvalidInputException ("No permissions
// revoked"), which moto 5.2.5 never does.
func (c *LakeFormation) RevokePermissions(_ context.Context, in *lf.RevokePermissionsInput, _ ...func(*lf.Options)) (*lf.RevokePermissionsOutput, error) {
	const op = "RevokePermissions"
	c.called(op, in)
	switch {
	case in.Principal == nil:
		return nil, missingParam(lfService, op, "RevokePermissionsInput", "Principal")
	case in.Resource == nil:
		return nil, missingParam(lfService, op, "RevokePermissionsInput", "Resource")
	case in.Permissions == nil:
		return nil, missingParam(lfService, op, "RevokePermissionsInput", "Permissions")
	}
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	_, key := normalize(*in.Resource)
	i, g := a.findGrant(principalOf(in.Principal), key)
	held := func(list, of []types.Permission) bool {
		for _, p := range of {
			if slices.Contains(list, p) {
				return true
			}
		}
		return false
	}
	if g == nil || !held(g.perms, in.Permissions) && !held(g.grantable, in.PermissionsWithGrantOption) {
		return nil, c.invalid(op, "No permissions revoked. Grantee has no permissions and no grantable permissions on resource")
	}
	g.perms = slices.DeleteFunc(g.perms, func(p types.Permission) bool { return slices.Contains(in.Permissions, p) })
	g.grantable = slices.DeleteFunc(g.grantable, func(p types.Permission) bool { return slices.Contains(in.PermissionsWithGrantOption, p) })
	if len(g.perms) == 0 && len(g.grantable) == 0 {
		a.grants = slices.Delete(a.grants, i, i+1)
	}
	return &lf.RevokePermissionsOutput{}, nil
}

// ofResourceType says whether a grant's resource is of the type
// ListPermissions filters by.
func ofResourceType(r types.Resource, t types.DataLakeResourceType) bool {
	switch t {
	case types.DataLakeResourceTypeCatalog:
		return r.Catalog != nil
	case types.DataLakeResourceTypeDatabase:
		return r.Database != nil
	case types.DataLakeResourceTypeTable:
		return r.Table != nil || r.TableWithColumns != nil
	case types.DataLakeResourceTypeDataLocation:
		return r.DataLocation != nil
	case types.DataLakeResourceTypeLfTag:
		return r.LFTag != nil
	case types.DataLakeResourceTypeLfTagPolicy:
		return r.LFTagPolicy != nil
	case types.DataLakeResourceTypeLfTagPolicyDatabase:
		return r.LFTagPolicy != nil && r.LFTagPolicy.ResourceType == types.ResourceTypeDatabase
	case types.DataLakeResourceTypeLfTagPolicyTable:
		return r.LFTagPolicy != nil && r.LFTagPolicy.ResourceType == types.ResourceTypeTable
	}
	return false
}

// ListPermissions answers the grants matching every filter given: the
// principal (only together with a resource), the resource, the resource
// type. One page: Lake Formation may answer fewer per page, never others.
func (c *LakeFormation) ListPermissions(_ context.Context, in *lf.ListPermissionsInput, _ ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	const op = "ListPermissions"
	c.called(op, in)
	if in.Principal != nil && in.Resource == nil {
		return nil, c.invalid(op, "a Principal filter needs a Resource filter")
	}
	if in.Resource != nil && in.Resource.LFTagPolicy != nil {
		return nil, c.invalid(op, "Resource must have either the catalog, table or database field populated.")
	}
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	key := ""
	if in.Resource != nil {
		_, key = normalize(*in.Resource)
	}
	out := &lf.ListPermissionsOutput{PrincipalResourcePermissions: []types.PrincipalResourcePermissions{}}
	for _, g := range a.grants {
		if in.Principal != nil && g.principal != principalOf(in.Principal) ||
			in.Resource != nil && g.key != key ||
			in.ResourceType != "" && !ofResourceType(g.resource, in.ResourceType) {
			continue
		}
		out.PrincipalResourcePermissions = append(out.PrincipalResourcePermissions, types.PrincipalResourcePermissions{
			Principal:                  &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(g.principal)},
			Resource:                   a.withCatalog(g.resource),
			Permissions:                slices.Clone(g.perms),
			PermissionsWithGrantOption: slices.Clone(g.grantable),
		})
	}
	return out, nil
}
