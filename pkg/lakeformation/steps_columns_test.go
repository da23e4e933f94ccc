package lakeformation

// The emulator scenarios of TagOutput with governance (column sensitivity),
// added to the tag-output scenarios (so the golden IAM actions include
// their calls). Where moto 5.2.5 differs from Lake Formation here:
//   - AddLFTagsToResource on a TableWithColumns resource stores the tags
//     per column, replacing the column's other tags, and checks only that
//     the key exists (not the value, not that the column exists); the step
//     assigns one key per call and values EnsureLFTags created;
//   - GetResourceLFTags ignores ShowAssignedLFTags and answers only the
//     tags assigned on the listed columns (what the flag asks Lake
//     Formation for), omitting columns without tags;
//   - nothing evaluates tag expressions: what a grant gives is pkg/access's
//     evaluation of the documented rules, never moto's.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func init() {
	steps["tag-output"] = append(steps["tag-output"], columnScenarios...)
}

const tablePrefix = "workflow_kthr01_"

// governance is the shipped example: e-mail and phone columns are pii,
// products public, one exact exception.
func governance(rules ...access.Rule) access.Sensitivity {
	if rules == nil {
		rules = []access.Rule{
			{Value: "pii", Pattern: "%.email", Field: "governance.columns.pii[0]"},
			{Value: "pii", Pattern: "%phone%", Field: "governance.columns.pii[1]"},
			{Value: "public", Pattern: "products.%", Field: "governance.columns.public[0]"},
			{Value: "internal", Pattern: "products.support_phone", Field: "governance.columns.internal[0]"},
			{Value: "public", Pattern: "customers.id", Field: "governance.columns.public[1]"},
		}
	}
	return access.Sensitivity{Key: "sensitivity", Values: []string{"public", "internal", "pii", "unclassified"}, Unclassified: "unclassified", TablePrefix: tablePrefix, Rules: rules}
}

// seedLake is the state after an import: the tagged lake database with
// two tables, and the sensitivity tag EnsureLFTags created.
func seedLake(t *testing.T, a *account) {
	t.Helper()
	seedOutputDatabase(t, a, true)
	createTag(t, a, "sensitivity", "public", "internal", "pii", "unclassified")
	putTable(t, a, "customers", "id", "email", "phone_number", "nickname")
	putTable(t, a, "products", "id", "name", "support_phone")
}

// putTable creates or replaces a lake table with columns, as the import's
// Iceberg commit leaves it in Glue (columns in the storage descriptor).
func putTable(t *testing.T, a *account, name string, cols ...string) {
	t.Helper()
	in := &gluetypes.TableInput{Name: aws.String(tablePrefix + name), StorageDescriptor: &gluetypes.StorageDescriptor{}}
	for _, c := range cols {
		in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, gluetypes.Column{Name: aws.String(c), Type: aws.String("string")})
	}
	_, err := a.SeedGlue.CreateTable(ctx(), &glue.CreateTableInput{DatabaseName: aws.String(database), TableInput: in})
	if err != nil {
		if _, err = a.SeedGlue.UpdateTable(ctx(), &glue.UpdateTableInput{DatabaseName: aws.String(database), TableInput: in}); err != nil {
			t.Fatal(err)
		}
	}
}

// addOldSchemaColumn adds a column as Iceberg's Glue catalog lists one of
// an earlier schema: parameter iceberg.field.current "false".
func addOldSchemaColumn(t *testing.T, a *account, table, col string) {
	t.Helper()
	got, err := a.SeedGlue.GetTable(ctx(), &glue.GetTableInput{DatabaseName: aws.String(database), Name: aws.String(tablePrefix + table)})
	if err != nil {
		t.Fatal(err)
	}
	sd := got.Table.StorageDescriptor
	sd.Columns = append(sd.Columns, gluetypes.Column{Name: aws.String(col), Type: aws.String("string"), Parameters: map[string]string{"iceberg.field.current": "false"}})
	in := &gluetypes.TableInput{Name: got.Table.Name, StorageDescriptor: sd}
	if _, err := a.SeedGlue.UpdateTable(ctx(), &glue.UpdateTableInput{DatabaseName: aws.String(database), TableInput: in}); err != nil {
		t.Fatal(err)
	}
}

