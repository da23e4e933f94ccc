package lffake

import (
	"context"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
)

// The LF-tags assigned to catalog resources. A resource carries at most
// one value per key: assigning another value of a key replaces it, and
// assigning one key leaves the resource's other keys as they are (moto
// 5.2.5 replaces all of them).

// target is the database, table and columns a resource names.
type target struct {
	db      *database
	table   *table
	columns []string
}

// target finds what r names; a missing database or table is
// EntityNotFoundException.
func (c *LakeFormation) target(op string, r *types.Resource) (target, error) {
	var dbName, tableName string
	var columns []string
	switch {
	case r == nil:
		return target{}, missingParam(lfService, op, op+"Input", "Resource")
	case r.Database != nil:
		dbName = aws.ToString(r.Database.Name)
	case r.Table != nil:
		dbName, tableName = aws.ToString(r.Table.DatabaseName), aws.ToString(r.Table.Name)
	case r.TableWithColumns != nil:
		dbName, tableName, columns = aws.ToString(r.TableWithColumns.DatabaseName), aws.ToString(r.TableWithColumns.Name), r.TableWithColumns.ColumnNames
	default:
		return target{}, c.invalid(op, "LF-tags can be assigned to databases, tables and columns only")
	}
	db, ok := c.a.databases[dbName]
	if !ok {
		return target{}, c.notFound(op, "Database "+dbName+" not found")
	}
	t := target{db: db, columns: columns}
	if tableName != "" {
		if t.table, ok = db.tables[tableName]; !ok {
			return target{}, c.notFound(op, "Table "+tableName+" not found")
		}
	}
	return t, nil
}

// tagSets returns the tag sets the target's level holds (one per column).
func (t target) tagSets() []tagSet {
	switch {
	case t.table == nil:
		return []tagSet{t.db.tags}
	case t.columns == nil:
		return []tagSet{t.table.tags}
	}
	var out []tagSet
	for _, col := range t.columns {
		if t.table.columns[col] == nil {
			t.table.columns[col] = tagSet{}
		}
		out = append(out, t.table.columns[col])
	}
	return out
}

// AddLFTagsToResource assigns each pair whose key and value exist; the
// others come back as Failures in a 200 answer.
func (c *LakeFormation) AddLFTagsToResource(_ context.Context, in *lf.AddLFTagsToResourceInput, _ ...func(*lf.Options)) (*lf.AddLFTagsToResourceOutput, error) {
	const op = "AddLFTagsToResource"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	t, err := c.target(op, in.Resource)
	if err != nil {
		return nil, err
	}
	out := &lf.AddLFTagsToResourceOutput{Failures: []types.LFTagError{}}
	for _, pair := range in.LFTags {
		key := aws.ToString(pair.TagKey)
		values, ok := c.a.tags[key]
		switch {
		case !ok || len(pair.TagValues) == 1 && !slices.Contains(values, pair.TagValues[0]):
			out.Failures = append(out.Failures, failure(pair, "EntityNotFoundException", "Tag or tag value does not exist."))
			continue
		case len(pair.TagValues) != 1:
			out.Failures = append(out.Failures, failure(pair, "InvalidInputException", "A resource can have only one value per LF-tag key."))
			continue
		}
		for _, set := range t.tagSets() {
			set[key] = pair.TagValues[0]
		}
	}
	return out, nil
}

func failure(pair types.LFTagPair, code, msg string) types.LFTagError {
	return types.LFTagError{LFTag: &types.LFTagPair{CatalogId: pair.CatalogId, TagKey: pair.TagKey, TagValues: slices.Clone(pair.TagValues)},
		Error: &types.ErrorDetail{ErrorCode: aws.String(code), ErrorMessage: aws.String(msg)}}
}

// RemoveLFTagsFromResource unassigns the pairs the resource carries.
func (c *LakeFormation) RemoveLFTagsFromResource(_ context.Context, in *lf.RemoveLFTagsFromResourceInput, _ ...func(*lf.Options)) (*lf.RemoveLFTagsFromResourceOutput, error) {
	const op = "RemoveLFTagsFromResource"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	t, err := c.target(op, in.Resource)
	if err != nil {
		return nil, err
	}
	for _, set := range t.tagSets() {
		for _, pair := range in.LFTags {
			if v, ok := set[aws.ToString(pair.TagKey)]; ok && slices.Contains(pair.TagValues, v) {
				delete(set, aws.ToString(pair.TagKey))
			}
		}
	}
	return &lf.RemoveLFTagsFromResourceOutput{Failures: []types.LFTagError{}}, nil
}

// GetResourceLFTags answers the tags of the resource's level and of the
// levels above it. ShowAssignedLFTags limits each level to the tags
// assigned there; without it, a table and its columns also carry the keys
// they inherit. A column without a tag is left out (as on moto; AWS does
// not document whether it lists it empty).
func (c *LakeFormation) GetResourceLFTags(_ context.Context, in *lf.GetResourceLFTagsInput, _ ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error) {
	const op = "GetResourceLFTags"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	t, err := c.target(op, in.Resource)
	if err != nil {
		return nil, err
	}
	assigned := aws.ToBool(in.ShowAssignedLFTags)
	out := &lf.GetResourceLFTagsOutput{LFTagOnDatabase: c.pairs(t.db.tags, nil)}
	if t.table == nil {
		return out, nil
	}
	inherited := t.db.tags
	if assigned {
		inherited = nil
	}
	out.LFTagsOnTable = c.pairs(t.table.tags, inherited)
	if t.columns == nil {
		return out, nil
	}
	tableLevel := merged(t.table.tags, inherited)
	if assigned {
		tableLevel = nil
	}
	for _, col := range t.columns {
		if tags := c.pairs(t.table.columns[col], tableLevel); len(tags) > 0 {
			out.LFTagsOnColumns = append(out.LFTagsOnColumns, types.ColumnLFTag{Name: aws.String(col), LFTags: tags})
		}
	}
	return out, nil
}

// merged is own with the keys of inherited it does not set.
func merged(own, inherited tagSet) tagSet {
	out := tagSet{}
	for k, v := range inherited {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// pairs lists a tag set (with the inherited keys it does not set), by key.
func (c *LakeFormation) pairs(own, inherited tagSet) []types.LFTagPair {
	all := merged(own, inherited)
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []types.LFTagPair{}
	for _, k := range keys {
		out = append(out, types.LFTagPair{CatalogId: aws.String(c.a.id), TagKey: aws.String(k), TagValues: []string{all[k]}})
	}
	return out
}
