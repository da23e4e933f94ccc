package adopt

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/adopt/manualbuild"
)

const (
	testDB      = "kthr01"
	testPrefix  = "workflow_kthr01_"
	analystRole = "arn:aws:iam::123456789012:role/lakeforge-AnalystRole-ABC"
)

// testTarget is the shipped configuration's target; adopted is the
// configuration after the report's fixes (groups adopted, the blueprint's
// prefix readable).
func testTarget(adopted bool) Target {
	var adoptLocations []string
	if adopted {
		adoptLocations = []string{"s3://blog-lake/kthr01/"}
	}
	adoptGroups := adopted
	return Target{
		AdoptLocations: adoptLocations,
		Stack:          "lakeforge", Database: testDB, TablePrefix: testPrefix,
		Groups:     []PersonaGroup{{Persona: "admins", Name: manualbuild.AdminsGroup, Adopt: adoptGroups}, {Persona: "analysts", Name: manualbuild.UsersGroup, Adopt: adoptGroups}},
		Tags:       map[string][]string{"maintenance": {"crawler", "manual"}, "source": {"product"}},
		AnalystTag: TagRef{"source", "product"}, WorkflowTag: TagRef{"maintenance", "crawler"}, AnalystRoles: []string{analystRole},
		LakeLocation:  "s3://lakeforge-lakebucket/lake",
		OwnRolePrefix: ":role/lakeforge-", OwnWorkflow: "lakeforge-import", OwnConnection: "lakeforge-source",
	}
}

func item(t *testing.T, rep *Report, kind, nameHas string) Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.Kind == kind && strings.Contains(it.Name, nameHas) {
			return it
		}
	}
	t.Fatalf("no %s item %q in the report:\n%s", kind, nameHas, dump(rep))
	return Item{}
}

func dump(rep *Report) string {
	var b strings.Builder
	rep.Print(&b)
	return b.String()
}

