package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakeforge/lakeforge/pkg/importrun"
)

const (
	importJob = "lakeforge-import-job"
	workflow  = "lakeforge-import"
	// startImportTimeout is the StartImport state's TimeoutSeconds.
	startImportTimeout = 87300 * time.Second
)

// world simulates one account for the pipeline: StartImport and the event
// handler are the real importrun code against a simulated Glue workflow
// and a simulated Step Functions callback API. While the execution waits
// on its task token, the world's clock runs forward through the Glue
// events the scenario delivers and the fallback schedule's ticks, each
// handed to the real Releaser as the EventBridge event AWS documents.
// Runs of the ASL are instant; the simulated import may last hours.
type world struct {
	t     testing.TB
	mu    sync.Mutex
	now   time.Time
	glue  *simGlue
	im    *importrun.Importer
	rel   *importrun.Releaser
	store *memTokens
	sfn   *simSFN
	tags  *simInvoker
	calls map[string][]json.RawMessage
	// noFallback: the fallback rule does not fire (the handler cannot run).
	noFallback bool
	// fail lets a scenario make a state fail: called before the default
	// answer, a non-nil error is returned instead.
	fail func(state string, call int) error
	// events are the Glue events of the scenario, by delay after the
	// import's end (negative: before it). Default: one job event 5 s
	// after the end, as EventBridge delivers it within seconds.
	events []simEvent
	// releasedAt is when the token was released.
	releasedAt time.Time
	outcomes   []importrun.Outcome
}

// simEvent is one Glue state-change event of a scenario.
type simEvent struct {
	after    time.Duration
	state    string // the job's end state
	jobRunID string // empty: the run's own job run
	message  string
}

// simGlue is a Glue workflow (one import job, as the rewritten workflow
// has) whose run finishes Duration after it starts.
type simGlue struct {
	w        *world
	runs     []*simRun
	Duration time.Duration
	// JobState is the job's end state: SUCCEEDED unless a scenario says
	// otherwise.
	JobState types.JobRunState
	Starts   int
}

type simRun struct {
	id, jobRunID string
	started      time.Time
	dur          time.Duration
}

func (g *simGlue) ended(r *simRun) bool { return !g.w.now.Before(r.started.Add(r.dur)) }

func (g *simGlue) view(r *simRun, graph bool) *types.WorkflowRun {
	out := &types.WorkflowRun{Name: aws.String(workflow), WorkflowRunId: aws.String(r.id), StartedOn: aws.Time(r.started)}
	jobState := types.JobRunStateRunning
	if g.ended(r) {
		jobState = g.JobState
		out.Status = types.WorkflowRunStatusCompleted
		out.CompletedOn = aws.Time(r.started.Add(r.dur))
		st := types.WorkflowRunStatistics{TotalActions: 1}
		switch jobState {
		case types.JobRunStateSucceeded:
			st.SucceededActions = 1
		case types.JobRunStateTimeout:
			st.TimeoutActions = 1
		case types.JobRunStateStopped:
			st.StoppedActions = 1
		default:
			st.FailedActions = 1
		}
		out.Statistics = &st
	} else {
		out.Status = types.WorkflowRunStatusRunning
		out.Statistics = &types.WorkflowRunStatistics{TotalActions: 1, RunningActions: 1}
	}
	if graph {
		out.Graph = &types.WorkflowGraph{Nodes: []types.Node{
			{Type: types.NodeTypeTrigger, Name: aws.String(workflow + "-start")},
			{Type: types.NodeTypeJob, Name: aws.String(importJob), JobDetails: &types.JobNodeDetails{JobRuns: []types.JobRun{
				{Id: aws.String(r.jobRunID), JobName: aws.String(importJob), JobRunState: jobState},
			}}},
		}}
	}
	return out
}

func (g *simGlue) GetWorkflow(_ context.Context, in *glue.GetWorkflowInput, _ ...func(*glue.Options)) (*glue.GetWorkflowOutput, error) {
	wf := &types.Workflow{Name: in.Name}
	if n := len(g.runs); n > 0 {
		wf.LastRun = g.view(g.runs[n-1], false)
	}
	return &glue.GetWorkflowOutput{Workflow: wf}, nil
}

