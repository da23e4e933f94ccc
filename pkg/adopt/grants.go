package adopt

// The grants of the manual build: listed, matched against lakeforge's own
// analyst grant, and copied to the analyst role.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
)

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
