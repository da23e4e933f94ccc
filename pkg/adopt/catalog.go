package adopt

// The lake database and its tables in the Glue catalog.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

func database(ctx context.Context, c Clients, t Target, rep *Report, st *State) error {
	out, err := c.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(t.Database)})
	if awsretry.Code(err) == "EntityNotFoundException" {
		rep.add(Item{Kind: KindDatabase, Name: t.Database, Action: Change, Reason: "does not exist; EnsureDatabase creates it"})
		return nil
	}
	if err != nil {
		return fmt.Errorf("glue:GetDatabase %s: %w", t.Database, err)
	}
	var tags, retag string
	if res, err := c.LF.GetResourceLFTags(ctx, &lf.GetResourceLFTagsInput{Resource: &lftypes.Resource{Database: &lftypes.DatabaseResource{Name: aws.String(t.Database)}}}); err == nil {
		var list []string
		for _, tag := range res.LFTagOnDatabase {
			list = append(list, aws.ToString(tag.TagKey)+"="+strings.Join(tag.TagValues, "|"))
			if aws.ToString(tag.TagKey) == t.WorkflowTag.Key && !slices.Equal(tag.TagValues, []string{t.WorkflowTag.Value}) {
				retag = "; EnsureDatabase replaces " + t.WorkflowTag.Key + "=" + strings.Join(tag.TagValues, "|") + " with " + t.WorkflowTag.String() +
					" (grants on the old value, such as the blog's crawler role's, no longer cover it)"
			}
		}
		if len(list) > 0 {
			tags = " (tags " + strings.Join(list, ", ") + ")"
		}
	}
	have := aws.ToString(out.Database.LocationUri)
	it := Item{Kind: KindDatabase, Name: t.Database, Action: Adopt,
		Reason: "exists" + tags + "; EnsureDatabase adopts it and TagOutput tags it " + t.AnalystTag.String()}
	switch {
	case strings.TrimSuffix(have, "/") == strings.TrimSuffix(t.LakeLocation, "/") && have != "":
		it.Reason = "exists at lakeforge's lake location " + have + tags + "; EnsureDatabase adopts it and TagOutput tags it " + t.AnalystTag.String()
	case have == "" && t.LakeLocation == "":
		it.Action, it.Todo = Change, true
		it.Reason = "exists without a location" + tags + "; EnsureDatabase adopts it only at lakeforge's lake location, which is not known before the first deploy"
		it.Fix = "set lake.bucketName (for example to the blog's bucket), or deploy first; then lakeforge adopt --apply sets the location"
	case have == "":
		it.Action, it.Todo = Change, true
		it.Reason = "exists without a location" + tags + "; EnsureDatabase adopts it only at lakeforge's lake location " + t.LakeLocation
		it.Fix = "lakeforge adopt --apply sets its location to " + t.LakeLocation + " (glue:UpdateDatabase; its tables keep their own locations)"
		st.database = &databaseMove{item: len(rep.Items), db: *out.Database, location: t.LakeLocation}
	default:
		it.Action, it.Todo = Change, true
		it.Reason = "exists at " + have + tags + ", not at lakeforge's lake location " + t.LakeLocation + ": EnsureDatabase stops there"
		it.Fix = "set database.name to a database lakeforge may own, or move the database's location to " + t.LakeLocation + " (aws glue update-database) if its tables belong in the lake"
	}
	it.Reason += retag
	rep.add(it)
	return nil
}

// Format is a catalog table's storage format, as lakeforge tells them apart.
func Format(tb gluetypes.Table) string {
	if strings.EqualFold(tb.Parameters[tableTypeParam], "ICEBERG") {
		return "iceberg"
	}
	if strings.EqualFold(tb.Parameters["classification"], "parquet") {
		return "parquet"
	}
	if sd := tb.StorageDescriptor; sd != nil {
		in := strings.ToLower(aws.ToString(sd.InputFormat))
		var serde string
		if sd.SerdeInfo != nil {
			serde = strings.ToLower(aws.ToString(sd.SerdeInfo.SerializationLibrary))
		}
		if strings.Contains(in, "parquet") || strings.Contains(serde, "parquet") {
			return "parquet"
		}
	}
	if v := tb.Parameters["classification"]; v != "" {
		return strings.ToLower(v)
	}
	return "unknown"
}

func tables(ctx context.Context, c Clients, t Target, rep *Report, st *State) error {
	in := &glue.GetTablesInput{DatabaseName: aws.String(t.Database)}
	for range maxPages {
		out, err := c.Glue.GetTables(ctx, in)
		if awsretry.Code(err) == "EntityNotFoundException" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("glue:GetTables %s: %w", t.Database, err)
		}
		for _, tb := range out.TableList {
			rep.add(tableItem(tb, t, st, len(rep.Items)))
		}
		if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
			break
		}
	}
	return nil
}

func tableItem(tb gluetypes.Table, t Target, st *State, index int) Item {
	name := aws.ToString(tb.Name)
	it := Item{Kind: KindTable, Name: t.Database + "." + name}
	format := Format(tb)
	imported := strings.HasPrefix(name, t.TablePrefix)
	switch {
	case format == "iceberg":
		it.Action, it.Reason = Adopt, "Iceberg"
		if from := tb.Parameters[ConvertedFromParam]; from != "" {
			it.Reason += ", converted in place from " + from + " by lakeforge (the previous definition is a Glue table version)"
		}
	case format == "parquet" && imported && tb.Parameters[ConvertParam] == ConvertRequested:
		it.Action = Change
		it.Reason = "Parquet, marked for conversion: the next import converts it in place to Iceberg under the same name with its rows, then imports into it"
	case format == "parquet" && imported:
		it.Action, it.Todo = Change, true
		it.Reason = "Parquet under a name lakeforge's import writes (prefix " + t.TablePrefix + "): the import converts it in place to Iceberg, same name, every row, grants and tags kept"
		it.Fix = "lakeforge adopt --apply marks it for conversion (one glue:UpdateTable parameter); until then the import stops at this table"
		st.marks = append(st.marks, markTable{item: index, table: tb, unreadable: readableBy(aws.ToString(tb.StorageDescriptor.Location), t) == ""})
	default:
		it.Action, it.Reason = Leave, strings.ToUpper(format[:1])+format[1:]+" table lakeforge does not import into: kept as it is"
	}
	if format == "parquet" && imported {
		loc := aws.ToString(tb.StorageDescriptor.Location)
		if dir := readableBy(loc, t); dir == "" {
			parent := parentDir(loc)
			it.Todo = true
			it.Reason += "; its files (" + loc + ") lie outside what the import job's role may read"
			fix := "add " + parent + " to import.adoptLocations and make deploy (read-only access for the import job's role)"
			if it.Fix != "" {
				fix = it.Fix + "; " + fix
			}
			it.Fix = fix
		}
	}
	return it
}

// readableBy is the location under which the import job's role may read
// loc (the lake, or one of import.adoptLocations), or "".
func readableBy(loc string, t Target) string {
	dirs := append([]string{}, t.AdoptLocations...)
	if t.LakeLocation != "" {
		dirs = append(dirs, strings.TrimSuffix(t.LakeLocation, "/")+"/")
	}
	for _, d := range dirs {
		if strings.HasPrefix(loc, d) {
			return d
		}
	}
	return ""
}

// parentDir is the prefix that holds a table's directory:
// s3://b/kthr01/t/ -> s3://b/kthr01/.
func parentDir(loc string) string {
	trimmed := strings.TrimSuffix(loc, "/")
	if i := strings.LastIndex(trimmed, "/"); i > len("s3://") {
		return trimmed[:i+1]
	}
	return loc
}
