package importrun_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

const (
	workflow = "lakeforge-import"
	table    = "lakeforge-import-tokens"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Emulator tier: the handlers against moto's Glue, DynamoDB and Step
// Functions, with the requests the binaries send. moto keeps every
// workflow run RUNNING, returns no Statistics and no graph, and accepts
// any task token (its SendTaskSuccess/Failure do nothing): completion,
// graph matching and TaskTimedOut are in the unit tier (importrun_test.go).
func setup(t *testing.T) (*awscalls.Recorder, *importrun.Importer, *importrun.DynamoTokens) {
	srv := motoserver.Current(t)
	srv.Reset(t)
	ctx := motoserver.Context(t)
	admin := glue.NewFromConfig(srv.Config())
	if _, err := admin.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(workflow), MaxConcurrentRuns: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// The table as the stack defines it: runId HASH, executionName RANGE.
	if _, err := dynamodb.NewFromConfig(srv.Config()).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          ddb.BillingModePayPerRequest,
		AttributeDefinitions: []ddb.AttributeDefinition{{AttributeName: aws.String(importrun.AttrRunID), AttributeType: ddb.ScalarAttributeTypeS}, {AttributeName: aws.String(importrun.AttrExecutionName), AttributeType: ddb.ScalarAttributeTypeS}},
		KeySchema:            []ddb.KeySchemaElement{{AttributeName: aws.String(importrun.AttrRunID), KeyType: ddb.KeyTypeHash}, {AttributeName: aws.String(importrun.AttrExecutionName), KeyType: ddb.KeyTypeRange}},
	}); err != nil {
		t.Fatal(err)
	}
	rec := &awscalls.Recorder{}
	cfg := rec.Attach(srv.Config())
	tokens := &importrun.DynamoTokens{DB: dynamodb.NewFromConfig(cfg), Table: table}
	im := &importrun.Importer{Glue: glue.NewFromConfig(cfg), Tokens: tokens, Workflow: workflow, Log: quiet}
	return rec, im, tokens
}

func TestStartThenAttachKeepsOneTokenPerExecutionOnMoto(t *testing.T) {
	rec, im, tokens := setup(t)
	ctx := motoserver.Context(t)
	first, err := im.Start(ctx, importrun.StartInput{ExecutionName: "exec-1", TaskToken: token + "1"})
	if err != nil || first.RunID == "" || first.Attached {
		t.Fatalf("first start %+v %v", first, err)
	}
	// A second execution (or a retried one) follows the run in progress.
	second, err := im.Start(ctx, importrun.StartInput{ExecutionName: "exec-2", TaskToken: token + "2"})
	if err != nil || !second.Attached || second.RunID != first.RunID {
		t.Fatalf("second start %+v %v, want attached to %s", second, err, first.RunID)
	}
	// exec-1's StartImport retried: its newer token replaces the old one.
	if _, err := im.Start(ctx, importrun.StartInput{ExecutionName: "exec-1", TaskToken: token + "3"}); err != nil {
		t.Fatal(err)
	}
	startActions := rec.Actions()
	list, err := tokens.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("tokens %+v %v", list, err)
	}
	byExec := map[string]importrun.Pending{}
	for _, p := range list {
		byExec[p.ExecutionName] = p
	}
	if byExec["exec-1"].TaskToken != token+"3" || byExec["exec-2"].TaskToken != token+"2" || !byExec["exec-2"].Attached || byExec["exec-1"].RunID != first.RunID {
		t.Fatalf("tokens %+v", byExec)
	}
	// Deleting with an outdated token keeps the newer one.
	stale := byExec["exec-1"]
	stale.TaskToken = token + "1"
	if err := tokens.Delete(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if list, _ := tokens.List(ctx); len(list) != 2 {
		t.Fatalf("a stale delete removed a token: %+v", list)
	}
	awscalls.CheckGolden(t, filepath.Join("..", "..", awscalls.GoldenPath("start-import")), startActions)
}

// runFinished is moto's Glue with the run finished: moto keeps runs
// RUNNING, so the judgement is stubbed and the token table and the
// callback API are moto's.
type runFinished struct {
	real *glue.Client
	done bool
}

func (r *runFinished) GetWorkflowRun(ctx context.Context, in *glue.GetWorkflowRunInput, opts ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error) {
	out, err := r.real.GetWorkflowRun(ctx, in, opts...)
	if err != nil || !r.done {
		return out, err
	}
	out.Run.Status = types.WorkflowRunStatusCompleted
	out.Run.Statistics = &types.WorkflowRunStatistics{TotalActions: 1, SucceededActions: 1}
	return out, nil
}

func (r *runFinished) GetWorkflowRuns(ctx context.Context, in *glue.GetWorkflowRunsInput, opts ...func(*glue.Options)) (*glue.GetWorkflowRunsOutput, error) {
	return r.real.GetWorkflowRuns(ctx, in, opts...)
}

