package adopt

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// TagRef is one LF-tag key and value.
type TagRef struct{ Key, Value string }

func (t TagRef) String() string { return t.Key + "=" + t.Value }

// Target is what lakeforge's configuration and stack say the lake is.
type Target struct {
	Stack       string
	Database    string
	TablePrefix string
	Groups      []PersonaGroup
	// Tags are lfTags.tags; AnalystTag the one lakeforge grants analysts
	// SELECT and DESCRIBE on (tables).
	Tags       map[string][]string
	AnalystTag TagRef
	// WorkflowTag is the tag EnsureDatabase puts on the database (the
	// import's own grants follow it).
	WorkflowTag TagRef
	// AnalystRoles get the access the blog granted the IAM user: the
	// stack's analyst role and the roles of personas.analysts.principalArns.
	// Empty before the first deploy.
	AnalystRoles []string
	// OwnPrincipals are the stack's roles, and OwnRolePrefix the part of
	// an ARN that names one: their grants and administrator rows are
	// lakeforge's, not the manual build's.
	OwnPrincipals []string
	OwnRolePrefix string
	// LakeLocation is where lakeforge keeps the database (s3://bucket/prefix,
	// EnsureDatabase's location); empty when the lake bucket is not known yet
	// (no lake.bucketName and no deployed stack).
	LakeLocation string
	// OwnWorkflow and OwnConnection are lakeforge's, never the blueprint's.
	OwnWorkflow   string
	OwnConnection string
}

func (t Target) own(arn string) bool {
	return slices.Contains(t.OwnPrincipals, arn) || (t.OwnRolePrefix != "" && strings.Contains(arn, t.OwnRolePrefix))
}

// The table parameters of a conversion. ConvertParam is set by Apply on a
// Parquet table the next import converts to Iceberg in place
// (infra/glue/import_job.py reads the same names).
const (
	ConvertParam     = "lakeforge:convert"
	ConvertRequested = "requested"
	// ConvertedFromParam is left on a converted table: the format it had.
	ConvertedFromParam = "lakeforge:converted-from"
	tableTypeParam     = "table_type"
)

// analystPermissions are what GrantTagPermissions gives analysts on the
// analyst tag's tables.
var analystPermissions = []string{"SELECT", "DESCRIBE"}

// Inventory reads the manual build and says, item by item, what lakeforge
// adopts, changes or leaves. It only reads.
func Inventory(ctx context.Context, c Clients, t Target) (*Report, *State, error) {
	st := &State{analystUsers: map[string]bool{}}
	for _, g := range t.Groups {
		if g.Persona != "analysts" {
			continue
		}
		info, err := readGroup(ctx, c.IAM, g.Name)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range info.members {
			st.analystUsers[u] = true
		}
	}
	rep := &Report{Stack: t.Stack, Database: t.Database}
	groups, err := CheckGroups(ctx, c.IAM, c.Stacks, t.Stack, t.Groups)
	if err != nil {
		return nil, nil, err
	}
	for _, it := range groups {
		rep.add(it)
	}
	steps := []func(context.Context, Clients, Target, *Report, *State) error{
		lfAdmins, lfTags, grantsOf, locations, database, tables, connections, blueprint,
	}
	for _, step := range steps {
		if err := step(ctx, c, t, rep, st); err != nil {
			return nil, nil, err
		}
	}
	rep.finish()
	return rep, st, nil
}

// State is what Apply needs of the inventory: the calls to make.
type State struct {
	// analystUsers are the IAM users of the analysts' group: their grants
	// are the analyst persona's (the blog's datalake_user).
	analystUsers map[string]bool
	stopTriggers []string
	grants       []*lf.GrantPermissionsInput
	grantItems   []int
	triggerItems []int
	marks        []markTable
	database     *databaseMove
}

type databaseMove struct {
	item     int
	db       gluetypes.Database
	location string
}

type markTable struct {
	item  int
	table gluetypes.Table
}

func lfAdmins(ctx context.Context, c Clients, t Target, rep *Report, _ *State) error {
	out, err := c.LF.GetDataLakeSettings(ctx, &lf.GetDataLakeSettingsInput{})
	if err != nil {
		return fmt.Errorf("lakeformation:GetDataLakeSettings: %w", err)
	}
	if out.DataLakeSettings == nil {
		return nil
	}
	for _, a := range out.DataLakeSettings.DataLakeAdmins {
		arn := aws.ToString(a.DataLakePrincipalIdentifier)
		if t.own(arn) {
			continue
		}
		rep.add(Item{Kind: KindLFAdmin, Name: arn, Action: Leave,
			Reason: "kept: ConfigureLakeFormation adds the stack's roles beside it and never drops a live administrator"})
	}
	return nil
}

