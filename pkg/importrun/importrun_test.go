package importrun_test

// Unit tier: a stubbed Glue client, for what moto cannot do (finish a
// run, report Statistics, refuse a concurrent run) and for injected faults.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

type stubGlue struct {
	lastRun  *types.WorkflowRun
	run      *types.WorkflowRun
	startErr error
	getErr   error
	started  int
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

func (s *stubGlue) GetWorkflowRun(context.Context, *glue.GetWorkflowRunInput, ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error) {
	if s.getErr != nil {
		return nil, s.getErr
	}
	return &glue.GetWorkflowRunOutput{Run: s.run}, nil
}

var t0 = time.Date(2026, 3, 10, 9, 45, 0, 0, time.UTC)

func importer(g importrun.GlueAPI, now time.Time) *importrun.Importer {
	return &importrun.Importer{Glue: g, Workflow: workflow, Schedule: importrun.NewSchedule(360 * time.Minute), Log: quiet, Now: func() time.Time { return now }}
}

func run(status types.WorkflowRunStatus, stats *types.WorkflowRunStatistics) *types.WorkflowRun {
	return &types.WorkflowRun{Name: aws.String(workflow), WorkflowRunId: aws.String("wr_1"), StartedOn: aws.Time(t0), Status: status, Statistics: stats}
}

func TestCompletedWithEveryActionSucceeded(t *testing.T) {
	g := &stubGlue{run: run(types.WorkflowRunStatusCompleted, &types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 3})}
	out, err := importer(g, t0.Add(31*time.Minute)).Status(context.Background(), importrun.Run{RunID: "wr_1", Polls: 3})
	if err != nil || !out.Completed || out.Polls != 4 || out.Statistics.Succeeded != 3 {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestCompletedIsNotEnough(t *testing.T) {
	cases := []struct {
		name  string
		stats *types.WorkflowRunStatistics
		want  string
	}{
		{"failed crawler", &types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 1, FailedActions: 1}, "1 failed"},
		{"timed-out job", &types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 1, TimeoutActions: 1}, "1 timed-out"},
		{"stopped job", &types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 1, StoppedActions: 1}, "1 stopped"},
		{"errored job", &types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 2, ErroredActions: 1}, "1 failed"},
		{"trigger never fired", &types.WorkflowRunStatistics{TotalActions: 3, SucceededActions: 1}, "trigger"},
		{"no statistics", nil, "no Statistics"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := &stubGlue{run: run(types.WorkflowRunStatusCompleted, c.stats)}
			_, err := importer(g, t0.Add(time.Hour)).Status(context.Background(), importrun.Run{RunID: "wr_1"})
			var fe *steperr.ImportFailedError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || fe.RunID != "wr_1" {
				t.Fatalf("want ImportFailedError mentioning %q, got %v", c.want, err)
			}
		})
	}
}

func TestStoppedOrErrorRunFails(t *testing.T) {
	r := run(types.WorkflowRunStatusError, nil)
	r.ErrorMessage = aws.String("Concurrent runs exceeded")
	_, err := importer(&stubGlue{run: r}, t0.Add(time.Minute)).Status(context.Background(), importrun.Run{RunID: "wr_1"})
	var fe *steperr.ImportFailedError
	if !errors.As(err, &fe) || fe.Status != "ERROR" || !strings.Contains(err.Error(), "Concurrent runs exceeded") {
		t.Fatalf("%v", err)
	}
}

func TestRunningPastTheTimeoutFails(t *testing.T) {
	g := &stubGlue{run: run(types.WorkflowRunStatusRunning, &types.WorkflowRunStatistics{TotalActions: 3, RunningActions: 1})}
	out, err := importer(g, t0.Add(200*time.Minute)).Status(context.Background(), importrun.Run{RunID: "wr_1"})
	if err != nil || out.Completed || out.WaitSeconds <= 0 {
		t.Fatalf("before the deadline: %+v %v", out, err)
	}
	_, err = importer(g, t0.Add(360*time.Minute)).Status(context.Background(), importrun.Run{RunID: "wr_1"})
	var fe *steperr.ImportFailedError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "import.waitTimeoutMinutes (360)") {
		t.Fatalf("at the deadline: %v", err)
	}
}

func TestConcurrentStartAttaches(t *testing.T) {
	g := &stubGlue{startErr: &types.ConcurrentRunsExceededException{Message: aws.String("Concurrent runs exceeded")}}
	im := importer(g, t0)
	// The run appears between the read and the start.
	im.Glue = &raceGlue{stubGlue: g}
	out, err := im.Start(context.Background(), importrun.StartInput{})
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

func TestFaultsAreClassified(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, "TransientError"},
		{&types.InternalServiceException{Message: aws.String("internal")}, "TransientError"},
		{&types.OperationTimeoutException{Message: aws.String("timeout")}, "TransientError"},
		{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}, "PermanentError"},
		{&types.EntityNotFoundException{Message: aws.String("no workflow")}, "PermanentError"},
		{errors.New("connection reset"), "TransientError"},
	}
	for _, c := range cases {
		_, err := importer(&stubGlue{getErr: c.err}, t0).Status(context.Background(), importrun.Run{RunID: "wr_1"})
		err = steperr.Normalize("test", err)
		var te *steperr.TransientError
		var pe *steperr.PermanentError
		got := "other"
		if errors.As(err, &te) {
			got = "TransientError"
		} else if errors.As(err, &pe) {
			got = "PermanentError"
		}
		if got != c.want {
			t.Errorf("%v: got %s (%v), want %s", c.err, got, err, c.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	_, err := importer(&stubGlue{}, t0).Status(context.Background(), importrun.Run{})
	var ie *steperr.InvalidInputError
	if !errors.As(err, &ie) || ie.Field != "runId" {
		t.Fatalf("%v", err)
	}
	_, err = importer(&stubGlue{}, t0).Status(context.Background(), importrun.Run{RunID: "x", WorkflowName: "other"})
	if !errors.As(err, &ie) || ie.Field != "workflowName" {
		t.Fatalf("%v", err)
	}
}

func TestScheduleFitsTheBudget(t *testing.T) {
	for _, timeout := range []time.Duration{10 * time.Minute, 360 * time.Minute, 1440 * time.Minute} {
		s := importrun.NewSchedule(timeout)
		times := s.PollTimes()
		if len(times) != importrun.MaxPolls || times[len(times)-1] != timeout {
			t.Fatalf("timeout %v: poll times %v", timeout, times)
		}
		// Walk the loop as the state machine does: every poll waits what
		// the previous one asked, plus a few seconds of Lambda time.
		elapsed, polls := 2*time.Second, 0
		for {
			w := s.NextWait(elapsed)
			if w <= 0 {
				break
			}
			elapsed += w + 3*time.Second
			polls++
		}
		if polls > importrun.MaxPolls {
			t.Fatalf("timeout %v: %d polls", timeout, polls)
		}
		t.Logf("timeout %v: polls at %v (growth %.3f)", timeout, times, s.Growth())
	}
}
