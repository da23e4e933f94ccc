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
	// AdoptLocations are import.adoptLocations: where the import job's role
	// may read Parquet files besides the lake.
	AdoptLocations []string
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
	// unreadable: its files lie outside what the import job may read, which
	// --apply does not change.
	unreadable bool
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