func governedTagOutput(a *account, s access.Sensitivity) *TagOutput {
	step := tagOutputStep(a)
	step.Columns = &ColumnTagging{Glue: a.Glue, LF: a.LF, Retry: fastRetry(), Database: database, Sensitivity: s}
	return step
}

// columnTags reads the sensitivity assigned on every column of table.
func columnTags(t *testing.T, a *account, table string, cols ...string) map[string]string {
	t.Helper()
	out, err := a.SeedLF.GetResourceLFTags(ctx(), &lf.GetResourceLFTagsInput{
		Resource:           &types.Resource{TableWithColumns: &types.TableWithColumnsResource{DatabaseName: aws.String(database), Name: aws.String(tablePrefix + table), ColumnNames: cols}},
		ShowAssignedLFTags: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, c := range out.LFTagsOnColumns {
		for _, tag := range c.LFTags {
			if aws.ToString(tag.TagKey) == "sensitivity" {
				m[aws.ToString(c.Name)] = strings.Join(tag.TagValues, ",")
			}
		}
	}
	return m
}

func wantTags(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("column %s: sensitivity %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// convergesAccess is converges for a result type: no change and no call
// that changes Lake Formation or Glue.
func convergesAccess(t *testing.T, a *account, step *TagOutput) {
	t.Helper()
	a.markCalls()
	res, err := step.Converge(ctx())
	if err != nil || len(res.Changes) != 0 {
		t.Fatalf("second run: %v, %v; want no change", res.Changes, err)
	}
	for _, c := range a.mutatingSince() {
		if !strings.HasPrefix(c, "cloudwatch:") {
			t.Fatalf("second run made mutating call %s", c)
		}
	}
}

var columnScenarios = []scenario{
	{"governance: every column tagged, unclassified ones reported, then converged", func(t *testing.T, a *account) {
		seedLake(t, a)
		step := governedTagOutput(a, governance())
		res, err := step.Converge(ctx())
		if err != nil {
			t.Fatal(err)
		}
		wantTags(t, columnTags(t, a, "customers", "id", "email", "phone_number", "nickname"),
			map[string]string{"id": "public", "email": "pii", "phone_number": "pii", "nickname": "unclassified"})
		wantTags(t, columnTags(t, a, "products", "id", "name", "support_phone"),
			map[string]string{"id": "public", "name": "public", "support_phone": "internal"})
		if res.Columns != 7 || len(res.Unclassified) != 1 || res.Unclassified[0].Column != "nickname" ||
			!strings.Contains(res.Unclassified[0].Fix, `"customers.nickname"`) {
			t.Fatalf("result %+v", res)
		}
		// One AddLFTagsToResource per table and value, with the request as
		// sent: the column resource, one key, one value.
		if !slices.Contains(res.Changes, "tagged columns email, phone_number of table workflow_kthr01_customers sensitivity=pii") {
			t.Fatalf("changes %v", res.Changes)
		}
		convergesAccess(t, a, step)
	}},
	{"governance: a removed or changed column tag is put back", func(t *testing.T, a *account) {
		seedLake(t, a)
		step := governedTagOutput(a, governance())
		mustRun(t, step)
		cols := &types.Resource{TableWithColumns: &types.TableWithColumnsResource{DatabaseName: aws.String(database), Name: aws.String(tablePrefix + "customers"), ColumnNames: []string{"email"}}}
		if _, err := a.SeedLF.RemoveLFTagsFromResource(ctx(), &lf.RemoveLFTagsFromResourceInput{Resource: cols, LFTags: []types.LFTagPair{{TagKey: aws.String("sensitivity"), TagValues: []string{"pii"}}}}); err != nil {
			t.Fatal(err)
		}
		cols.TableWithColumns.ColumnNames = []string{"phone_number"}
		if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{Resource: cols, LFTags: []types.LFTagPair{{TagKey: aws.String("sensitivity"), TagValues: []string{"public"}}}}); err != nil {
			t.Fatal(err)
		}
		changes := mustRun(t, step)
		if !slices.Contains(changes, "tagged columns email, phone_number of table workflow_kthr01_customers sensitivity=pii (phone_number was public)") {
			t.Fatalf("changes %v", changes)
		}
		wantTags(t, columnTags(t, a, "customers", "email", "phone_number"), map[string]string{"email": "pii", "phone_number": "pii"})
		convergesAccess(t, a, step)
	}},
	{"governance: schema changes after a run", func(t *testing.T, a *account) {
		seedLake(t, a)
		step := governedTagOutput(a, governance())
		mustRun(t, step)
		// The import keeps a column the source dropped (NULL from then
		// on), adds a renamed column under its new name, and keeps a
		// column whose type widened: infra/glue's schema-change test
		// (test_schema_changes_reach_the_lake) shows the lake's columns.
		putTable(t, a, "customers", "id", "email", "phone_number", "nickname", "mobile_phone", "loyalty_tier")
		// A column of an earlier Iceberg schema (dropped or renamed by
		// hand in the lake) stays in Glue, marked not current: no query
		// sees it, and no rule has to classify it.
		addOldSchemaColumn(t, a, "customers", "legacy_ssn")
		res, err := step.Converge(ctx())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"tagged columns mobile_phone of table workflow_kthr01_customers sensitivity=pii",
			"tagged columns loyalty_tier of table workflow_kthr01_customers sensitivity=unclassified",
		}
		if !slices.Equal(res.Changes, want) {
			t.Fatalf("changes %v, want %v (only the new columns)", res.Changes, want)
		}
		if len(res.Unclassified) != 2 || res.Unclassified[1].Column != "loyalty_tier" {
			t.Fatalf("unclassified %+v", res.Unclassified)
		}
		convergesAccess(t, a, step)
	}},
	{"governance: a rule that matches nothing is a ConfigError before any change", func(t *testing.T, a *account) {
		seedLake(t, a)
		s := governance(access.Rule{Value: "pii", Pattern: "%.email", Field: "governance.columns.pii[0]"}, access.Rule{Value: "pii", Pattern: "%.ssn", Field: "governance.columns.pii[1]"})
		step := governedTagOutput(a, s)
		step.Tag = analystTag
		a.markCalls()
		_, err := step.Columns.Run(ctx())
		ce := wantErr[*steperr.ConfigError](t, err, "governance.columns.pii[1]", "matches no column", "customers, products")
		if ce.Field != "governance.columns.pii[1]" {
			t.Fatalf("field %q", ce.Field)
		}
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls before the ConfigError: %v", m)
		}
	}},
	{"governance: a column in two classes is a ConfigError naming both rules", func(t *testing.T, a *account) {
		seedLake(t, a)
		s := governance(access.Rule{Value: "pii", Pattern: "%phone%", Field: "governance.columns.pii[0]"}, access.Rule{Value: "public", Pattern: "products.%", Field: "governance.columns.public[0]"})
		_, err := governedTagOutput(a, s).Run(ctx())
		wantErr[*steperr.ConfigError](t, err, "governance.columns.public[0]", "support_phone is in two classes", "governance.columns.pii[0]")
	}},
	{"governance: the unclassified count is published, zero included", func(t *testing.T, a *account) {
		seedLake(t, a)
		step := governedTagOutput(a, governance())
		cw := newCBORStubCloudWatch(a)
		step.Metrics = &UnclassifiedMetric{CloudWatch: cw, Namespace: "lakeforge"}
		mustRun(t, step)
		// Every rule classifies: the next run publishes zero.
		step.Columns.Sensitivity.Rules = append(step.Columns.Sensitivity.Rules, access.Rule{Value: "internal", Pattern: "customers.nickname", Field: "governance.columns.internal[1]"})
		mustRun(t, step)
		if len(cw.inputs) != 2 {
			t.Fatalf("%d PutMetricData calls, want 2", len(cw.inputs))
		}
		for i, want := range []float64{1, 0} {
			in := cw.inputs[i]
			d := in.MetricData[0]
			if aws.ToString(in.Namespace) != "lakeforge" || len(in.MetricData) != 1 || aws.ToString(d.MetricName) != UnclassifiedColumnsMetric ||
				len(d.Dimensions) != 1 || aws.ToString(d.Dimensions[0].Name) != "Database" || aws.ToString(d.Dimensions[0].Value) != database ||
				aws.ToFloat64(d.Value) != want || d.Unit != cwtypes.StandardUnitCount {
				t.Fatalf("run %d published %+v, want %s=%v for database %s", i+1, d, UnclassifiedColumnsMetric, want, database)
			}
		}
	}},
	{"governance: the columns VerifyQuery probes are written beside the run's manifest", func(t *testing.T, a *account) {
		seedLake(t, a)
		srv := motoserver.Current(t)
		seed := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
		if _, err := seed.CreateBucket(ctx(), &s3.CreateBucketInput{Bucket: aws.String("lake-bucket")}); err != nil {
			t.Fatal(err)
		}
		step := governedTagOutput(a, governance())
		step.Probes = &ProbeRecorder{S3: s3.NewFromConfig(a.Rec.Attach(srv.Config()), func(o *s3.Options) { o.UsePathStyle = true }),
			Bucket: "lake-bucket", RunsPrefix: "lake/_lakeforge_runs/", AnalystValues: []string{"public", "internal"}, Grant: "source=product AND sensitivity in (public, internal)"}
		if _, err := step.ConvergeRun(ctx(), "wr_7"); err != nil {
			t.Fatal(err)
		}
		got, err := seed.GetObject(ctx(), &s3.GetObjectInput{Bucket: aws.String("lake-bucket"), Key: aws.String("lake/_lakeforge_runs/wr_7/columns.json")})
		if err != nil {
			t.Fatal(err)
		}
		var p access.ColumnProbes
		if err := json.NewDecoder(got.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		byTable := map[string]access.TableProbe{}
		for _, tp := range p.Tables {
			byTable[tp.Table] = tp
		}
		cust := byTable[tablePrefix+"customers"]
		// The analysts read public and internal columns; pii and
		// unclassified ones are theirs to be refused, classified first.
		if p.RunID != "wr_7" || len(cust.Allowed) != 1 || cust.Allowed[0].Column != "id" ||
			len(cust.Denied) != 3 || cust.Denied[0].Column != "email" || cust.Denied[1].Column != "phone_number" || cust.Denied[2] != (access.ProbeColumn{Column: "nickname", Value: "unclassified"}) {
			t.Fatalf("probes %+v", p)
		}
		if prod := byTable[tablePrefix+"products"]; len(prod.Allowed) != 1 || len(prod.Denied) != 0 {
			t.Fatalf("products probes %+v", prod)
		}
	}},
	{"governance: Lake Formation's per-tag failures are a PermanentError naming the columns", func(t *testing.T, a *account) {
		// moto checks only the key: a missing key is its one failure.
		seedOutputDatabase(t, a, true)
		putTable(t, a, "customers", "id", "email")
		_, err := governedTagOutput(a, governance(access.Rule{Value: "pii", Pattern: "%.email", Field: "governance.columns.pii[0]"})).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "sensitivity=", "not assigned", "workflow_kthr01_customers")
	}},
}

// cborStubCloudWatch is the real CloudWatch client, recorded, sending to a
// local answer instead of moto: the SDK speaks Smithy RPC v2 CBOR to
// CloudWatch, which moto 5.2.5 answers with HTTP 404 (pkg/verify's moto
// tier and docs/aws-behaviour.md say so). It keeps the inputs sent.
type cborStubCloudWatch struct {
	*cloudwatch.Client
	inputs []*cloudwatch.PutMetricDataInput
}

func newCBORStubCloudWatch(a *account) *cborStubCloudWatch {
	answer := smithyhttp.ClientDoFunc(func(r *http.Request) (*http.Response, error) {
		h := http.Header{}
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	cfg := a.Rec.Attach(aws.Config{Region: motoserver.Region, Credentials: aws.AnonymousCredentials{}})
	return &cborStubCloudWatch{Client: cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.HTTPClient = answer; o.BaseEndpoint = aws.String("http://127.0.0.1:9") })}
}

func (c *cborStubCloudWatch) PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	c.inputs = append(c.inputs, in)
	return c.Client.PutMetricData(ctx, in, o...)
}