// TestClaimIsOncePerRunOnMoto: the tagging claim is a conditional PutItem
// (attribute_not_exists) in the token table: the first claim of a run wins,
// a second is refused, and List never returns the claim (it has no token).
func TestClaimIsOncePerRunOnMoto(t *testing.T) {
	_, im, tokens := setup(t)
	ctx := motoserver.Context(t)
	if _, err := im.Start(ctx, importrun.StartInput{ExecutionName: "exec-1", TaskToken: token + "1"}); err != nil {
		t.Fatal(err)
	}
	first, err := tokens.Claim(ctx, "wr_claimed")
	if err != nil || !first {
		t.Fatalf("first claim: %v %v", first, err)
	}
	second, err := tokens.Claim(ctx, "wr_claimed")
	if err != nil || second {
		t.Fatalf("second claim: %v %v; want refused", second, err)
	}
	list, err := tokens.List(ctx)
	if err != nil || len(list) != 1 || list[0].ExecutionName != "exec-1" {
		t.Fatalf("List = %+v, %v; want only the waiting execution", list, err)
	}
}

func TestFallbackReleasesOnMoto(t *testing.T) {
	_, im, tokens := setup(t)
	ctx := motoserver.Context(t)
	started, err := im.Start(ctx, importrun.StartInput{ExecutionName: "exec-1", TaskToken: token})
	if err != nil {
		t.Fatal(err)
	}
	// The handler's own clients, recorded apart from StartImport's.
	rec := &awscalls.Recorder{}
	cfg := rec.Attach(motoserver.Current(t).Config())
	g := &runFinished{real: glue.NewFromConfig(cfg)}
	inv := &stubInvoker{}
	r := &importrun.Releaser{Glue: g, SFN: sfn.NewFromConfig(cfg), Tokens: &importrun.DynamoTokens{DB: dynamodb.NewFromConfig(cfg), Table: table}, Workflow: workflow, ImportJob: "lakeforge-import-job", Timeout: 6 * time.Hour, Log: quiet,
		Tag: inv, TagFunction: "tag-output"}
	tick := json.RawMessage(`{"version":"0","id":"t","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-03-10T10:40:00Z","region":"us-east-1","resources":[],"detail":{}}`)
	out, err := r.Handle(ctx, tick)
	if err != nil || len(out.Released) != 0 {
		t.Fatalf("a RUNNING run was released: %+v %v", out, err)
	}
	// moto has no graph: a job event cannot be matched to the run there,
	// nor to any recent run (GetWorkflowRuns), so it tags nothing.
	ev := jobEvent("SUCCEEDED", "jr_1", "")
	if out, err := r.Handle(ctx, ev); err != nil || len(out.Released) != 0 || out.Tagged || len(inv.calls) != 0 {
		t.Fatalf("event on moto: %+v %v", out, err)
	}
	g.done = true
	out, err = r.Handle(ctx, tick)
	if err != nil || len(out.Released) != 1 || out.Released[0].RunID != started.RunID || out.Released[0].Result != "success" {
		t.Fatalf("fallback on the finished run: %+v %v", out, err)
	}
	if list, _ := tokens.List(ctx); len(list) != 0 {
		t.Fatalf("token kept after release: %+v", list)
	}
	// A failed run is released with SendTaskFailure.
	if err := tokens.Put(ctx, importrun.Pending{RunID: started.RunID, ExecutionName: "exec-2", TaskToken: token, WorkflowName: workflow, Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	g.done = false
	r.Timeout = time.Nanosecond // moto's run has been RUNNING for longer
	if out, err := r.Handle(ctx, tick); err != nil || len(out.Released) != 1 || out.Released[0].Result != "failure" {
		t.Fatalf("timed-out run: %+v %v", out, err)
	}
	// The TagOutput invocation (lambda:InvokeFunction) cannot run on moto,
	// which would need to execute the function: the unit tier covers it.
	awscalls.CheckGolden(t, filepath.Join("..", "..", awscalls.GoldenPath("import-events")), append(rec.Actions(), "lambda:InvokeFunction"))
}

func TestMissingWorkflowOrTableOnMoto(t *testing.T) {
	_, im, tokens := setup(t)
	ctx := motoserver.Context(t)
	im.Workflow = "not-deployed"
	_, err := im.Start(ctx, importrun.StartInput{ExecutionName: "e", TaskToken: token})
	var pe *steperr.PermanentError
	if !errors.As(err, &pe) || pe.Fix == "" {
		t.Fatalf("want PermanentError with a fix, got %T %v", err, err)
	}
	tokens.Table = "no-such-table"
	if _, err := tokens.List(ctx); !errors.As(err, &pe) || pe.Fix == "" {
		t.Fatalf("missing table: %T %v", err, err)
	}
}
