package importrun_test

// Unit tier: stubbed clients, for what moto cannot do (finish a run,
// report Statistics and a graph, refuse a concurrent run, answer
// TaskTimedOut for a closed task) and for injected faults.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

const job = "lakeforge-import-job"

type stubGlue struct {
	lastRun *types.WorkflowRun
	run     *types.WorkflowRun
	// recent answers GetWorkflowRuns; nil answers with run (when set).
	recent   []types.WorkflowRun
	startErr error
	getErr   error
	started  int
	reads    []*glue.GetWorkflowRunInput
}

func (s *stubGlue) GetWorkflow(context.Context, *glue.GetWorkflowInput, ...func(*glue.Options)) (*glue.GetWorkflowOutput, error) {
	return &glue.GetWorkflowOutput{Workflow: &types.Workflow{Name: aws.String(workflow), LastRun: s.lastRun}}, nil
}

func (s *stubGlue) StartWorkflowRun(context.Context, *glue.StartWorkflowRunInput, ...func(*glue.Options)) (*glue.StartWorkflowRunOutput, error) {
	s.started++
	if s.startErr != nil {
		err := s.startErr
		s.startErr = nil
		return nil, err
	}
	return &glue.StartWorkflowRunOutput{RunId: aws.String("wr_new")}, nil
}

func (s *stubGlue) GetWorkflowRun(_ context.Context, in *glue.GetWorkflowRunInput, _ ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error) {
	s.reads = append(s.reads, in)
	if s.getErr != nil {
		return nil, s.getErr
	}
	return &glue.GetWorkflowRunOutput{Run: s.run}, nil
}

func (s *stubGlue) GetWorkflowRuns(context.Context, *glue.GetWorkflowRunsInput, ...func(*glue.Options)) (*glue.GetWorkflowRunsOutput, error) {
	if s.recent == nil && s.run != nil {
		return &glue.GetWorkflowRunsOutput{Runs: []types.WorkflowRun{*s.run}}, nil
	}
	return &glue.GetWorkflowRunsOutput{Runs: s.recent}, nil
}

type memTokens struct {
	items   []importrun.Pending
	putErr  error
	claimed map[string]bool
}

func (m *memTokens) Claim(_ context.Context, runID string) (bool, error) {
	if m.claimed == nil {
		m.claimed = map[string]bool{}
	}
	if m.claimed[runID] {
		return false, nil
	}
	m.claimed[runID] = true
	return true, nil
}

func (m *memTokens) Put(_ context.Context, p importrun.Pending) error {
	if m.putErr != nil {
		return m.putErr
	}
	m.items = append(m.items, p)
	return nil
}
func (m *memTokens) List(context.Context) ([]importrun.Pending, error) { return m.items, nil }
func (m *memTokens) Delete(_ context.Context, p importrun.Pending) error {
	for i, it := range m.items {
		if it.RunID == p.RunID && it.ExecutionName == p.ExecutionName && it.TaskToken == p.TaskToken {
			m.items = append(m.items[:i], m.items[i+1:]...)
			return nil
		}
	}
	return nil
}

// stubSFN answers SendTask* with err (nil: accepted) and records the calls.
type stubSFN struct {
	err        error
	successes  []*sfn.SendTaskSuccessInput
	failures   []*sfn.SendTaskFailureInput
	heartbeats []*sfn.SendTaskHeartbeatInput
}

func (s *stubSFN) SendTaskHeartbeat(_ context.Context, in *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	s.heartbeats = append(s.heartbeats, in)
	return &sfn.SendTaskHeartbeatOutput{}, s.err
}

func (s *stubSFN) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	s.successes = append(s.successes, in)
	return &sfn.SendTaskSuccessOutput{}, s.err
}

func (s *stubSFN) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	s.failures = append(s.failures, in)
	return &sfn.SendTaskFailureOutput{}, s.err
}

type stubInvoker struct{ calls []*lambda.InvokeInput }

