package cli

// `lakeforge access` and `lakeforge status` with governance, on moto.
// Where moto 5.2.5 differs from Lake Formation (pkg/lakeformation's tests
// and docs/aws-behaviour.md say so too), documentedLF answers the exact
// request the CLI sends as the API reference documents it:
//   - ListPermissions by resource type LF_TAG_POLICY_DATABASE or
//     LF_TAG_POLICY_TABLE (moto: HTTP 500): moto's grants, unfiltered, kept
//     by resource type;
//   - GetResourceLFTags on a Table resource that never had a table-level
//     tag (moto: HTTP 500): no table tags.
// Nothing here evaluates a tag expression: pkg/access does.

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
)

type documentedLF struct {
	LakeFormationAPI
	mu     sync.Mutex
	listed []lftypes.DataLakeResourceType
}

func (d *documentedLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	d.mu.Lock()
	d.listed = append(d.listed, in.ResourceType)
	d.mu.Unlock()
	var want lftypes.ResourceType
	switch in.ResourceType {
	case lftypes.DataLakeResourceTypeLfTagPolicyDatabase:
		want = lftypes.ResourceTypeDatabase
	case lftypes.DataLakeResourceTypeLfTagPolicyTable:
		want = lftypes.ResourceTypeTable
	default:
		return d.LakeFormationAPI.ListPermissions(ctx, in, o...)
	}
	all, err := d.LakeFormationAPI.ListPermissions(ctx, &lf.ListPermissionsInput{NextToken: in.NextToken}, o...)
	if err != nil {
		return nil, err
	}
	out := &lf.ListPermissionsOutput{NextToken: all.NextToken}
	for _, p := range all.PrincipalResourcePermissions {
		if p.Resource != nil && p.Resource.LFTagPolicy != nil && p.Resource.LFTagPolicy.ResourceType == want {
			out.PrincipalResourcePermissions = append(out.PrincipalResourcePermissions, p)
		}
	}
	return out, nil
}

func (d *documentedLF) GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, o ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error) {
	out, err := d.LakeFormationAPI.GetResourceLFTags(ctx, in, o...)
	if err != nil && in.Resource != nil && in.Resource.Table != nil && strings.Contains(err.Error(), "StatusCode: 500") {
		return &lf.GetResourceLFTagsOutput{}, nil
	}
	return out, err
}

const testPIIReader = "arn:aws:iam::123456789012:role/pii-reader"