// TestSchemaChangesOnTheImportTier gives TagOutput, on moto, the lake
// columns the import leaves after each schema change of
// infra/glue/fixtures/schema_changes.json (checked on local Spark against
// PostgreSQL by infra/glue/schema_changes_test.py), and checks the tags
// docs/governance.md ("Schema changes") promises: new columns classified
// or unclassified, a renamed column classified under its new name, a
// removed or retyped column keeping its tag, a failed import changing
// nothing.
func TestSchemaChangesOnTheImportTier(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "infra", "glue", "fixtures", "schema_changes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Table string `json:"table"`
		Steps []struct {
			Change  string     `json:"change"`
			Columns [][]string `json:"columns"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		changes      []string
		unclassified []string
	}{
		"first import": {[]string{
			"tagged columns id of table workflow_kthr01_customers sensitivity=public",
			"tagged columns email, phone_number of table workflow_kthr01_customers sensitivity=pii",
			"tagged columns nickname of table workflow_kthr01_customers sensitivity=unclassified",
		}, []string{"nickname"}},
		"column added":              {[]string{"tagged columns loyalty_tier of table workflow_kthr01_customers sensitivity=unclassified"}, []string{"nickname", "loyalty_tier"}},
		"column renamed":            {[]string{"tagged columns mobile_phone of table workflow_kthr01_customers sensitivity=pii"}, []string{"nickname", "loyalty_tier"}},
		"column removed":            {nil, []string{"nickname", "loyalty_tier"}},
		"type widened":              {nil, []string{"nickname", "loyalty_tier"}},
		"type changed incompatibly": {nil, []string{"nickname", "loyalty_tier"}},
	}
	a := newAccount(t)
	seedOutputDatabase(t, a, true)
	createTag(t, a, "sensitivity", "public", "internal", "pii", "unclassified")
	step := governedTagOutput(a, governance(
		access.Rule{Value: "pii", Pattern: "%.email", Field: "governance.columns.pii[0]"},
		access.Rule{Value: "pii", Pattern: "%phone%", Field: "governance.columns.pii[1]"},
		access.Rule{Value: "public", Pattern: "customers.id", Field: "governance.columns.public[0]"},
	))
	for i, s := range fx.Steps {
		w, ok := want[s.Change]
		if !ok {
			t.Fatalf("schema_changes.json has a change %q this test does not know", s.Change)
		}
		var cols []string
		for _, c := range s.Columns {
			cols = append(cols, c[0])
		}
		putTable(t, a, fx.Table, cols...)
		res, err := step.Converge(ctx())
		if err != nil {
			t.Fatalf("%s: %v", s.Change, err)
		}
		if i == 0 {
			res.Changes = res.Changes[1:] // the database's analyst tag
		}
		if !slices.Equal(res.Changes, w.changes) && !(len(res.Changes) == 0 && len(w.changes) == 0) {
			t.Fatalf("%s: changes %q, want %q", s.Change, res.Changes, w.changes)
		}
		var un []string
		for _, u := range res.Unclassified {
			un = append(un, u.Column)
		}
		if !slices.Equal(un, w.unclassified) {
			t.Fatalf("%s: unclassified %v, want %v", s.Change, un, w.unclassified)
		}
	}
	wantTags(t, columnTags(t, a, fx.Table, "phone_number", "mobile_phone", "nickname", "id"),
		map[string]string{"phone_number": "pii", "mobile_phone": "pii", "nickname": "unclassified", "id": "public"})
}