func (g *simGlue) StartWorkflowRun(_ context.Context, in *glue.StartWorkflowRunInput, _ ...func(*glue.Options)) (*glue.StartWorkflowRunOutput, error) {
	if n := len(g.runs); n > 0 && !g.ended(g.runs[n-1]) {
		return nil, &types.ConcurrentRunsExceededException{Message: aws.String("Concurrent runs exceeded for workflow")}
	}
	g.Starts++
	n := len(g.runs) + 1
	r := &simRun{id: fmt.Sprintf("wr_%d", n), jobRunID: fmt.Sprintf("jr_%d", n), started: g.w.now, dur: g.Duration}
	g.runs = append(g.runs, r)
	return &glue.StartWorkflowRunOutput{RunId: aws.String(r.id)}, nil
}

func (g *simGlue) GetWorkflowRun(_ context.Context, in *glue.GetWorkflowRunInput, _ ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error) {
	for _, r := range g.runs {
		if r.id == aws.ToString(in.RunId) {
			return &glue.GetWorkflowRunOutput{Run: g.view(r, aws.ToBool(in.IncludeGraph))}, nil
		}
	}
	return nil, &types.EntityNotFoundException{Message: aws.String("run not found")}
}

func (g *simGlue) GetWorkflowRuns(_ context.Context, in *glue.GetWorkflowRunsInput, _ ...func(*glue.Options)) (*glue.GetWorkflowRunsOutput, error) {
	out := &glue.GetWorkflowRunsOutput{}
	// Newest first, as Glue lists them.
	for i := len(g.runs) - 1; i >= 0 && len(out.Runs) < int(aws.ToInt32(in.MaxResults)); i-- {
		out.Runs = append(out.Runs, *g.view(g.runs[i], aws.ToBool(in.IncludeGraph)))
	}
	return out, nil
}

// memTokens is the token table in memory.
type memTokens struct {
	items   map[string]importrun.Pending
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

func (m *memTokens) key(p importrun.Pending) string { return p.RunID + "/" + p.ExecutionName }
func (m *memTokens) Put(_ context.Context, p importrun.Pending) error {
	m.items[m.key(p)] = p
	return nil
}
func (m *memTokens) List(context.Context) ([]importrun.Pending, error) {
	var out []importrun.Pending
	for _, p := range m.items {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return m.key(out[i]) < m.key(out[j]) })
	return out, nil
}
func (m *memTokens) Delete(_ context.Context, p importrun.Pending) error {
	if cur, ok := m.items[m.key(p)]; ok && cur.TaskToken == p.TaskToken {
		delete(m.items, m.key(p))
	}
	return nil
}

// simSFN is the callback API of Step Functions: the first answer for a
// token closes the task; any later one gets TaskTimedOut, as the real API
// answers for a task that is already closed.
type simSFN struct {
	closed map[string]bool
	// answers are the first answers, by token.
	success map[string]string
	failure map[string][2]string
	calls   int
	// beats are the heartbeat times, by token.
	beats map[string][]time.Time
	now   func() time.Time
}

func (s *simSFN) SendTaskHeartbeat(_ context.Context, in *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	token := aws.ToString(in.TaskToken)
	if s.closed[token] {
		return nil, &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")}
	}
	s.beats[token] = append(s.beats[token], s.now())
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

func (s *simSFN) close(token string) error {
	s.calls++
	if s.closed[token] {
		return &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out: the task associated with the token has already been closed")}
	}
	s.closed[token] = true
	return nil
}

func (s *simSFN) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if err := s.close(aws.ToString(in.TaskToken)); err != nil {
		return nil, err
	}
	s.success[aws.ToString(in.TaskToken)] = aws.ToString(in.Output)
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (s *simSFN) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	if err := s.close(aws.ToString(in.TaskToken)); err != nil {
		return nil, err
	}
	s.failure[aws.ToString(in.TaskToken)] = [2]string{aws.ToString(in.Error), aws.ToString(in.Cause)}
	return &sfn.SendTaskFailureOutput{}, nil
}