// governedFixture is a deployed stack with governance on in cdk.json and a
// lake as a governed run leaves it: the database tagged for the workflow
// role and the analysts, two tables, grants on the analyst tag AND
// sensitivity; tagColumns says whether TagOutput has tagged the columns.
func governedFixture(t *testing.T, tagColumns bool, task localsfn.TaskFunc) (*fixture, *documentedLF) {
	f := newFixture(t, task)
	f.deployStack()
	f.writeConfig(func(m map[string]any) {
		m["governance"] = map[string]any{
			"enabled": true,
			"columns": map[string]any{"pii": []any{"%.email"}, "public": []any{"customers.id", "products.%"}},
			"readers": []any{map[string]any{"name": "pii-readers", "principalArns": []any{testPIIReader}, "values": []any{"public", "internal", "pii"}}},
		}
	})
	docLF := &documentedLF{}
	f.wrap = func(c *Clients) {
		docLF.LakeFormationAPI = c.LF
		c.LF = docLF
	}
	cfg := f.moto.Config()
	l, g := lf.NewFromConfig(cfg), glue.NewFromConfig(cfg)
	ctx := f.ctx
	for k, v := range map[string][]string{"maintenance": {"crawler", "manual"}, "source": {"product"}, "sensitivity": {"public", "internal", "pii", "unclassified"}} {
		_, err := l.CreateLFTag(ctx, &lf.CreateLFTagInput{TagKey: aws.String(k), TagValues: v})
		must(t, err)
	}
	_, err := g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String("kthr01"), LocationUri: aws.String("s3://" + testBucket + "/lake")}})
	must(t, err)
	_, err = l.AddLFTagsToResource(ctx, &lf.AddLFTagsToResourceInput{Resource: &lftypes.Resource{Database: &lftypes.DatabaseResource{Name: aws.String("kthr01")}},
		LFTags: []lftypes.LFTagPair{{TagKey: aws.String("maintenance"), TagValues: []string{"crawler"}}, {TagKey: aws.String("source"), TagValues: []string{"product"}}}})
	must(t, err)
	tables := map[string][]string{"customers": {"id", "email", "nickname"}, "products": {"id", "name"}}
	for name, cols := range tables {
		in := &gluetypes.TableInput{Name: aws.String("workflow_kthr01_" + name), StorageDescriptor: &gluetypes.StorageDescriptor{}}
		for _, c := range cols {
			in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, gluetypes.Column{Name: aws.String(c), Type: aws.String("string")})
		}
		_, err := g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("kthr01"), TableInput: in})
		must(t, err)
	}
	if tagColumns {
		for table, byValue := range map[string]map[string][]string{
			"customers": {"public": {"id"}, "pii": {"email"}, "unclassified": {"nickname"}},
			"products":  {"public": {"id", "name"}},
		} {
			for v, cols := range byValue {
				_, err := l.AddLFTagsToResource(ctx, &lf.AddLFTagsToResourceInput{
					Resource: &lftypes.Resource{TableWithColumns: &lftypes.TableWithColumnsResource{DatabaseName: aws.String("kthr01"), Name: aws.String("workflow_kthr01_" + table), ColumnNames: cols}},
					LFTags:   []lftypes.LFTagPair{{TagKey: aws.String("sensitivity"), TagValues: []string{v}}}})
				must(t, err)
			}
		}
	}
	grant := func(who string, rt lftypes.ResourceType, perms []lftypes.Permission, expr ...lftypes.LFTag) {
		_, err := l.GrantPermissions(ctx, &lf.GrantPermissionsInput{Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(who)},
			Resource: &lftypes.Resource{LFTagPolicy: &lftypes.LFTagPolicyResource{ResourceType: rt, Expression: expr}}, Permissions: perms})
		must(t, err)
	}
	tag := func(k string, v ...string) lftypes.LFTag { return lftypes.LFTag{TagKey: aws.String(k), TagValues: v} }
	all := []lftypes.Permission{lftypes.PermissionAll}
	read := []lftypes.Permission{lftypes.PermissionSelect, lftypes.PermissionDescribe}
	describe := []lftypes.Permission{lftypes.PermissionDescribe}
	grant(testWorkflowRole, lftypes.ResourceTypeDatabase, all, tag("maintenance", "crawler"))
	grant(testWorkflowRole, lftypes.ResourceTypeTable, all, tag("maintenance", "crawler"))
	grant(testAnalystRole, lftypes.ResourceTypeDatabase, describe, tag("source", "product"))
	grant(testAnalystRole, lftypes.ResourceTypeTable, read, tag("source", "product"), tag("sensitivity", "public", "internal"))
	grant(testPIIReader, lftypes.ResourceTypeDatabase, describe, tag("source", "product"))
	grant(testPIIReader, lftypes.ResourceTypeTable, read, tag("source", "product"), tag("sensitivity", "public", "internal", "pii"))
	return f, docLF
}

