package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/pkg/importrun"
)

// world simulates one account for the pipeline: the import steps run the
// real importrun handlers against a simulated Glue workflow whose clock
// advances by each Wait state's seconds; the other steps are stubs that
// record their inputs. Runs of the ASL are instant, the simulated import
// may last hours.
type world struct {
	t     testing.TB
	mu    sync.Mutex
	now   time.Time
	glue  *simGlue
	im    *importrun.Importer
	calls map[string][]json.RawMessage
	// fail lets a scenario make a state fail: called before the default
	// answer, a non-nil error is returned instead.
	fail func(state string, call int) error
	// noticedAt is when a status read found the run finished.
	noticedAt time.Time
}

// simGlue is a Glue workflow whose run finishes Duration after it starts.
type simGlue struct {
	w        *world
	runs     []*simRun
	Duration time.Duration
	// Final are the statistics of a finished run.
	Final types.WorkflowRunStatistics
	// FinalStatus is COMPLETED unless a scenario says otherwise.
	FinalStatus types.WorkflowRunStatus
	Starts      int
}

type simRun struct {
	id      string
	started time.Time
	dur     time.Duration
}

func (g *simGlue) view(r *simRun) *types.WorkflowRun {
	out := &types.WorkflowRun{Name: aws.String("lakeforge-import"), WorkflowRunId: aws.String(r.id), StartedOn: aws.Time(r.started)}
	if g.w.now.Sub(r.started) >= r.dur {
		st := g.Final
		out.Status = g.FinalStatus
		out.Statistics = &st
		out.CompletedOn = aws.Time(r.started.Add(r.dur))
	} else {
		out.Status = types.WorkflowRunStatusRunning
		out.Statistics = &types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 1, RunningActions: 1}
	}
	return out
}

func (g *simGlue) GetWorkflow(_ context.Context, in *glue.GetWorkflowInput, _ ...func(*glue.Options)) (*glue.GetWorkflowOutput, error) {
	wf := &types.Workflow{Name: in.Name}
	if n := len(g.runs); n > 0 {
		wf.LastRun = g.view(g.runs[n-1])
	}
	return &glue.GetWorkflowOutput{Workflow: wf}, nil
}

func (g *simGlue) StartWorkflowRun(_ context.Context, in *glue.StartWorkflowRunInput, _ ...func(*glue.Options)) (*glue.StartWorkflowRunOutput, error) {
	if n := len(g.runs); n > 0 && g.view(g.runs[n-1]).Status == types.WorkflowRunStatusRunning {
		return nil, &types.ConcurrentRunsExceededException{Message: aws.String("Concurrent runs exceeded for workflow")}
	}
	g.Starts++
	r := &simRun{id: fmt.Sprintf("wr_%d", len(g.runs)+1), started: g.w.now, dur: g.Duration}
	g.runs = append(g.runs, r)
	return &glue.StartWorkflowRunOutput{RunId: aws.String(r.id)}, nil
}

func (g *simGlue) GetWorkflowRun(_ context.Context, in *glue.GetWorkflowRunInput, _ ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error) {
	for _, r := range g.runs {
		if r.id == aws.ToString(in.RunId) {
			return &glue.GetWorkflowRunOutput{Run: g.view(r)}, nil
		}
	}
	return nil, &types.EntityNotFoundException{Message: aws.String("run not found")}
}

// newWorld is an account whose imports take importTakes and whose wait
// timeout is timeout.
func newWorld(t testing.TB, importTakes, timeout time.Duration) *world {
	w := &world{t: t, now: time.Date(2026, 3, 10, 9, 45, 0, 0, time.UTC), calls: map[string][]json.RawMessage{}}
	w.glue = &simGlue{w: w, Duration: importTakes, FinalStatus: types.WorkflowRunStatusCompleted,
		Final: types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 3}}
	w.im = &importrun.Importer{Glue: w.glue, Workflow: "lakeforge-import", Schedule: importrun.NewSchedule(timeout), Now: func() time.Time { return w.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
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
		return w.im.Start(ctx, importrun.StartInput{})
	case "GetImportStatus":
		var prev importrun.Run
		if err := json.Unmarshal(input, &prev); err != nil {
			w.t.Fatalf("GetImportStatus input %s: %v", input, err)
		}
		// The Wait state before this read lasted WaitSeconds.
		w.now = w.now.Add(time.Duration(prev.WaitSeconds) * time.Second)
		out, err := w.im.Status(ctx, prev)
		if err == nil && out.Completed {
			w.noticedAt = w.now
		}
		return out, err
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

// noticeDelay is how long after the simulated import finished the
// pipeline's status read found it finished.
func (w *world) noticeDelay() time.Duration {
	r := w.glue.runs[len(w.glue.runs)-1]
	return w.noticedAt.Sub(r.started.Add(r.dur))
}