func (s *stubInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	s.calls = append(s.calls, in)
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

var t0 = time.Date(2026, 3, 10, 9, 45, 0, 0, time.UTC)

const token = "AAAAKgAAAAIAAAAAAAAAAexampletoken"

func run(status types.WorkflowRunStatus, stats *types.WorkflowRunStatistics) *types.WorkflowRun {
	return &types.WorkflowRun{Name: aws.String(workflow), WorkflowRunId: aws.String("wr_1"), StartedOn: aws.Time(t0), Status: status, Statistics: stats}
}

// withJobRun adds the graph GetWorkflowRun returns with IncludeGraph: the
// import job's node and its job run.
func withJobRun(r *types.WorkflowRun, jobRunID string, state types.JobRunState) *types.WorkflowRun {
	r.Graph = &types.WorkflowGraph{Nodes: []types.Node{{Type: types.NodeTypeJob, Name: aws.String(job),
		JobDetails: &types.JobNodeDetails{JobRuns: []types.JobRun{{Id: aws.String(jobRunID), JobRunState: state}}}}}}
	return r
}

func jobEvent(state, jobRunID, message string) json.RawMessage {
	return importrun.JobStateChangeEvent{ID: "e-1", Account: "123456789012", Region: "us-east-1", Time: time.Date(2026, 3, 10, 10, 15, 0, 0, time.UTC),
		JobName: job, JobRunID: jobRunID, State: state, Message: message}.JSON()
}

func releaser(g *stubGlue, s *stubSFN, tokens *memTokens, now time.Time) (*importrun.Releaser, *stubInvoker) {
	inv := &stubInvoker{}
	return &importrun.Releaser{Glue: g, SFN: s, Tokens: tokens, Tag: inv, TagFunction: "tag-output", Workflow: workflow, ImportJob: job,
		Timeout: 360 * time.Minute, Log: quiet, Now: func() time.Time { return now }}, inv
}

func pending() *memTokens {
	return &memTokens{items: []importrun.Pending{{RunID: "wr_1", ExecutionName: "exec-1", TaskToken: token, WorkflowName: workflow, Since: t0}}}
}

func TestStartKeepsTheTokenUnderTheRunID(t *testing.T) {
	g := &stubGlue{}
	tokens := &memTokens{}
	im := &importrun.Importer{Glue: g, Tokens: tokens, Workflow: workflow, Log: quiet, Now: func() time.Time { return t0 }}
	out, err := im.Start(context.Background(), importrun.StartInput{ExecutionName: "exec-1", TaskToken: token})
	if err != nil || out.RunID != "wr_new" || out.Attached {
		t.Fatalf("%+v %v", out, err)
	}
	if len(tokens.items) != 1 || tokens.items[0] != (importrun.Pending{RunID: "wr_new", ExecutionName: "exec-1", TaskToken: token, WorkflowName: workflow, Since: t0}) {
		t.Fatalf("stored %+v", tokens.items)
	}
	if b, _ := json.Marshal(out); strings.Contains(string(b), token) {
		t.Fatalf("the answer (logged by Lambda) holds the token: %s", b)
	}
}

func TestStartRejectsABadPayload(t *testing.T) {
	im := &importrun.Importer{Glue: &stubGlue{}, Tokens: &memTokens{}, Workflow: workflow, Log: quiet}
	for field, in := range map[string]importrun.StartInput{
		"taskToken":     {ExecutionName: "e"},
		"executionName": {TaskToken: token},
	} {
		_, err := im.Start(context.Background(), in)
		var ie *steperr.InvalidInputError
		if !errors.As(err, &ie) || ie.Field != field {
			t.Errorf("want InvalidInputError on %s, got %v", field, err)
		}
	}
	_, err := im.Start(context.Background(), importrun.StartInput{ExecutionName: "e", TaskToken: strings.Repeat("t", 2049)})
	if err == nil || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("a token over 2048 characters: %v", err)
	}
}

func TestStartThatCannotKeepTheTokenFails(t *testing.T) {
	tokens := &memTokens{putErr: &steperr.TransientError{Op: "dynamodb:PutItem", Err: errors.New("throttled")}}
	im := &importrun.Importer{Glue: &stubGlue{}, Tokens: tokens, Workflow: workflow, Log: quiet}
	_, err := im.Start(context.Background(), importrun.StartInput{ExecutionName: "e", TaskToken: token})
	var te *steperr.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("want TransientError (the state retries, attaching to the run), got %v", err)
	}
}

