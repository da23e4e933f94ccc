package lakeformation

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// AccessReadAPI is what ReadAccess reads from Lake Formation.
type AccessReadAPI interface {
	PermissionsAPI
	GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, optFns ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error)
}

// ReadAccess reads what `lakeforge access` evaluates: the lake database's
// tables and columns with the LF-tags assigned at each level (database,
// table, column: assigned only, pkg/access computes the inheritance), and
// every grant that can give them: the LF-tag-policy grants (one
// ListPermissions per resource type, matched in code as the steps do) and
// the named grants on the database's tables.
func ReadAccess(ctx context.Context, lfAPI AccessReadAPI, glueAPI TablesAPI, retry awsretry.Policy, database string) (access.Catalog, []access.Grant, error) {
	cat, err := ReadCatalog(ctx, lfAPI, glueAPI, retry, database)
	if err != nil {
		return cat, nil, err
	}
	grants, err := readGrants(ctx, lfAPI, retry, database)
	return cat, grants, err
}

// ReadCatalog reads the lake database's tables and columns with the LF-tags
// assigned at each level.
func ReadCatalog(ctx context.Context, lfAPI AccessReadAPI, glueAPI TablesAPI, retry awsretry.Policy, database string) (access.Catalog, error) {
	cat := access.Catalog{Database: database, Tags: access.Tags{}}
	dbTags, err := resourceTags(ctx, lfAPI, retry, &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}}, "database "+database)
	if err != nil {
		return cat, err
	}
	for _, t := range dbTags.LFTagOnDatabase {
		cat.Tags[aws.ToString(t.TagKey)] = first(t.TagValues)
	}
	tables, err := listTables(ctx, glueAPI, retry, database)
	if err != nil {
		return cat, err
	}
	for _, t := range tables {
		ct := access.CatalogTable{Name: t.Name, Tags: access.Tags{}}
		tt, err := resourceTags(ctx, lfAPI, retry, &types.Resource{Table: &types.TableResource{DatabaseName: aws.String(database), Name: aws.String(t.Name)}}, "table "+database+"."+t.Name)
		if err != nil {
			return cat, err
		}
		for _, tag := range tt.LFTagsOnTable {
			ct.Tags[aws.ToString(tag.TagKey)] = first(tag.TagValues)
		}
		colTags := map[string]access.Tags{}
		if len(t.Columns) > 0 {
			names := make([]string, len(t.Columns))
			for i, c := range t.Columns {
				names[i] = c.Name
			}
			ctags, err := resourceTags(ctx, lfAPI, retry, &types.Resource{TableWithColumns: &types.TableWithColumnsResource{
				DatabaseName: aws.String(database), Name: aws.String(t.Name), ColumnNames: names}}, "the columns of table "+database+"."+t.Name)
			if err != nil {
				return cat, err
			}
			for _, c := range ctags.LFTagsOnColumns {
				m := access.Tags{}
				for _, tag := range c.LFTags {
					m[aws.ToString(tag.TagKey)] = first(tag.TagValues)
				}
				colTags[aws.ToString(c.Name)] = m
			}
		}
		for _, c := range t.Columns {
			ct.Columns = append(ct.Columns, access.CatalogColumn{Name: c.Name, Type: c.Type, Tags: colTags[c.Name]})
		}
		cat.Tables = append(cat.Tables, ct)
	}
	return cat, nil
}

// resourceTags reads the tags assigned on one resource (ShowAssignedLFTags).
func resourceTags(ctx context.Context, api AccessReadAPI, retry awsretry.Policy, r *types.Resource, what string) (*lf.GetResourceLFTagsOutput, error) {
	var out *lf.GetResourceLFTagsOutput
	err := retry.Do(ctx, "lakeformation:GetResourceLFTags", func(ctx context.Context) error {
		var err error
		out, err = api.GetResourceLFTags(ctx, &lf.GetResourceLFTagsInput{Resource: r, ShowAssignedLFTags: aws.Bool(true)})
		return err
	})
	if err != nil {
		return nil, fail("lakeformation:GetResourceLFTags", what, err)
	}
	return out, nil
}

func readGrants(ctx context.Context, api PermissionsAPI, retry awsretry.Policy, database string) ([]access.Grant, error) {
	var grants []access.Grant
	for _, rt := range []types.DataLakeResourceType{types.DataLakeResourceTypeLfTagPolicyDatabase, types.DataLakeResourceTypeLfTagPolicyTable, types.DataLakeResourceTypeTable} {
		var perms []types.PrincipalResourcePermissions
		err := retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
			var err error
			perms, err = listPermissions(ctx, api, &lf.ListPermissionsInput{ResourceType: rt})
			return err
		})
		if err != nil {
			return nil, fail("lakeformation:ListPermissions", "the "+string(rt)+" grants", err)
		}
		for _, p := range perms {
			if g, ok := grantOf(p, database); ok {
				grants = append(grants, g)
			}
		}
	}
	return grants, nil
}

// grantOf is a listed grant as pkg/access models it; false for grants on
// other databases and other kinds of resource.
func grantOf(p types.PrincipalResourcePermissions, database string) (access.Grant, bool) {
	if p.Principal == nil || p.Resource == nil || len(p.Permissions) == 0 {
		return access.Grant{}, false
	}
	g := access.Grant{Principal: aws.ToString(p.Principal.DataLakePrincipalIdentifier)}
	for _, x := range p.Permissions {
		g.Permissions = append(g.Permissions, string(x))
	}
	r := p.Resource
	switch {
	case r.LFTagPolicy != nil:
		g.Expression = listedExpression(r.LFTagPolicy.Expression)
		g.ResourceType = access.LevelTable
		if r.LFTagPolicy.ResourceType == types.ResourceTypeDatabase {
			g.ResourceType = access.LevelDatabase
		}
	case IsAllTables(r, database):
		// Every table: listed with TableWildcard and the name ALL_TABLES,
		// its SELECT possibly on TableWithColumns ALL_TABLES.
		g.ResourceType, g.Table = access.LevelTable, "*"
	case r.Table != nil && aws.ToString(r.Table.DatabaseName) == database:
		g.ResourceType, g.Table = access.LevelTable, aws.ToString(r.Table.Name)
	case r.TableWithColumns != nil && aws.ToString(r.TableWithColumns.DatabaseName) == database:
		g.ResourceType, g.Table = access.LevelTable, aws.ToString(r.TableWithColumns.Name)
		g.Columns = slices.Clone(r.TableWithColumns.ColumnNames)
		if w := r.TableWithColumns.ColumnWildcard; w != nil {
			g.Columns = nil
			g.ExcludedColumns = slices.Clone(w.ExcludedColumnNames)
		}
	default:
		return access.Grant{}, false
	}
	return g, true
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}