func lfTags(ctx context.Context, c Clients, t Target, rep *Report, _ *State) error {
	have := map[string][]string{}
	in := &lf.ListLFTagsInput{}
	for range maxPages {
		out, err := c.LF.ListLFTags(ctx, in)
		if err != nil {
			return fmt.Errorf("lakeformation:ListLFTags: %w", err)
		}
		for _, tag := range out.LFTags {
			have[aws.ToString(tag.TagKey)] = tag.TagValues
		}
		if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
			break
		}
	}
	for _, key := range sortedKeys(have) {
		vals := have[key]
		want, ours := t.Tags[key]
		it := Item{Kind: KindLFTag, Name: key + " = {" + strings.Join(vals, ", ") + "}"}
		if !ours {
			it.Action, it.Reason = Leave, "not in lfTags.tags: lakeforge neither uses nor changes it"
			rep.add(it)
			continue
		}
		var missing, extra []string
		for _, v := range want {
			if !slices.Contains(vals, v) {
				missing = append(missing, v)
			}
		}
		for _, v := range vals {
			if !slices.Contains(want, v) {
				extra = append(extra, v)
			}
		}
		it.Action, it.Reason = Adopt, "EnsureLFTags adopts the key and its values"
		if len(missing) > 0 {
			it.Reason += "; it adds " + strings.Join(missing, ", ")
		}
		if len(extra) > 0 {
			it.Reason += "; it keeps " + strings.Join(extra, ", ") + " (not in lfTags.tags." + key + ": never removed, resources tagged with it keep their tag)"
		}
		rep.add(it)
	}
	return nil
}

// listPermissions lists every grant: filtering by LF-tag is unreliable
// (DESIGN.md), so the rows are matched in code.
func listPermissions(ctx context.Context, api LakeFormationAPI) ([]lftypes.PrincipalResourcePermissions, error) {
	var rows []lftypes.PrincipalResourcePermissions
	in := &lf.ListPermissionsInput{}
	for range maxPages {
		out, err := api.ListPermissions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("lakeformation:ListPermissions: %w", err)
		}
		rows = append(rows, out.PrincipalResourcePermissions...)
		if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
			break
		}
	}
	return rows, nil
}

func grantsOf(ctx context.Context, c Clients, t Target, rep *Report, st *State) error {
	rows, err := listPermissions(ctx, c.LF)
	if err != nil {
		return err
	}
	for _, r := range rows {
		who := principalOf(r)
		if who == "" || t.own(who) || slices.Contains(t.AnalystRoles, who) || !aboutLake(r.Resource, t) {
			continue
		}
		perms := permStrings(r.Permissions)
		it := Item{Kind: KindGrant, Name: fmt.Sprintf("%s: %s on %s", who, strings.Join(perms, ", "), describeResource(r.Resource))}
		if !strings.Contains(who, ":user/") {
			it.Action, it.Reason = Leave, "a role's grant: kept as it is"
			rep.add(it)
			continue
		}
		if user := who[strings.LastIndex(who, "/")+1:]; !st.analystUsers[user] {
			it.Action, it.Reason = Leave, "a grant to an IAM user outside the analysts' group: kept as it is"
			rep.add(it)
			continue
		}
		switch {
		case coveredByAnalystGrant(r, t):
			it.Action, it.Reason = Leave, "kept; lakeforge grants its analyst role the same (GrantTagPermissions: SELECT, DESCRIBE on tables tagged "+t.AnalystTag.String()+")"
		case len(t.AnalystRoles) == 0:
			it.Action, it.Todo = Change, true
			it.Reason = "kept; the analyst role must get the same access, and it does not exist yet"
			it.Fix = "deploy the stack (make deploy), then run lakeforge adopt --apply, which grants the analyst role the same"
		case heldByAll(rows, r, t.AnalystRoles):
			it.Action, it.Reason = Leave, "kept; the analyst role holds the same"
		default:
			it.Action, it.Todo = Change, true
			it.Reason = "kept; the analyst role gets the same access"
			it.Fix = "lakeforge adopt --apply grants " + strings.Join(t.AnalystRoles, ", ") + " the same"
			for _, role := range t.AnalystRoles {
				st.grants = append(st.grants, &lf.GrantPermissionsInput{
					Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(role)},
					Resource:  r.Resource, Permissions: r.Permissions, PermissionsWithGrantOption: r.PermissionsWithGrantOption,
				})
				st.grantItems = append(st.grantItems, len(rep.Items))
			}
		}
		rep.add(it)
	}
	return nil
}

func principalOf(r lftypes.PrincipalResourcePermissions) string {
	if r.Principal == nil {
		return ""
	}
	return aws.ToString(r.Principal.DataLakePrincipalIdentifier)
}

// aboutLake says whether a grant concerns the lake: its database or
// tables, an LF-tag policy or tag, a data location or the catalog.
func aboutLake(res *lftypes.Resource, t Target) bool {
	switch {
	case res == nil:
		return false
	case res.Database != nil:
		return aws.ToString(res.Database.Name) == t.Database
	case res.Table != nil:
		return aws.ToString(res.Table.DatabaseName) == t.Database
	case res.TableWithColumns != nil:
		return aws.ToString(res.TableWithColumns.DatabaseName) == t.Database
	}
	return res.LFTagPolicy != nil || res.LFTag != nil || res.DataLocation != nil || res.Catalog != nil
}