func TestConcurrentStartAttaches(t *testing.T) {
	g := &stubGlue{startErr: &types.ConcurrentRunsExceededException{Message: aws.String("Concurrent runs exceeded")}}
	im := &importrun.Importer{Glue: &raceGlue{stubGlue: g}, Tokens: &memTokens{}, Workflow: workflow, Log: quiet}
	// The run appears between the read and the start.
	out, err := im.Start(context.Background(), importrun.StartInput{ExecutionName: "e", TaskToken: token})
	if err != nil || !out.Attached || out.RunID != "wr_1" {
		t.Fatalf("%+v %v", out, err)
	}
}

type raceGlue struct{ *stubGlue }

func (r *raceGlue) StartWorkflowRun(ctx context.Context, in *glue.StartWorkflowRunInput, o ...func(*glue.Options)) (*glue.StartWorkflowRunOutput, error) {
	out, err := r.stubGlue.StartWorkflowRun(ctx, in, o...)
	r.lastRun = run(types.WorkflowRunStatusRunning, nil)
	return out, err
}

func TestCompletedIsNotEnough(t *testing.T) {
	cases := []struct {
		name  string
		stats *types.WorkflowRunStatistics
		want  string
	}{
		{"failed job", &types.WorkflowRunStatistics{TotalActions: 1, FailedActions: 1}, "1 failed"},
		{"timed-out job", &types.WorkflowRunStatistics{TotalActions: 1, TimeoutActions: 1}, "1 timed-out"},
		{"stopped job", &types.WorkflowRunStatistics{TotalActions: 1, StoppedActions: 1}, "1 stopped"},
		{"errored job", &types.WorkflowRunStatistics{TotalActions: 2, SucceededActions: 1, ErroredActions: 1}, "1 failed"},
		{"trigger never fired", &types.WorkflowRunStatistics{TotalActions: 2, SucceededActions: 1}, "trigger"},
		{"no statistics", nil, "no Statistics"},
	}
	for _, c := range cases {
		v := importrun.JudgeRun(workflow, run(types.WorkflowRunStatusCompleted, c.stats), t0.Add(time.Hour), 6*time.Hour)
		if !v.Done || v.Failure == nil || !strings.Contains(v.Failure.Error(), c.want) || v.Failure.RunID != "wr_1" {
			t.Errorf("%s: %+v, want a failure mentioning %q", c.name, v, c.want)
		}
	}
	v := importrun.JudgeRun(workflow, run(types.WorkflowRunStatusCompleted, &types.WorkflowRunStatistics{TotalActions: 1, SucceededActions: 1}), t0, time.Hour)
	if !v.Done || v.Failure != nil || !v.Run.Completed {
		t.Fatalf("clean run %+v", v)
	}
}

func TestStoppedOrErrorRunFails(t *testing.T) {
	r := run(types.WorkflowRunStatusError, nil)
	r.ErrorMessage = aws.String("Concurrent runs exceeded")
	v := importrun.JudgeRun(workflow, r, t0, time.Hour)
	if v.Failure == nil || v.Failure.Status != "ERROR" || !strings.Contains(v.Failure.Error(), "Concurrent runs exceeded") {
		t.Fatalf("%+v", v)
	}
}

func TestRunningPastTheTimeoutFails(t *testing.T) {
	r := run(types.WorkflowRunStatusRunning, &types.WorkflowRunStatistics{TotalActions: 1, RunningActions: 1})
	if v := importrun.JudgeRun(workflow, r, t0.Add(359*time.Minute), 360*time.Minute); v.Done {
		t.Fatalf("before the deadline: %+v", v)
	}
	v := importrun.JudgeRun(workflow, r, t0.Add(361*time.Minute), 360*time.Minute)
	if v.Failure == nil || !strings.Contains(v.Failure.Error(), "import.waitTimeoutMinutes (360)") {
		t.Fatalf("after the deadline: %+v", v)
	}
}