// simInvoker records the TagOutput invocations of the event handler.
type simInvoker struct{ payloads []string }

func (s *simInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	s.payloads = append(s.payloads, string(in.Payload))
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

// taskFailure is what a Task state that waits on a token fails with:
// SendTaskFailure's error and cause, passed through as they are.
type taskFailure struct{ name, cause string }

func (e *taskFailure) Error() string           { return e.cause }
func (e *taskFailure) LambdaErrorName() string { return e.name }

// newWorld is an account whose imports take importTakes and whose wait
// timeout is timeout.
func newWorld(t testing.TB, importTakes, timeout time.Duration) *world {
	w := &world{t: t, now: time.Date(2026, 3, 10, 9, 45, 0, 0, time.UTC), calls: map[string][]json.RawMessage{},
		events: []simEvent{{after: 5 * time.Second, state: "SUCCEEDED"}}}
	w.glue = &simGlue{w: w, Duration: importTakes, JobState: types.JobRunStateSucceeded}
	w.store = &memTokens{items: map[string]importrun.Pending{}}
	w.sfn = &simSFN{closed: map[string]bool{}, success: map[string]string{}, failure: map[string][2]string{}, beats: map[string][]time.Time{}, now: func() time.Time { return w.now }}
	w.tags = &simInvoker{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := func() time.Time { return w.now }
	w.im = &importrun.Importer{Glue: w.glue, Tokens: w.store, Workflow: workflow, Now: clock, Log: quiet}
	w.rel = &importrun.Releaser{Glue: w.glue, SFN: w.sfn, Tokens: w.store, Tag: w.tags, TagFunction: "lakeforge-tag-output",
		Workflow: workflow, ImportJob: importJob, Timeout: timeout, Now: clock, Log: quiet}
	return w
}

// handle is the taskHandler of the world.
func (w *world) handle(state string, input json.RawMessage) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls[state] = append(w.calls[state], input)
	// Every Lambda call takes a few simulated seconds.
	w.now = w.now.Add(2 * time.Second)
	if w.fail != nil {
		if err := w.fail(state, len(w.calls[state])); err != nil {
			return nil, err
		}
	}
	ctx := context.Background()
	switch state {
	case "StartImport":
		return w.startAndWait(ctx, input)
	case "VerifyQuery":
		var in struct {
			RunID string `json:"runId"`
		}
		_ = json.Unmarshal(input, &in)
		return map[string]any{"runId": in.RunID, "verified": 2, "tables": []any{}}, nil
	case "NotifyFailure":
		return map[string]any{"MessageId": "m-1"}, nil
	}
	return map[string]any{"step": state, "changed": 0}, nil
}

// startAndWait is the StartImport state: the lambda:invoke.waitForTaskToken
// call of the real StartImport handler with the state's Payload, then the
// wait until SendTaskSuccess or SendTaskFailure for its token.
func (w *world) startAndWait(ctx context.Context, input json.RawMessage) (any, error) {
	var params struct {
		FunctionName string               `json:"FunctionName"`
		Payload      importrun.StartInput `json:"Payload"`
	}
	if err := json.Unmarshal(input, &params); err != nil {
		w.t.Fatalf("StartImport parameters %s: %v", input, err)
	}
	if params.FunctionName != fakeARN("StartImportFunctionArn") {
		w.t.Fatalf("StartImport invokes %q", params.FunctionName)
	}
	if _, err := w.im.Start(ctx, params.Payload); err != nil {
		return nil, err // the invocation failed: the task fails at once
	}
	token := params.Payload.TaskToken
	run := w.glue.runs[len(w.glue.runs)-1]
	end := run.started.Add(run.dur)
	deadline := w.now.Add(startImportTimeout)
	// The scenario's events and the fallback ticks, in time order.
	type tick struct {
		at  time.Time
		raw []byte
	}
	var ticks []tick
	for _, e := range w.events {
		id := e.jobRunID
		if id == "" {
			id = run.jobRunID
		}
		detail, _ := json.Marshal(map[string]string{"jobName": importJob, "severity": "INFO", "state": e.state, "jobRunId": id, "message": e.message})
		raw, _ := json.Marshal(map[string]any{"version": "0", "id": "ev", "detail-type": importrun.JobStateChange, "source": importrun.GlueSource,
			"account": "123456789012", "time": end.Add(e.after).Format(time.RFC3339), "region": "us-east-1", "resources": []string{}, "detail": json.RawMessage(detail)})
		ticks = append(ticks, tick{end.Add(e.after), raw})
	}
	scheduled, _ := json.Marshal(map[string]any{"version": "0", "id": "tick", "detail-type": importrun.ScheduledEvent, "source": importrun.ScheduleSource,
		"account": "123456789012", "region": "us-east-1", "resources": []string{"arn:aws:events:us-east-1:123456789012:rule/lakeforge-import-fallback"}, "detail": map[string]any{}})
	// A rate schedule ticks on a fixed grid; the first tick after the start.
	for at := w.now.Truncate(importrun.FallbackInterval).Add(importrun.FallbackInterval); !w.noFallback && at.Before(deadline); at = at.Add(importrun.FallbackInterval) {
		ticks = append(ticks, tick{at, scheduled})
	}
	sort.SliceStable(ticks, func(i, j int) bool { return ticks[i].at.Before(ticks[j].at) })
	// HeartbeatSeconds: the task fails when no heartbeat came for that long.
	lastBeat := w.now
	beaten := false
	for _, tk := range ticks {
		if tk.at.Before(w.now) || !tk.at.Before(deadline) {
			continue
		}
		if tk.at.Sub(lastBeat) > importrun.HeartbeatTimeout {
			w.now = lastBeat.Add(importrun.HeartbeatTimeout)
			beaten = true
			break
		}
		w.now = tk.at
		out, err := w.rel.Handle(ctx, tk.raw)
		if err != nil {
			w.t.Fatalf("import-events on %s: %v", tk.raw, err)
		}
		w.outcomes = append(w.outcomes, out)
		if b := w.sfn.beats[token]; len(b) > 0 {
			lastBeat = b[len(b)-1]
		}
		if w.sfn.closed[token] {
			if w.releasedAt.IsZero() {
				w.releasedAt = w.now
			}
			break
		}
	}
	if !w.sfn.closed[token] && (beaten || lastBeat.Add(importrun.HeartbeatTimeout).Before(deadline)) {
		w.sfn.closed[token] = true
		w.now = lastBeat.Add(importrun.HeartbeatTimeout)
		return nil, &taskFailure{name: "States.HeartbeatTimeout", cause: "no heartbeat for HeartbeatSeconds"}
	}
	// Events after the release (duplicates) reach the handler too.
	for _, tk := range ticks {
		if tk.at.After(w.now) && tk.at.Before(end.Add(time.Hour)) && string(tk.raw) != string(scheduled) {
			w.now = tk.at
			out, err := w.rel.Handle(ctx, tk.raw)
			if err != nil {
				w.t.Fatalf("import-events on a late event: %v", err)
			}
			w.outcomes = append(w.outcomes, out)
		}
	}
	if out, ok := w.sfn.success[token]; ok {
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			w.t.Fatalf("SendTaskSuccess output %q is not JSON", out)
		}
		return v, nil
	}
	if f, ok := w.sfn.failure[token]; ok {
		return nil, &taskFailure{name: f[0], cause: f[1]}
	}
	w.now = deadline
	return nil, &taskFailure{name: "States.Timeout", cause: "the state's TimeoutSeconds elapsed"}
}

// noticeLag is how long after the simulated import finished the wait
// was released.
func (w *world) noticeLag() time.Duration {
	r := w.glue.runs[len(w.glue.runs)-1]
	return w.releasedAt.Sub(r.started.Add(r.dur))
}

// released lists the results of every token release, in order.
func (w *world) released() []string {
	var out []string
	for _, o := range w.outcomes {
		for _, r := range o.Released {
			out = append(out, o.Trigger+":"+r.Result)
		}
	}
	return out
}

var _ importrun.TokenStore = (*memTokens)(nil)
