package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

const (
	bucket     = "lake-bucket"
	runsPrefix = "lake/" + verify.RunsFolder + "/"
	analyst    = "arn:aws:iam::123456789012:role/lakeforge-analyst"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Emulator tier: moto serves S3 (the manifest), STS (assuming the analyst
// role) and Athena (count queries; results are queued through moto's API,
// since moto runs no SQL). CloudWatch is a recording stub here: the SDK's
// CloudWatch client speaks the Smithy RPC v2 CBOR protocol, which moto
// 5.2 does not serve (it answers 404), so the stub records the
// PutMetricData calls the handler makes and their figures. Queries that
// fail in Athena cannot be produced by moto either: see verify_test.go.
type env struct {
	srv *motoserver.Server
	rec *awscalls.Recorder
	v   *verify.Verifier
	s3  *s3.Client
	cw  *recordingCW
}

// recordingCW keeps the metric data the handler publishes.
type recordingCW struct {
	inputs []*cloudwatch.PutMetricDataInput
}

func (c *recordingCW) PutMetricData(_ context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	c.inputs = append(c.inputs, in)
	return &cloudwatch.PutMetricDataOutput{}, nil
}

// actions are the IAM actions of the recorded calls.
func (c *recordingCW) actions() []string {
	if len(c.inputs) == 0 {
		return nil
	}
	return []string{awscalls.Action("CloudWatch", "PutMetricData")}
}

func setup(t *testing.T) env {
	srv := motoserver.Current(t)
	srv.Reset(t)
	ctx := motoserver.Context(t)
	plain := srv.Config()
	s3c := s3.NewFromConfig(plain, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	ath := athena.NewFromConfig(plain)
	if _, err := ath.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("lakeforge")}); err != nil {
		t.Fatal(err)
	}
	rec := &awscalls.Recorder{}
	recorded := rec.Attach(plain)
	cw := &recordingCW{}
	// As in main.go: Athena acts as the analyst; only the function's own
	// calls (S3, STS, CloudWatch) are recorded for its role's golden file.
	analystCreds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(recorded), analyst))
	v := &verify.Verifier{
		S3:          s3.NewFromConfig(recorded, func(o *s3.Options) { o.UsePathStyle = true }),
		Athena:      athena.NewFromConfig(plain, func(o *athena.Options) { o.Credentials = analystCreds }),
		CloudWatch:  cw,
		Bucket:      bucket,
		RunsPrefix:  runsPrefix,
		Database:    "kthr01",
		TablePrefix: "workflow_kthr01_",
		Workgroup:   "lakeforge",
		AnalystRole: analyst,
		Namespace:   "lakeforge",
		Concurrency: 1, // moto hands out queued results in query order
		PollEvery:   time.Millisecond,
		Log:         quiet,
	}
	return env{srv: srv, rec: rec, v: v, s3: s3c, cw: cw}
}