func TestJobEventReleasesItsRunWithSuccess(t *testing.T) {
	g := &stubGlue{run: withJobRun(run(types.WorkflowRunStatusRunning, nil), "jr_1", types.JobRunStateSucceeded)}
	s := &stubSFN{}
	tokens := pending()
	r, inv := releaser(g, s, tokens, t0.Add(time.Hour))
	out, err := r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_1", "Job run succeeded"))
	if err != nil || len(out.Released) != 1 || out.Released[0].Result != "success" {
		t.Fatalf("%+v %v", out, err)
	}
	if len(s.successes) != 1 || aws.ToString(s.successes[0].TaskToken) != token {
		t.Fatalf("SendTaskSuccess calls %+v", s.successes)
	}
	var sent importrun.Run
	if err := json.Unmarshal([]byte(aws.ToString(s.successes[0].Output)), &sent); err != nil || sent.RunID != "wr_1" || !sent.Completed || sent.ReleasedBy != "event" {
		t.Fatalf("output %s", aws.ToString(s.successes[0].Output))
	}
	if !aws.ToBool(g.reads[0].IncludeGraph) || aws.ToString(g.reads[0].RunId) != "wr_1" {
		t.Fatalf("the run was read without its graph: %+v", g.reads[0])
	}
	if len(tokens.items) != 0 || len(inv.calls) != 0 {
		t.Fatalf("tokens %v, tag calls %d", tokens.items, len(inv.calls))
	}
}

func TestJobFailureEventsReleaseWithGluesMessage(t *testing.T) {
	for _, state := range []string{"FAILED", "TIMEOUT", "STOPPED"} {
		g := &stubGlue{run: withJobRun(run(types.WorkflowRunStatusRunning, nil), "jr_1", types.JobRunState(state))}
		s := &stubSFN{}
		r, inv := releaser(g, s, pending(), t0.Add(time.Hour))
		out, err := r.Handle(context.Background(), jobEvent(state, "jr_1", "ErrorMessage from Glue"))
		if err != nil || len(s.failures) != 1 || out.Released[0].Result != "failure" {
			t.Fatalf("%s: %+v %v", state, out, err)
		}
		f := s.failures[0]
		if aws.ToString(f.Error) != "ImportFailedError" || !strings.Contains(aws.ToString(f.Cause), "ended "+state+": ErrorMessage from Glue") {
			t.Fatalf("%s: SendTaskFailure %s / %s", state, aws.ToString(f.Error), aws.ToString(f.Cause))
		}
		if len(inv.calls) != 0 {
			t.Fatalf("%s: a failed run was tagged", state)
		}
	}
}

func TestEventOfAnotherRunReleasesNothingAndTagsThatRun(t *testing.T) {
	// The state machine waits for wr_1; wr_2 was started in the Glue console.
	other := withJobRun(run(types.WorkflowRunStatusCompleted, nil), "jr_other", types.JobRunStateSucceeded)
	other.WorkflowRunId = aws.String("wr_2")
	g := &stubGlue{run: withJobRun(run(types.WorkflowRunStatusRunning, nil), "jr_1", types.JobRunStateRunning),
		recent: []types.WorkflowRun{*other, *withJobRun(run(types.WorkflowRunStatusRunning, nil), "jr_1", types.JobRunStateRunning)}}
	s := &stubSFN{}
	tokens := pending()
	r, inv := releaser(g, s, tokens, t0.Add(time.Hour))
	out, err := r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_other", ""))
	if err != nil || len(out.Released) != 0 || len(s.successes)+len(s.failures) != 0 || len(tokens.items) != 1 {
		t.Fatalf("%+v %v", out, err)
	}
	if !out.Tagged || len(inv.calls) != 1 || aws.ToString(inv.calls[0].FunctionName) != "tag-output" || inv.calls[0].InvocationType != "Event" {
		t.Fatalf("the run outside the state machine was not tagged: %+v", inv.calls)
	}
	// issue 17 item 12: the same event delivered again tags nothing more.
	out, err = r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_other", ""))
	if err != nil || out.Tagged || len(inv.calls) != 1 || !strings.Contains(out.Ignored, "duplicate") {
		t.Fatalf("duplicate: %+v %v, %d tag calls", out, err, len(inv.calls))
	}
	// A failure of another run is not tagged and releases nothing either.
	out, err = r.Handle(context.Background(), jobEvent("FAILED", "jr_other", "boom"))
	if err != nil || len(out.Released) != 0 || out.Tagged || len(tokens.items) != 1 {
		t.Fatalf("%+v %v", out, err)
	}
}

