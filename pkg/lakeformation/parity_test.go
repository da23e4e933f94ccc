package lakeformation

// The fake and moto give the same outcome. runScenarios runs every scenario
// on the in-memory fake (internal/lffake, the unit tier) and on moto (the
// emulator tier); when both ran, the parity subtest compares the calls the
// steps sent (operation and input, in order) and the account's state read
// back through the read APIs (settings, grants, LF-tags, registrations,
// databases and tables, the LF-tags of each). So the fake cannot drift into
// a second truth: a behaviour it models differently from moto shows here,
// and where moto differs from AWS the fake follows AWS and the difference
// is listed in parityExclusions with its reason.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// sentCalls records the calls the steps sent: operation and input.
type sentCalls struct {
	mu    sync.Mutex
	calls []string
}

func (s *sentCalls) add(op string, in any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, op+" "+canonical(in))
}

func (s *sentCalls) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// canonical is v as JSON without the members that say nothing: nulls,
// empty lists and maps, and catalog IDs (Lake Formation defaults each to
// the account), with object keys sorted.
func canonical(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		panic(err)
	}
	out, _ := json.Marshal(prune(x))
	return string(out)
}

func prune(x any) any {
	switch v := x.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if k == "CatalogId" {
				continue
			}
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, e := range v {
			if p := prune(e); p != nil {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return x
}

// outcome is what a scenario left: the calls sent and the state, by section.
type outcome struct {
	calls []string
	state map[string][]string
}

// stateSections are the parts of an account's state the parity compares.
var stateSections = []string{"settings", "grants", "lf-tags", "registrations", "databases", "tables", "resource-tags"}

// snapshot reads the account's state through the unrecorded clients.
func snapshot(t *testing.T, a *account) map[string][]string {
	t.Helper()
	st := map[string][]string{}
	s, err := a.SeedLF.GetDataLakeSettings(ctx(), &lf.GetDataLakeSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	st["settings"] = []string{canonical(s.DataLakeSettings)}
	perms, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range perms.PrincipalResourcePermissions {
		held, grantable := slices.Clone(p.Permissions), slices.Clone(p.PermissionsWithGrantOption)
		slices.Sort(held)
		slices.Sort(grantable)
		st["grants"] = append(st["grants"], fmt.Sprintf("%s %s %v grantable %v", aws.ToString(p.Principal.DataLakePrincipalIdentifier), canonical(p.Resource), held, grantable))
	}
	tags, err := a.SeedLF.ListLFTags(ctx(), &lf.ListLFTagsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags.LFTags {
		values := slices.Clone(tag.TagValues)
		slices.Sort(values)
		st["lf-tags"] = append(st["lf-tags"], aws.ToString(tag.TagKey)+"="+strings.Join(values, ","))
	}
	regs, err := a.SeedLF.ListResources(ctx(), &lf.ListResourcesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range regs.ResourceInfoList {
		role := aws.ToString(r.RoleArn)
		if role == "" { // moto 5.2.5 names no role for a service-linked registration
			role = slrARN
		}
		st["registrations"] = append(st["registrations"], aws.ToString(r.ResourceArn)+" "+role)
	}
	dbs, err := a.SeedGlue.GetDatabases(ctx(), &glue.GetDatabasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs.DatabaseList {
		name := aws.ToString(db.Name)
		st["databases"] = append(st["databases"], fmt.Sprintf("%s location=%s description=%q", name, aws.ToString(db.LocationUri), aws.ToString(db.Description)))
		st["resource-tags"] = append(st["resource-tags"], "database "+name+" "+assignedTags(t, a, &types.Resource{Database: &types.DatabaseResource{Name: db.Name}}))
		tables, err := a.SeedGlue.GetTables(ctx(), &glue.GetTablesInput{DatabaseName: db.Name})
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables.TableList {
			var cols []string
			if tb.StorageDescriptor != nil {
				for _, c := range tb.StorageDescriptor.Columns {
					cols = append(cols, aws.ToString(c.Name))
				}
			}
			st["tables"] = append(st["tables"], fmt.Sprintf("%s.%s %v", name, aws.ToString(tb.Name), cols))
			st["resource-tags"] = append(st["resource-tags"], "table "+name+"."+aws.ToString(tb.Name)+" "+
				assignedTags(t, a, &types.Resource{Table: &types.TableResource{DatabaseName: db.Name, Name: tb.Name}}))
			if len(cols) > 0 {
				st["resource-tags"] = append(st["resource-tags"], "columns "+name+"."+aws.ToString(tb.Name)+" "+
					assignedTags(t, a, &types.Resource{TableWithColumns: &types.TableWithColumnsResource{DatabaseName: db.Name, Name: tb.Name, ColumnNames: cols}}))
			}
		}
	}
	for _, lines := range st {
		sort.Strings(lines)
	}
	return st
}

// assignedTags reads the LF-tags assigned at r's own level.
func assignedTags(t *testing.T, a *account, r *types.Resource) string {
	t.Helper()
	out, err := a.SeedLF.GetResourceLFTags(ctx(), &lf.GetResourceLFTagsInput{Resource: r, ShowAssignedLFTags: aws.Bool(true)})
	if err != nil {
		// moto 5.2.5 answers HTTP 500 for a database or table that never
		// had an LF-tag (TestMotoFailsTableTagReadOfAnUntaggedTable); Lake
		// Formation answers none.
		if a.Backend == motoBackend && awsretry.Transient(err) {
			return "[]"
		}
		t.Fatal(err)
	}
	var pairs []types.LFTagPair
	switch {
	case r.Database != nil:
		pairs = out.LFTagOnDatabase
	case r.Table != nil:
		pairs = out.LFTagsOnTable
	default:
		var cols []string
		for _, c := range out.LFTagsOnColumns {
			cols = append(cols, aws.ToString(c.Name)+":"+tagPairs(c.LFTags))
		}
		sort.Strings(cols)
		return fmt.Sprint(cols)
	}
	return tagPairs(pairs)
}

func tagPairs(pairs []types.LFTagPair) string {
	var out []string
	for _, p := range pairs {
		out = append(out, aws.ToString(p.TagKey)+"="+strings.Join(p.TagValues, ","))
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

// exclusion is a part of a scenario's outcome that the fake and moto do
// not share: the state lines that start with prefix (a section name, then
// the line's start), or the calls when prefix is "calls"; and why.
type exclusion struct {
	prefix string
	reason string
}

// listingOrder: the injected failure hits the first revoke the cleanup
// makes, and which grant that is depends on the order ListPermissions
// answers, which Lake Formation does not specify (moto's is a hash order,
// the fake's the order of granting); so the calls of the retry differ.
// The state after the run is compared.
var listingOrder = exclusion{"calls", "which revoke the injected failure hits depends on the order of a listing, which Lake Formation does not specify"}

// motoReplacesDatabaseTags: moto 5.2.5's AddLFTagsToResource replaces every
// LF-tag of the resource instead of adding to them (steps_test.go), so after
// TagOutput assigns the analyst tag the lake database has lost the workflow
// tag on moto; Lake Formation and the fake keep both.
var motoReplacesDatabaseTags = exclusion{"resource-tags database " + database + " ",
	"moto 5.2.5's AddLFTagsToResource replaces the database's other LF-tags; AWS (and the fake) add to them"}

// parityExclusions lists, by "function/scenario", what the parity does not
// compare. An exclusion whose lines no longer differ fails the check, so
// the list stays true.
var parityExclusions = map[string][]exclusion{
	"tag-output/state machine input then converged":                                                                      {motoReplacesDatabaseTags},
	"tag-output/after EnsureDatabase, the lake database gets the analyst tag":                                            {motoReplacesDatabaseTags},
	"tag-output/governance: every column tagged, unclassified ones reported, then converged":                             {motoReplacesDatabaseTags},
	"tag-output/governance: a removed or changed column tag is put back":                                                 {motoReplacesDatabaseTags},
	"tag-output/governance: schema changes after a run":                                                                  {motoReplacesDatabaseTags},
	"tag-output/governance: a column in two classes is a ConfigError naming both rules":                                  {motoReplacesDatabaseTags},
	"tag-output/governance: the unclassified count is published, zero included":                                          {motoReplacesDatabaseTags},
	"tag-output/governance: Lake Formation's per-tag failures are a PermanentError naming the columns":                   {motoReplacesDatabaseTags},
	"cleanup-lake-formation/a failed revoke and a failed settings read: every other item is done, each failure reported": {listingOrder},
}

// lines is a state as "section line" lines, in section order.
func (o outcome) lines() []string {
	var out []string
	for _, s := range stateSections {
		for _, l := range o.state[s] {
			out = append(out, s+" "+l)
		}
	}
	return out
}

// normalizedCalls is the calls as the parity compares them: a request
// repeated back to back counts once (the retry policy's jitter decides how
// many attempts a budget holds), and a run of one operation is compared as
// a set (the steps act in the order of a listing, which Lake Formation
// does not specify).
func normalizedCalls(calls []string) []string {
	calls = slices.Compact(slices.Clone(calls))
	op := func(c string) string { o, _, _ := strings.Cut(c, " "); return o }
	for i := 0; i < len(calls); {
		j := i
		for j < len(calls) && op(calls[j]) == op(calls[i]) {
			j++
		}
		slices.Sort(calls[i:j])
		i = j
	}
	return calls
}

// checkParity compares the outcome of one scenario on the fake and on moto.
func checkParity(t *testing.T, key string, fake, moto outcome) {
	t.Helper()
	for _, p := range parityProblems(key, fake, moto) {
		t.Error(p)
	}
}

// parityProblems says how the two outcomes of scenario key differ, beyond
// its exclusions, and which exclusions no longer hold.
func parityProblems(key string, fake, moto outcome) []string {
	var problems []string
	exclusions := parityExclusions[key]
	callsExcluded := slices.ContainsFunc(exclusions, func(e exclusion) bool { return e.prefix == "calls" })
	if f, m := normalizedCalls(fake.calls), normalizedCalls(moto.calls); !callsExcluded && !slices.Equal(f, m) {
		problems = append(problems, "the calls differ between the fake and moto:\n"+lineDiff(f, m))
	}
	f, m := fake.lines(), moto.lines()
	for _, ex := range exclusions {
		if ex.prefix == "calls" {
			continue // an order the API leaves open: they may agree by chance
		}
		excluded := func(l string) bool { return strings.HasPrefix(l, ex.prefix) }
		fx, mx := slices.DeleteFunc(slices.Clone(f), func(l string) bool { return !excluded(l) }), slices.DeleteFunc(slices.Clone(m), func(l string) bool { return !excluded(l) })
		if slices.Equal(fx, mx) {
			problems = append(problems, fmt.Sprintf("the fake and moto agree on %q now: drop the exclusion (%s)", ex.prefix, ex.reason))
		}
		f, m = slices.DeleteFunc(f, excluded), slices.DeleteFunc(m, excluded)
	}
	if !slices.Equal(f, m) {
		problems = append(problems, "the state differs between the fake and moto:\n"+lineDiff(f, m))
	}
	return problems
}

// lineDiff shows the lines only one side has.
func lineDiff(fake, moto []string) string {
	var b strings.Builder
	for _, l := range fake {
		if !slices.Contains(moto, l) {
			fmt.Fprintf(&b, "  only the fake: %s\n", l)
		}
	}
	for _, l := range moto {
		if !slices.Contains(fake, l) {
			fmt.Fprintf(&b, "  only moto:     %s\n", l)
		}
	}
	if b.Len() == 0 {
		b.WriteString("  the same lines in another order:\n    fake: " + strings.Join(fake, "\n          ") + "\n    moto: " + strings.Join(moto, "\n          ") + "\n")
	}
	return b.String()
}

// descriptionlessGlue is a fake that drifted: its CreateDatabase forgets
// the description.
type descriptionlessGlue struct{ glueAPI }

func (g descriptionlessGlue) CreateDatabase(ctx context.Context, in *glue.CreateDatabaseInput, o ...func(*glue.Options)) (*glue.CreateDatabaseOutput, error) {
	d := *in.DatabaseInput
	d.Description = nil
	return g.glueAPI.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &d}, o...)
}

// TestParityCatchesADriftingFake: the parity check finds nothing between
// two runs of a scenario on the fake, and finds a fake whose Glue
// CreateDatabase drifted (the state differs) and one whose step sent
// another request (the calls differ). It needs no server.
func TestParityCatchesADriftingFake(t *testing.T) {
	const key = "ensure-database/fresh then converged"
	run := func(drift func(a *account)) outcome {
		a := newAccountOn(t, fakeBackend)
		if drift != nil {
			drift(a)
		}
		databaseScenarios[0].run(t, a)
		return outcome{calls: a.Sent.all(), state: snapshot(t, a)}
	}
	want := run(nil)
	if p := parityProblems(key, want, run(nil)); len(p) != 0 {
		t.Fatalf("two runs on the fake differ: %v", p)
	}
	drifted := run(func(a *account) { a.Glue.glueAPI = descriptionlessGlue{a.Glue.glueAPI} })
	if p := parityProblems(key, drifted, want); len(p) != 1 || !strings.Contains(p[0], "the state differs") || !strings.Contains(p[0], "description") {
		t.Fatalf("parity problems %q; want the database's description", p)
	}
	other := run(func(a *account) { a.Sent.add("GetDatabase", &glue.GetDatabaseInput{Name: aws.String("elsewhere")}) })
	if p := parityProblems(key, other, want); len(p) != 1 || !strings.Contains(p[0], "the calls differ") {
		t.Fatalf("parity problems %q; want the extra call", p)
	}
}
