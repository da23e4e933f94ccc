package lakeformation

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// (TablesAPI, in cleanup.go, lists the lake database's tables with their
// columns.)

// icebergFieldCurrent is the column parameter with which Iceberg's Glue
// catalog marks the columns of the current schema ("true") and of earlier
// ones ("false") (org.apache.iceberg.aws.glue.IcebergToGlueConverter).
const icebergFieldCurrent = "iceberg.field.current"

// ColumnTagging converges the sensitivity tag of every column of the lake
// database's tables (governance): each column carries the value the rules
// give it, assigned on the column. It runs in TagOutput, after the import,
// because only then are the columns known: the import adds the columns new
// in the source, and Glue lists them.
//
// Only the sensitivity key is ever assigned on columns, and it differs from
// the workflow tag's key (the configuration refuses otherwise): the
// workflow role's grant keeps matching every column through the tag the
// columns inherit from the database, so the import job keeps full table
// access.
type ColumnTagging struct {
	Glue        TablesAPI
	LF          ResourceTagsAPI
	Retry       awsretry.Policy
	Database    string
	Sensitivity access.Sensitivity
}

// UnclassifiedColumn is a column no rule classifies: hidden from every
// persona until a rule does.
type UnclassifiedColumn struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	// Fix is the configuration line that would classify it.
	Fix string `json:"fix"`
}

// ColumnResult is what one convergence found and did.
type ColumnResult struct {
	Changes      []string
	Unclassified []UnclassifiedColumn
	Columns      int
	// Classified is every column with the value it carries now.
	Classified []access.Classified
}

// Tables lists the lake database's tables and their columns (data columns,
// then partition keys), sorted by name.
func (c *ColumnTagging) Tables(ctx context.Context) ([]access.Table, error) {
	return listTables(ctx, c.Glue, c.Retry, c.Database)
}