// TestForeignOrDuplicateSucceededEventTagsNothing: issue 17 item 12. A
// SUCCEEDED event of a job run that belongs to no run of the workflow (the
// job started on its own), or a duplicate of the event that released a
// waiting execution (the state machine tags that run itself), must not
// invoke TagOutput.
func TestForeignOrDuplicateSucceededEventTagsNothing(t *testing.T) {
	t.Run("foreign", func(t *testing.T) {
		g := &stubGlue{recent: []types.WorkflowRun{*withJobRun(run(types.WorkflowRunStatusCompleted, nil), "jr_1", types.JobRunStateSucceeded)}}
		r, inv := releaser(g, &stubSFN{}, &memTokens{}, t0.Add(time.Hour))
		out, err := r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_started_alone", ""))
		if err != nil || out.Tagged || len(inv.calls) != 0 || !strings.Contains(out.Ignored, "no recent run of workflow") {
			t.Fatalf("%+v %v, %d tag calls", out, err, len(inv.calls))
		}
	})
	t.Run("duplicate of the releasing event", func(t *testing.T) {
		g := &stubGlue{run: withJobRun(run(types.WorkflowRunStatusCompleted, nil), "jr_1", types.JobRunStateSucceeded)}
		tokens := pending()
		r, inv := releaser(g, &stubSFN{}, tokens, t0.Add(time.Hour))
		first, err := r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_1", ""))
		if err != nil || len(first.Released) != 1 || len(tokens.items) != 0 {
			t.Fatalf("first: %+v %v", first, err)
		}
		out, err := r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_1", ""))
		if err != nil || out.Tagged || len(inv.calls) != 0 {
			t.Fatalf("the duplicate tagged the run the state machine tags: %+v %v, %d tag calls", out, err, len(inv.calls))
		}
	})
}

// TestTaskTokenIsNeverLogged captures what StartImport and import-events log
// on their paths (start, attach, release with success and failure, a closed
// task, the fallback's heartbeat and release) and checks the task token is
// not in it.
func TestTaskTokenIsNeverLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	const secret = "AAAAKgAAAAIAAAAAAAAAAsecret-task-token-value"

	tokens := &memTokens{}
	g := &stubGlue{}
	im := &importrun.Importer{Glue: g, Tokens: tokens, Workflow: workflow, Log: log, Now: func() time.Time { return t0 }}
	if _, err := im.Start(ctx, importrun.StartInput{ExecutionName: "exec-1", TaskToken: secret}); err != nil {
		t.Fatal(err)
	}
	g.lastRun = run(types.WorkflowRunStatusRunning, nil)
	g.lastRun.WorkflowRunId = aws.String("wr_new")
	if _, err := im.Start(ctx, importrun.StartInput{ExecutionName: "exec-2", TaskToken: secret + "2"}); err != nil {
		t.Fatal(err)
	}
	_, _ = im.Start(ctx, importrun.StartInput{ExecutionName: "exec-3", TaskToken: strings.Repeat(secret, 100)}) // too long: refused

	for _, c := range []struct {
		state types.JobRunState
		sfn   *stubSFN
	}{
		{types.JobRunStateSucceeded, &stubSFN{}},
		{types.JobRunStateFailed, &stubSFN{}},
		{types.JobRunStateSucceeded, &stubSFN{err: &sfntypes.TaskTimedOut{Message: aws.String("closed")}}},
	} {
		g := &stubGlue{run: withJobRun(run(types.WorkflowRunStatusRunning, nil), "jr_1", c.state)}
		tokens := &memTokens{items: []importrun.Pending{{RunID: "wr_1", ExecutionName: "exec-1", TaskToken: secret, WorkflowName: workflow, Since: t0}}}
		r, _ := releaser(g, c.sfn, tokens, t0.Add(time.Hour))
		r.Log = log
		if _, err := r.Handle(ctx, jobEvent(string(c.state), "jr_1", "message")); err != nil {
			t.Fatal(err)
		}
	}
	for _, status := range []types.WorkflowRunStatus{types.WorkflowRunStatusRunning, types.WorkflowRunStatusCompleted} {
		g := &stubGlue{run: run(status, &types.WorkflowRunStatistics{TotalActions: 1, SucceededActions: 1})}
		tokens := &memTokens{items: []importrun.Pending{{RunID: "wr_1", ExecutionName: "exec-1", TaskToken: secret, WorkflowName: workflow, Since: t0}}}
		r, _ := releaser(g, &stubSFN{}, tokens, t0.Add(time.Hour))
		r.Log = log
		if _, err := r.Handle(ctx, json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)); err != nil {
			t.Fatal(err)
		}
	}
	logged := buf.String()
	if !strings.Contains(logged, "wr_1") || !strings.Contains(logged, "wr_new") {
		t.Fatalf("the paths logged nothing about their runs, so the check proves nothing:\n%s", logged)
	}
	if strings.Contains(logged, "secret-task-token") {
		t.Fatalf("the task token is in the log:\n%s", logged)
	}
}