// Issue 21 items 1-3: the inventory of the blog's manual build says what
// lakeforge adopts, changes or leaves; --apply stops the blueprint's
// schedule (never deletes it), gives the analyst role what the blog gave
// datalake_user, and marks the Parquet tables for conversion; nothing the
// user made is deleted, and a second run has nothing left but the settings.
func TestInventoryAndApplyOnTheManualBuild(t *testing.T) {
	testtier.External(t, "moto")
	srv := motoserver.Current(t)
	srv.Reset(t)
	ctx := longContext(t)
	cfg := srv.Config()
	build, err := manualbuild.Seed(ctx, cfg, manualbuild.Options{Account: motoserver.AccountID, Database: testDB, Bucket: "blog-lake", Prefix: "kthr01/",
		Tables: map[string][]manualbuild.Column{testPrefix + "products": {{Name: "id", Type: "int"}, {Name: "unit_price", Type: "double"}}, "notes": {{Name: "id", Type: "int"}}}})
	if err != nil {
		t.Fatal(err)
	}
	lfc, gl := lf.NewFromConfig(cfg), glue.NewFromConfig(cfg)
	// A grant the tag grant does not cover: datalake_user may also
	// describe the database.
	dbRes := &lftypes.Resource{Database: &lftypes.DatabaseResource{Name: aws.String(testDB)}}
	if _, err := lfc.GrantPermissions(ctx, &lf.GrantPermissionsInput{Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(build.AnalystUserARN)},
		Resource: dbRes, Permissions: []lftypes.Permission{lftypes.PermissionDescribe}}); err != nil {
		t.Fatal(err)
	}
	c := Clients{IAM: iam.NewFromConfig(cfg), Stacks: cloudformation.NewFromConfig(cfg), Glue: gl, LF: lfc}
	before := countAll(t, c)

	rep, st, err := Inventory(ctx, c, testTarget(false))
	if err != nil {
		t.Fatal(err)
	}
	text := dump(rep)
	if rep.NothingToDo {
		t.Fatalf("the manual build has things to do:\n%s", text)
	}
	for _, want := range []struct {
		kind, name string
		action     Action
		todo       bool
		reasonHas  string
	}{
		{KindGroup, "dl_admins", Change, true, "EntityAlreadyExists"},
		{KindUser, manualbuild.AnalystUser, Leave, false, "member of dl_users"},
		{KindLFAdmin, build.AdminUserARN, Leave, false, "never drops"},
		{KindLFTag, "maintenance", Adopt, false, "keeps cralwer"},
		{KindGrant, manualbuild.AnalystUser + ": DESCRIBE, SELECT on tables tagged source=product", Leave, false, "lakeforge grants its analyst role the same"},
		{KindGrant, manualbuild.AnalystUser + ": DESCRIBE on database kthr01", Change, true, "analyst role gets the same"},
		{KindGrant, manualbuild.CrawlerRole, Leave, false, "role's grant"},
		{KindLocation, "arn:aws:s3:::blog-lake", Leave, false, "service-linked role"},
		{KindDatabase, testDB, Change, true, "without a location (tags maintenance=cralwer, source=product)"},
		{KindDatabase, testDB, Change, true, "replaces maintenance=cralwer with maintenance=crawler"},
		{KindTable, testPrefix + "products", Change, true, "lie outside what the import job's role may read"},
		{KindTable, "kthr01.notes", Leave, false, "does not import into"},
		{KindConnection, manualbuild.Connection, Leave, false, "its own connection"},
		{KindWorkflow, manualbuild.Workflow, Leave, false, "never deleted"},
		{KindTrigger, manualbuild.StartTrigger, Change, true, "cron(45 9 * * ? *)"},
		{KindTrigger, "workflow_etl_trigger", Leave, false, "inside a run"},
		{KindCrawler, manualbuild.OutputCrawler, Leave, false, "inside the blueprint's workflow"},
		{KindJob, manualbuild.ImportJob, Leave, false, "replaces it"},
	} {
		it := item(t, rep, want.kind, want.name)
		if it.Action != want.action || it.Todo != want.todo || !strings.Contains(it.Reason, want.reasonHas) {
			t.Errorf("%s %s: %s todo=%v %q; want %s todo=%v with %q", want.kind, want.name, it.Action, it.Todo, it.Reason, want.action, want.todo, want.reasonHas)
		}
	}
	if got := countAll(t, c); got != before {
		t.Fatalf("the dry run changed the account: %+v, was %+v", got, before)
	}

	if err := Apply(ctx, c, rep, st); err != nil {
		t.Fatalf("apply: %v\n%s", err, dump(rep))
	}
	tr, err := gl.GetTrigger(ctx, &glue.GetTriggerInput{Name: aws.String(manualbuild.StartTrigger)})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Trigger.State != gluetypes.TriggerStateDeactivated {
		t.Errorf("the blueprint's schedule is %s after --apply, want DEACTIVATED", tr.Trigger.State)
	}
	if !holds(t, c, analystRole, dbRes, "DESCRIBE") {
		t.Errorf("the analyst role did not get DESCRIBE on the database")
	}
	dbOut, err := gl.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(testDB)})
	if err != nil || aws.ToString(dbOut.Database.LocationUri) != "s3://lakeforge-lakebucket/lake" {
		t.Errorf("the database's location after --apply: %v %v", dbOut, err)
	}
	tb, err := gl.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(testDB), Name: aws.String(testPrefix + "products")})
	if err != nil {
		t.Fatal(err)
	}
	if it := item(t, rep, KindTable, testPrefix+"products"); !it.Applied || !it.Todo || !strings.HasPrefix(it.Fix, "add s3://blog-lake/kthr01/ to import.adoptLocations") {
		t.Errorf("marked, the table still needs its files readable, and says which prefix: %+v", it)
	}
	if tb.Table.Parameters[ConvertParam] != ConvertRequested || Format(*tb.Table) != "parquet" || aws.ToString(tb.Table.StorageDescriptor.Location) != build.TableLocations[testPrefix+"products"] {
		t.Errorf("the marked table: %+v", tb.Table)
	}
	after := countAll(t, c)
	if after.triggers != before.triggers || after.crawlers != before.crawlers || after.jobs != before.jobs || after.tables != before.tables || after.grants < before.grants+1 {
		t.Errorf("apply deleted something: %+v, was %+v", after, before)
	}

	// Adopted groups in the configuration: nothing is left to do.
	rep, _, err = Inventory(ctx, c, testTarget(true))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.NothingToDo {
		t.Fatalf("after --apply and adoptGroup, the second adopt still has work:\n%s", dump(rep))
	}
}

type counts struct{ triggers, crawlers, jobs, tables, grants int }

func countAll(t *testing.T, c Clients) counts {
	t.Helper()
	ctx := longContext(t)
	var n counts
	tr, err := c.Glue.GetTriggers(ctx, &glue.GetTriggersInput{})
	if err != nil {
		t.Fatal(err)
	}
	cr, _ := c.Glue.GetCrawlers(ctx, &glue.GetCrawlersInput{})
	jb, _ := c.Glue.GetJobs(ctx, &glue.GetJobsInput{})
	tb, _ := c.Glue.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String(testDB)})
	rows, err := listPermissions(ctx, c.LF)
	if err != nil {
		t.Fatal(err)
	}
	n.triggers, n.crawlers, n.jobs, n.tables, n.grants = len(tr.Triggers), len(cr.Crawlers), len(jb.Jobs), len(tb.TableList), len(rows)
	return n
}

func holds(t *testing.T, c Clients, who string, res *lftypes.Resource, perm string) bool {
	t.Helper()
	rows, err := listPermissions(longContext(t), c.LF)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if principalOf(r) == who && describeResource(r.Resource) == describeResource(res) && slices.Contains(permStrings(r.Permissions), perm) {
			return true
		}
	}
	return false
}