func coveredByAnalystGrant(r lftypes.PrincipalResourcePermissions, t Target) bool {
	p := r.Resource.LFTagPolicy
	if p == nil || p.ResourceType != lftypes.ResourceTypeTable || len(p.Expression) != 1 || len(r.PermissionsWithGrantOption) > 0 {
		return false
	}
	e := p.Expression[0]
	if aws.ToString(e.TagKey) != t.AnalystTag.Key || !slices.Equal(e.TagValues, []string{t.AnalystTag.Value}) {
		return false
	}
	for _, perm := range permStrings(r.Permissions) {
		if !slices.Contains(analystPermissions, perm) {
			return false
		}
	}
	return true
}

// heldByAll says whether every role holds at least r's permissions on r's
// resource.
func heldByAll(rows []lftypes.PrincipalResourcePermissions, r lftypes.PrincipalResourcePermissions, roles []string) bool {
	want := permStrings(r.Permissions)
	for _, role := range roles {
		var have []string
		for _, o := range rows {
			if principalOf(o) == role && describeResource(o.Resource) == describeResource(r.Resource) {
				have = append(have, permStrings(o.Permissions)...)
			}
		}
		for _, p := range want {
			if !slices.Contains(have, p) && !slices.Contains(have, "ALL") {
				return false
			}
		}
	}
	return true
}

func permStrings(ps []lftypes.Permission) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, string(p))
	}
	sort.Strings(out)
	return out
}

func describeResource(res *lftypes.Resource) string {
	switch {
	case res == nil:
		return "nothing"
	case res.Catalog != nil:
		return "the catalog"
	case res.Database != nil:
		return "database " + aws.ToString(res.Database.Name)
	case res.Table != nil:
		name := aws.ToString(res.Table.Name)
		if res.Table.TableWildcard != nil {
			name = "*"
		}
		return "table " + aws.ToString(res.Table.DatabaseName) + "." + name
	case res.TableWithColumns != nil:
		return "columns of " + aws.ToString(res.TableWithColumns.DatabaseName) + "." + aws.ToString(res.TableWithColumns.Name)
	case res.DataLocation != nil:
		return "location " + aws.ToString(res.DataLocation.ResourceArn)
	case res.LFTag != nil:
		return "LF-tag " + aws.ToString(res.LFTag.TagKey)
	case res.LFTagPolicy != nil:
		var parts []string
		for _, e := range res.LFTagPolicy.Expression {
			parts = append(parts, aws.ToString(e.TagKey)+"="+strings.Join(e.TagValues, "|"))
		}
		return strings.ToLower(string(res.LFTagPolicy.ResourceType)) + "s tagged " + strings.Join(parts, " and ")
	}
	return "another resource"
}

func locations(ctx context.Context, c Clients, _ Target, rep *Report, _ *State) error {
	in := &lf.ListResourcesInput{}
	for range maxPages {
		out, err := c.LF.ListResources(ctx, in)
		if err != nil {
			return fmt.Errorf("lakeformation:ListResources: %w", err)
		}
		for _, r := range out.ResourceInfoList {
			role := aws.ToString(r.RoleArn)
			reason := "kept as registered (role " + role + "); RegisterLocation registers lakeforge's lake location itself"
			if strings.Contains(role, "AWSServiceRoleForLakeFormationDataAccess") {
				reason += "; registered with the service-linked role, as the blog's step 11 does"
			}
			rep.add(Item{Kind: KindLocation, Name: aws.ToString(r.ResourceArn), Action: Leave, Reason: reason})
		}
		if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
			break
		}
	}
	return nil
}

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
		st.marks = append(st.marks, markTable{item: index, table: tb})
	default:
		it.Action, it.Reason = Leave, strings.ToUpper(format[:1])+format[1:]+" table lakeforge does not import into: kept as it is"
	}
	return it
}

func connections(ctx context.Context, c Clients, t Target, rep *Report, _ *State) error {
	in := &glue.GetConnectionsInput{HidePassword: true}
	for range maxPages {
		out, err := c.Glue.GetConnections(ctx, in)
		if err != nil {
			return fmt.Errorf("glue:GetConnections: %w", err)
		}
		for _, conn := range out.ConnectionList {
			name := aws.ToString(conn.Name)
			if name == t.OwnConnection {
				continue
			}
			rep.add(Item{Kind: KindConnection, Name: name, Action: Leave,
				Reason: "kept; lakeforge's import uses its own connection " + t.OwnConnection + " (credentials from Secrets Manager); the blueprint's workflow still names this one"})
		}
		if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
			break
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