func TestEventForAClosedTaskIsHarmless(t *testing.T) {
	// A duplicate delivered before the first one deleted the token, or a
	// state that timed out: Step Functions answers TaskTimedOut.
	for _, e := range []error{
		&sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")},
		&sfntypes.InvalidToken{Message: aws.String("Invalid token")},
		&sfntypes.TaskDoesNotExist{Message: aws.String("Task does not exist")},
	} {
		g := &stubGlue{run: withJobRun(run(types.WorkflowRunStatusRunning, nil), "jr_1", types.JobRunStateSucceeded)}
		tokens := pending()
		r, _ := releaser(g, &stubSFN{err: e}, tokens, t0.Add(time.Hour))
		out, err := r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_1", ""))
		if err != nil || len(out.Released) != 1 || out.Released[0].Result != "gone" || len(tokens.items) != 0 {
			t.Fatalf("%T: %+v %v", e, out, err)
		}
	}
}

func TestThrottledReleaseIsTransientAndKeepsTheToken(t *testing.T) {
	g := &stubGlue{run: withJobRun(run(types.WorkflowRunStatusRunning, nil), "jr_1", types.JobRunStateSucceeded)}
	tokens := pending()
	r, _ := releaser(g, &stubSFN{err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}}, tokens, t0.Add(time.Hour))
	_, err := r.Handle(context.Background(), jobEvent("SUCCEEDED", "jr_1", ""))
	var te *steperr.TransientError
	if !errors.As(err, &te) || len(tokens.items) != 1 {
		t.Fatalf("want TransientError (EventBridge retries, then the fallback) and the token kept, got %v, %v", err, tokens.items)
	}
}

func TestFallbackReleasesEndedRunsOnly(t *testing.T) {
	ctx := context.Background()
	tick := json.RawMessage(`{"version":"0","id":"t","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-03-10T10:40:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/x"],"detail":{}}`)
	g := &stubGlue{run: run(types.WorkflowRunStatusRunning, &types.WorkflowRunStatistics{TotalActions: 1, RunningActions: 1})}
	s := &stubSFN{}
	tokens := pending()
	r, _ := releaser(g, s, tokens, t0.Add(time.Hour))
	if out, err := r.Handle(ctx, tick); err != nil || len(out.Released) != 0 || len(tokens.items) != 1 {
		t.Fatalf("running: %+v %v", out, err)
	}
	// A run still going gets a heartbeat (StartImport's HeartbeatSeconds).
	if len(s.heartbeats) != 1 || aws.ToString(s.heartbeats[0].TaskToken) != token {
		t.Fatalf("heartbeats %+v", s.heartbeats)
	}
	if aws.ToBool(g.reads[0].IncludeGraph) {
		t.Fatal("the fallback needs no graph")
	}
	g.run = run(types.WorkflowRunStatusCompleted, &types.WorkflowRunStatistics{TotalActions: 1, SucceededActions: 1})
	out, err := r.Handle(ctx, tick)
	if err != nil || len(out.Released) != 1 || len(s.successes) != 1 || !strings.Contains(aws.ToString(s.successes[0].Output), `"releasedBy":"fallback"`) {
		t.Fatalf("completed: %+v %v", out, err)
	}
}