func listTables(ctx context.Context, api TablesAPI, retry awsretry.Policy, database string) ([]access.Table, error) {
	var out []access.Table
	in := &glue.GetTablesInput{DatabaseName: aws.String(database)}
	for {
		var page *glue.GetTablesOutput
		err := retry.Do(ctx, "glue:GetTables", func(ctx context.Context) error {
			var err error
			page, err = api.GetTables(ctx, in)
			return err
		})
		if err != nil {
			return nil, fail("glue:GetTables", "the tables of database "+database, err)
		}
		for _, t := range page.TableList {
			table := access.Table{Name: aws.ToString(t.Name)}
			if t.StorageDescriptor != nil {
				for _, col := range t.StorageDescriptor.Columns {
					// Iceberg's Glue catalog also lists the columns of
					// earlier schemas, marked not current: no query sees
					// them, so no rule needs to classify them.
					if col.Parameters[icebergFieldCurrent] == "false" {
						continue
					}
					table.Columns = append(table.Columns, access.Column{Name: aws.ToString(col.Name), Type: aws.ToString(col.Type)})
				}
			}
			for _, col := range t.PartitionKeys {
				table.Columns = append(table.Columns, access.Column{Name: aws.ToString(col.Name), Type: aws.ToString(col.Type)})
			}
			out = append(out, table)
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Run classifies every column (a ConfigError before any call that changes
// anything when the rules do not fit the lake), reads the columns' assigned
// tags and assigns the sensitivity value where it is missing or different,
// one call per table and value.
func (c *ColumnTagging) Run(ctx context.Context) (ColumnResult, error) {
	var res ColumnResult
	tables, err := c.Tables(ctx)
	if err != nil {
		return res, err
	}
	classified, err := c.Sensitivity.Classify(tables)
	if err != nil {
		return res, err
	}
	res.Columns = len(classified)
	res.Classified = classified
	for _, u := range c.Sensitivity.UnclassifiedOf(classified) {
		res.Unclassified = append(res.Unclassified, UnclassifiedColumn{Table: u.Table, Column: u.Column, Fix: c.Sensitivity.ConfigLine(u)})
	}
	byTable := map[string][]access.Classified{}
	for _, cl := range classified {
		byTable[cl.Table] = append(byTable[cl.Table], cl)
	}
	for _, t := range tables {
		cols := byTable[t.Name]
		if len(cols) == 0 {
			continue
		}
		have, err := c.assigned(ctx, t.Name, cols)
		if err != nil {
			return res, err
		}
		// Columns to tag, per value, in column order.
		todo := map[string][]string{}
		was := map[string][]string{}
		var values []string
		for _, cl := range cols {
			cur, ok := have[cl.Column]
			if ok && cur == cl.Value {
				continue
			}
			if _, seen := todo[cl.Value]; !seen {
				values = append(values, cl.Value)
			}
			todo[cl.Value] = append(todo[cl.Value], cl.Column)
			if ok {
				was[cl.Value] = append(was[cl.Value], cl.Column+" was "+cur)
			}
		}
		for _, v := range values {
			if err := c.assign(ctx, t.Name, todo[v], v); err != nil {
				return res, err
			}
			change := fmt.Sprintf("tagged columns %s of table %s %s=%s", strings.Join(todo[v], ", "), t.Name, c.Sensitivity.Key, v)
			if len(was[v]) > 0 {
				change += " (" + strings.Join(was[v], ", ") + ")"
			}
			res.Changes = append(res.Changes, change)
		}
	}
	return res, nil
}

// columnsResource is the column resource of cols of table.
func (c *ColumnTagging) columnsResource(table string, cols []string) *types.Resource {
	return &types.Resource{TableWithColumns: &types.TableWithColumnsResource{
		DatabaseName: aws.String(c.Database), Name: aws.String(table), ColumnNames: cols,
	}}
}

// assigned reads the sensitivity value assigned on each column of table
// (ShowAssignedLFTags: the column's own tags, not those it inherits).
func (c *ColumnTagging) assigned(ctx context.Context, table string, cols []access.Classified) (map[string]string, error) {
	names := make([]string, len(cols))
	for i, cl := range cols {
		names[i] = cl.Column
	}
	var out *lf.GetResourceLFTagsOutput
	err := c.Retry.Do(ctx, "lakeformation:GetResourceLFTags", func(ctx context.Context) error {
		var err error
		out, err = c.LF.GetResourceLFTags(ctx, &lf.GetResourceLFTagsInput{
			Resource:           c.columnsResource(table, names),
			ShowAssignedLFTags: aws.Bool(true),
		})
		return err
	})
	if err != nil {
		return nil, fail("lakeformation:GetResourceLFTags", "the columns of table "+c.Database+"."+table, err)
	}
	have := map[string]string{}
	for _, col := range out.LFTagsOnColumns {
		for _, t := range col.LFTags {
			if aws.ToString(t.TagKey) == c.Sensitivity.Key && len(t.TagValues) > 0 {
				have[aws.ToString(col.Name)] = t.TagValues[0]
			}
		}
	}
	return have, nil
}

func (c *ColumnTagging) assign(ctx context.Context, table string, cols []string, value string) error {
	what := fmt.Sprintf("columns %s of table %s.%s", strings.Join(cols, ", "), c.Database, table)
	var out *lf.AddLFTagsToResourceOutput
	err := c.Retry.Do(ctx, "lakeformation:AddLFTagsToResource", func(ctx context.Context) error {
		var err error
		out, err = c.LF.AddLFTagsToResource(ctx, &lf.AddLFTagsToResourceInput{
			Resource: c.columnsResource(table, cols),
			LFTags:   []types.LFTagPair{{TagKey: aws.String(c.Sensitivity.Key), TagValues: []string{value}}},
		})
		return err
	})
	if err != nil {
		return fail("lakeformation:AddLFTagsToResource", what, err)
	}
	if len(out.Failures) > 0 {
		return permanent("lakeformation:AddLFTagsToResource",
			fmt.Errorf("LF-tag %s=%s not assigned to %s: %s", c.Sensitivity.Key, value, what, failureText(out.Failures)),
			"make sure the LF-tag "+c.Sensitivity.Key+" and its values exist (EnsureLFTags creates them from governance.sensitivityValues when governance.enabled is true) and that this function's role holds ASSOCIATE on it (EnsureLFTags grants it): start the state machine from the beginning")
	}
	return nil
}

// failureText lists the per-tag failures of an AddLFTagsToResource answer.
func failureText(failures []types.LFTagError) string {
	var msgs []string
	for _, f := range failures {
		key, code, msg := "", "", ""
		if f.LFTag != nil {
			key = aws.ToString(f.LFTag.TagKey) + "=" + strings.Join(f.LFTag.TagValues, ",")
		}
		if f.Error != nil {
			code, msg = aws.ToString(f.Error.ErrorCode), aws.ToString(f.Error.ErrorMessage)
		}
		msgs = append(msgs, fmt.Sprintf("%s: %s: %s", key, code, msg))
	}
	return strings.Join(msgs, "; ")
}
