package adopt

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// Apply makes the changes the inventory found: it stops the blueprint's
// enabled scheduled triggers (never deletes them), grants the analyst
// roles what the blog granted the IAM user, and marks the Parquet tables
// the import converts. It deletes nothing. It stops at the first failure,
// leaving the items after it to the next run (each change is one call and
// none depends on another).
func Apply(ctx context.Context, c Clients, rep *Report, st *State) error {
	rep.Apply = true
	done := func(i int) { rep.Items[i].Applied, rep.Items[i].Todo = true, false }
	for i, name := range st.stopTriggers {
		if _, err := c.Glue.StopTrigger(ctx, &glue.StopTriggerInput{Name: aws.String(name)}); err != nil {
			rep.finish()
			return fmt.Errorf("glue:StopTrigger %s: %w", name, err)
		}
		done(st.triggerItems[i])
	}
	for i, in := range st.grants {
		if _, err := c.LF.GrantPermissions(ctx, in); err != nil {
			rep.finish()
			return fmt.Errorf("lakeformation:GrantPermissions to %s: %w", aws.ToString(in.Principal.DataLakePrincipalIdentifier), err)
		}
		done(st.grantItems[i])
	}
	if m := st.database; m != nil {
		in := &gluetypes.DatabaseInput{Name: m.db.Name, Description: m.db.Description, Parameters: m.db.Parameters,
			CreateTableDefaultPermissions: m.db.CreateTableDefaultPermissions, LocationUri: aws.String(m.location)}
		if _, err := c.Glue.UpdateDatabase(ctx, &glue.UpdateDatabaseInput{Name: m.db.Name, DatabaseInput: in}); err != nil {
			rep.finish()
			return fmt.Errorf("glue:UpdateDatabase %s (location %s): %w", aws.ToString(m.db.Name), m.location, err)
		}
		done(m.item)
	}
	for _, m := range st.marks {
		in := TableInputOf(m.table)
		in.Parameters[ConvertParam] = ConvertRequested
		if _, err := c.Glue.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: m.table.DatabaseName, TableInput: in, VersionId: m.table.VersionId}); err != nil {
			rep.finish()
			return fmt.Errorf("glue:UpdateTable %s.%s (mark for conversion): %w", aws.ToString(m.table.DatabaseName), aws.ToString(m.table.Name), err)
		}
		done(m.item)
		it := &rep.Items[m.item]
		it.Reason = "Parquet, marked for conversion: the next import converts it in place to Iceberg under the same name with its rows, then imports into it"
		if m.unreadable {
			it.Todo = true
			it.Reason += "; its files lie outside what the import job's role may read"
			it.Fix = it.Fix[strings.Index(it.Fix, "add "):]
		}
	}
	rep.finish()
	return nil
}

// TableInputOf is the TableInput that writes a table back as read:
// UpdateTable replaces the whole definition.
func TableInputOf(t gluetypes.Table) *gluetypes.TableInput {
	params := map[string]string{}
	maps.Copy(params, t.Parameters)
	return &gluetypes.TableInput{
		Name:              t.Name,
		Description:       t.Description,
		Owner:             t.Owner,
		LastAccessTime:    t.LastAccessTime,
		LastAnalyzedTime:  t.LastAnalyzedTime,
		Retention:         t.Retention,
		StorageDescriptor: t.StorageDescriptor,
		PartitionKeys:     t.PartitionKeys,
		ViewOriginalText:  t.ViewOriginalText,
		ViewExpandedText:  t.ViewExpandedText,
		TableType:         t.TableType,
		Parameters:        params,
		TargetTable:       t.TargetTable,
	}
}