func TestBadEventsNameTheField(t *testing.T) {
	r, _ := releaser(&stubGlue{}, &stubSFN{}, pending(), t0)
	for field, raw := range map[string]string{
		"(event)":         `[1,2]`,
		"source":          `{"source":"aws.s3","detail-type":"Object Created","detail":{}}`,
		"detail":          `{"source":"aws.glue","detail-type":"Glue Job State Change"}`,
		"detail-type":     `{"source":"aws.glue","detail-type":"Glue Job Run Status","detail":{}}`,
		"detail.jobName":  `{"source":"aws.glue","detail-type":"Glue Job State Change","detail":{"jobName":"other","jobRunId":"jr","state":"FAILED"}}`,
		"detail.jobRunId": `{"source":"aws.glue","detail-type":"Glue Job State Change","detail":{"jobName":"` + job + `","state":"FAILED"}}`,
		// issue 17 item 12: an event without a state is invalid input.
		"detail.state": `{"source":"aws.glue","detail-type":"Glue Job State Change","detail":{"jobName":"` + job + `","jobRunId":"jr_1"}}`,
	} {
		_, err := r.Handle(context.Background(), json.RawMessage(raw))
		var ie *steperr.InvalidInputError
		if !errors.As(err, &ie) || ie.Field != field {
			t.Errorf("%s: want InvalidInputError on %s, got %v", raw, field, err)
		}
	}
	// The workflow has no crawler, and no rule delivers crawler events.
	crawler := `{"source":"aws.glue","detail-type":"Glue Crawler State Change","detail":{"crawlerName":"x","state":"Succeeded"}}`
	if _, err := r.Handle(context.Background(), json.RawMessage(crawler)); !isInvalid(err, "detail-type") {
		t.Errorf("a crawler event: want InvalidInputError on detail-type, got %v", err)
	}
}

func isInvalid(err error, field string) bool {
	var ie *steperr.InvalidInputError
	return errors.As(err, &ie) && ie.Field == field
}

// answered is an SDK error for an HTTP answer of status with error code.
func answered(status int, code string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
	}}
}

func TestFaultsAreClassified(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, "TransientError"},
		{&types.InternalServiceException{Message: aws.String("internal")}, "TransientError"},
		{&types.OperationTimeoutException{Message: aws.String("timeout")}, "TransientError"},
		{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}, "PermanentError"},
		{errors.New("connection reset"), "TransientError"},
		// Issue 11: EC2's throttle code and a 503 whose code Glue's
		// exceptions do not name were permanent here and transient elsewhere.
		{&smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}, "TransientError"},
		{answered(503, "Unavailable"), "TransientError"},
		{answered(429, "SomeNewRateLimitException"), "TransientError"},
	}
	for _, c := range cases {
		r, _ := releaser(&stubGlue{getErr: c.err}, &stubSFN{}, pending(), t0)
		// Through the Lambda boundary, and by exact type: the name Step
		// Functions matches is the top-level type's (issue 17).
		_, err := steprun.Boundary("import-events", r.Handle)(context.Background(), jobEvent("SUCCEEDED", "jr_1", ""))
		got := strings.TrimPrefix(fmt.Sprintf("%T", err), "*steperr.")
		if got != c.want {
			t.Errorf("%v: got %s (%v), want %s", c.err, got, err, c.want)
		}
	}
}

func TestHeartbeatForAClosedTaskForgetsTheToken(t *testing.T) {
	// The execution was stopped by hand: Step Functions answers the
	// heartbeat with TaskTimedOut, and the token is of no use any more.
	tick := json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)
	g := &stubGlue{run: run(types.WorkflowRunStatusRunning, &types.WorkflowRunStatistics{TotalActions: 1, RunningActions: 1})}
	tokens := pending()
	r, _ := releaser(g, &stubSFN{err: &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")}}, tokens, t0.Add(time.Hour))
	out, err := r.Handle(context.Background(), tick)
	if err != nil || len(tokens.items) != 0 || len(out.Released) != 1 || out.Released[0].Result != "gone" {
		t.Fatalf("%+v %v, tokens %v", out, err, tokens.items)
	}
	// A throttled heartbeat keeps the token and reports a TransientError.
	tokens = pending()
	r, _ = releaser(g, &stubSFN{err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}}, tokens, t0.Add(time.Hour))
	_, err = r.Handle(context.Background(), tick)
	var te *steperr.TransientError
	if !errors.As(err, &te) || len(tokens.items) != 1 {
		t.Fatalf("throttled heartbeat: %v, tokens %v", err, tokens.items)
	}
}

// The stand-ins replace these clients and the token store.
var (
	_ importrun.GlueAPI           = (*stubGlue)(nil)
	_ importrun.WorkflowRunReader = (*stubGlue)(nil)
	_ importrun.TokenStore        = (*memTokens)(nil)
	_ importrun.TaskResponder     = (*stubSFN)(nil)
	_ importrun.Invoker           = (*stubInvoker)(nil)
)