func (e env) putManifest(t *testing.T, runID string, tables map[string]int64) {
	m := verify.Manifest{WorkflowName: "lakeforge-import", RunID: runID, Mode: "snapshot"}
	for _, name := range []string{"orders", "products"} {
		if n, ok := tables[name]; ok {
			m.Tables = append(m.Tables, verify.ManifestTable{Name: name, SourceTable: "kthr01_public_" + name, RowsWritten: n, RowsTotal: n})
		}
	}
	body, _ := json.Marshal(m)
	if _, err := e.s3.PutObject(motoserver.Context(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(verify.ManifestKey(runsPrefix, runID)), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// queueCounts queues one COUNT(*) result per query, header row first, as
// Athena answers.
func (e env) queueCounts(t *testing.T, counts ...int64) {
	var results []any
	for _, n := range counts {
		results = append(results, map[string]any{
			"rows": []any{
				map[string]any{"Data": []any{map[string]any{"VarCharValue": "_col0"}}},
				map[string]any{"Data": []any{map[string]any{"VarCharValue": strconv.FormatInt(n, 10)}}},
			},
			"column_info": []any{map[string]any{"Name": "_col0", "Type": "bigint"}},
		})
	}
	body, _ := json.Marshal(map[string]any{"results": results})
	resp, err := http.Post(e.srv.URL+"/moto-api/static/athena/query-results", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("queue results: %s", resp.Status)
	}
}

func (e env) metricNames(t *testing.T) []string {
	var names []string
	for _, in := range e.cw.inputs {
		if aws.ToString(in.Namespace) != "lakeforge" {
			t.Fatalf("namespace %s", aws.ToString(in.Namespace))
		}
		for _, d := range in.MetricData {
			names = append(names, aws.ToString(d.MetricName))
		}
	}
	return names
}

func TestCountsMatchOnMoto(t *testing.T) {
	e := setup(t)
	e.putManifest(t, "wr_1", map[string]int64{"orders": 7, "products": 42})
	e.queueCounts(t, 7, 42)
	out, err := e.v.Verify(motoserver.Context(t), verify.Input{RunID: "wr_1"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Verified != 2 || out.Tables[1].Table != "workflow_kthr01_products" || out.Tables[1].Queried != 42 {
		t.Fatalf("%+v", out)
	}
	names := strings.Join(e.metricNames(t), ",")
	for _, want := range []string{"ImportedRows", "QueriedRows", "TablesFailingVerification"} {
		if !strings.Contains(names, want) {
			t.Fatalf("metrics %s lack %s", names, want)
		}
	}
	actions := append(e.rec.Actions(), e.cw.actions()...)

	// Counts that differ fail, name the table and both counts, and the
	// figures are published anyway.
	e.rec.Reset()
	e.putManifest(t, "wr_2", map[string]int64{"orders": 7, "products": 42})
	e.queueCounts(t, 7, 40)
	_, err = e.v.Verify(motoserver.Context(t), verify.Input{RunID: "wr_2"})
	var ve *steperr.VerificationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(err.Error(), "workflow_kthr01_products: Athena counts 40 rows, the import recorded 42") {
		t.Fatalf("%v", err)
	}
	if n := len(e.cw.inputs); n != 2 {
		t.Fatalf("%d PutMetricData calls, want one per verification, also the failed one", n)
	}

	// Within the tolerance passes.
	e.v.Tolerance = 0.05
	e.queueCounts(t, 7, 40)
	if _, err := e.v.Verify(motoserver.Context(t), verify.Input{RunID: "wr_2"}); err != nil {
		t.Fatalf("5%% tolerance: %v", err)
	}

	// No manifest: the job never recorded the run.
	_, err = e.v.Verify(motoserver.Context(t), verify.Input{RunID: "wr_none"})
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "no row counts recorded for run wr_none") {
		t.Fatalf("%v", err)
	}
	actions = append(actions, e.rec.Actions()...)
	awscalls.CheckGolden(t, filepath.Join("..", "..", awscalls.GoldenPath("verify-query")), actions)
}

var _ verify.CloudWatchAPI = (*recordingCW)(nil)

// Athena resolves a query without a database context in the `default`
// database, which the analyst may not see in Lake Formation ("The DESCRIBE
// permission is required on the default database"): every query VerifyQuery
// starts names the lake database as its context, read back from moto.
func TestQueriesRunInTheLakeDatabaseContextOnMoto(t *testing.T) {
	e := setup(t)
	ctx := motoserver.Context(t)
	e.putManifest(t, "wr_1", map[string]int64{"orders": 7, "products": 42})
	e.queueCounts(t, 7, 42)
	if _, err := e.v.Verify(ctx, verify.Input{RunID: "wr_1"}); err != nil {
		t.Fatal(err)
	}
	ath := athena.NewFromConfig(e.srv.Config())
	list, err := ath.ListQueryExecutions(ctx, &athena.ListQueryExecutionsInput{WorkGroup: aws.String("lakeforge")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.QueryExecutionIds) != 2 {
		t.Fatalf("%d query executions, want the 2 counts", len(list.QueryExecutionIds))
	}
	for _, id := range list.QueryExecutionIds {
		ex, err := ath.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		qc := ex.QueryExecution.QueryExecutionContext
		if qc == nil || aws.ToString(qc.Database) != "kthr01" || aws.ToString(qc.Catalog) != "AwsDataCatalog" {
			t.Errorf("query %q runs in context %+v, want database kthr01 of catalog AwsDataCatalog", aws.ToString(ex.QueryExecution.Query), qc)
		}
	}
}