func TestAccessShowsWhoReadsWhichColumnAndWhy(t *testing.T) {
	f, docLF := governedFixture(t, true, nil)
	out, errOut, code := f.cli("access", "--principal", testAnalystRole, "--table", "customers", "--output", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep access.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Principals) != 1 || len(rep.Principals[0].Tables) != 1 || rep.Principals[0].Tables[0].Table != "workflow_kthr01_customers" {
		t.Fatalf("report %s", out)
	}
	cols := map[string]access.ColumnAccess{}
	for _, c := range rep.Principals[0].Tables[0].Columns {
		cols[c.Column] = c
	}
	id, email, nick := cols["id"], cols["email"], cols["nickname"]
	if !id.Read || id.Grant != "SELECT+DESCRIBE on TABLEs with source=product AND sensitivity in (public, internal)" ||
		!slices.Contains(id.Because, "source=product (inherited from the database)") || !slices.Contains(id.Because, "sensitivity=public (assigned to the column)") {
		t.Errorf("id: %+v", id)
	}
	if email.Read || !strings.Contains(email.Denied, "sensitivity=pii (assigned to the column) is not sensitivity in (public, internal)") {
		t.Errorf("email: %+v", email)
	}
	if nick.Read || !strings.Contains(nick.Denied, "sensitivity=unclassified") {
		t.Errorf("nickname: %+v", nick)
	}
	// The requests sent: one listing per resource type, matched in code.
	want := []lftypes.DataLakeResourceType{lftypes.DataLakeResourceTypeLfTagPolicyDatabase, lftypes.DataLakeResourceTypeLfTagPolicyTable, lftypes.DataLakeResourceTypeTable}
	if !slices.Equal(docLF.listed, want) {
		t.Errorf("ListPermissions by %v, want %v", docLF.listed, want)
	}

	// Who reads customers.email: the pii readers and the workflow role.
	text, _, code := f.cli("access", "--table", "workflow_kthr01_customers", "--column", "email")
	if code != ExitOK {
		t.Fatal(text)
	}
	for _, want := range []string{testPIIReader, testWorkflowRole, "email  read    ALL on TABLEs with maintenance=crawler", "email  denied  SELECT+DESCRIBE on TABLEs with source=product AND sensitivity in (public, internal)"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if _, errOut, code := f.cli("access", "--table", "nosuch"); code != ExitUsage || !strings.Contains(errOut, "workflow_kthr01_customers, workflow_kthr01_products") {
		t.Errorf("unknown table: exit %d, %s", code, errOut)
	}
}

func TestAccessPlanChangesNothing(t *testing.T) {
	f, _ := governedFixture(t, false, nil)
	out, errOut, code := f.cli("access", "--plan", "--output", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	var plan AccessPlan
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	steps := map[string]PlanStep{}
	for _, s := range plan.Steps {
		steps[s.Step] = s
	}
	tagOut := steps["TagOutput"]
	wantCalls := []string{
		"lakeformation:AddLFTagsToResource sensitivity=public on columns id of table kthr01.workflow_kthr01_customers",
		"lakeformation:AddLFTagsToResource sensitivity=pii on columns email of table kthr01.workflow_kthr01_customers",
		"lakeformation:AddLFTagsToResource sensitivity=unclassified on columns nickname of table kthr01.workflow_kthr01_customers",
		"lakeformation:AddLFTagsToResource sensitivity=public on columns id, name of table kthr01.workflow_kthr01_products",
	}
	var got []string
	for _, c := range tagOut.Calls {
		got = append(got, c.Action+" "+c.Request)
	}
	if !slices.Equal(got, wantCalls) || tagOut.Error != "" {
		t.Fatalf("TagOutput planned %q (error %q), want %q", got, tagOut.Error, wantCalls)
	}
	// The fixture's LF-tag grants are in place; what a deployment made
	// before DESCRIBE on the default database lacks is that grant, for
	// each principal that queries through Athena (the analyst role and the
	// governance reader), and nothing else.
	var granted []string
	for _, c := range steps["GrantTagPermissions"].Calls {
		granted = append(granted, c.Action+" "+c.Request)
	}
	if want := []string{
		"lakeformation:GrantPermissions DESCRIBE on database default to " + testAnalystRole,
		"lakeformation:GrantPermissions DESCRIBE on database default to " + testPIIReader,
	}; !slices.Equal(granted, want) || steps["GrantTagPermissions"].Error != "" {
		t.Errorf("GrantTagPermissions planned %q (error %q); want only %q", granted, steps["GrantTagPermissions"].Error, want)
	}
	// Nothing was changed: the columns still carry no tag.
	cols, err := lf.NewFromConfig(f.moto.Config()).GetResourceLFTags(f.ctx, &lf.GetResourceLFTagsInput{
		Resource: &lftypes.Resource{TableWithColumns: &lftypes.TableWithColumnsResource{DatabaseName: aws.String("kthr01"), Name: aws.String("workflow_kthr01_customers"), ColumnNames: []string{"id", "email", "nickname"}}}})
	must(t, err)
	if len(cols.LFTagsOnColumns) != 0 {
		t.Fatalf("the plan tagged columns: %+v", cols.LFTagsOnColumns)
	}
	text, _, _ := f.cli("access", "--plan")
	if !strings.Contains(text, "TagOutput: 4 change(s)") || !strings.Contains(text, "nothing was changed") {
		t.Errorf("plan text:\n%s", text)
	}
}

func TestStatusNamesUnclassifiedColumns(t *testing.T) {
	f, _ := governedFixture(t, true, (&pipelineTasks{}).answer)
	out, errOut, code := f.cli("status", "--output", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep StatusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Unclassified) != 1 || rep.Unclassified[0].Table != "workflow_kthr01_customers" || rep.Unclassified[0].Column != "nickname" ||
		!strings.Contains(rep.Unclassified[0].Fix, `add "customers.nickname" to governance.columns.<value>`) {
		t.Fatalf("unclassified %+v (note %q)", rep.Unclassified, rep.UnclassifiedNote)
	}
	text, _, _ := f.cli("status")
	if !strings.Contains(text, "unclassified columns (hidden from every persona until classified): 1") || !strings.Contains(text, "workflow_kthr01_customers.nickname") {
		t.Errorf("status text:\n%s", text)
	}
}
