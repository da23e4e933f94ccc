// Package importrun starts the Glue import workflow and ends the pipeline's
// wait for it: StartImport starts (or attaches to) a workflow run and keeps
// the state machine's task token; the Glue state-change events, or a slow
// fallback check, release the token with the run's verdict.
package importrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// FallbackInterval is how often the fallback check reads the runs whose
// token is still held: the bound on how late a run is noticed when its
// Glue event is lost (Glue events are best effort).
const FallbackInterval = 10 * time.Minute

// HeartbeatTimeout is StartImport's HeartbeatSeconds: the fallback check
// sends a heartbeat for every run still going, so three missed checks in a
// row (the handler cannot run) fail the wait with States.HeartbeatTimeout
// instead of leaving it to the state's 24-hour timeout.
const HeartbeatTimeout = 3 * FallbackInterval

// MaxTokenLength is the longest task token Step Functions issues
// (SendTaskSuccess: taskToken, 1 to 2048 characters).
const MaxTokenLength = 2048

// GlueAPI is the part of the Glue client the import steps use; a
// *glue.Client satisfies it.
type GlueAPI interface {
	GetWorkflow(ctx context.Context, in *glue.GetWorkflowInput, opts ...func(*glue.Options)) (*glue.GetWorkflowOutput, error)
	StartWorkflowRun(ctx context.Context, in *glue.StartWorkflowRunInput, opts ...func(*glue.Options)) (*glue.StartWorkflowRunOutput, error)
	GetWorkflowRun(ctx context.Context, in *glue.GetWorkflowRunInput, opts ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error)
}

var _ GlueAPI = (*glue.Client)(nil)

// Run is the result of the StartImport state ($.import), sent with
// SendTaskSuccess when the import ended well.
type Run struct {
	WorkflowName string `json:"workflowName"`
	RunID        string `json:"runId"`
	// Attached is true when StartImport found a run already in progress
	// and followed it instead of starting another.
	Attached bool `json:"attached"`
	// Status is the workflow run's status when the verdict was made.
	Status string `json:"status"`
	// Completed is true: only a run that ended well is released with
	// success.
	Completed bool `json:"completed"`
	// ReleasedBy says what noticed the end: "event" or "fallback".
	ReleasedBy string `json:"releasedBy"`
	// Statistics are the action counts, when the verdict read them.
	Statistics *Statistics `json:"statistics,omitempty"`
}

// Statistics are a workflow run's action counts.
type Statistics struct {
	Total     int32 `json:"total"`
	Succeeded int32 `json:"succeeded"`
	Running   int32 `json:"running"`
	Waiting   int32 `json:"waiting"`
	Failed    int32 `json:"failed"`
	TimedOut  int32 `json:"timedOut"`
	Stopped   int32 `json:"stopped"`
	Errored   int32 `json:"errored"`
}

// StartInput is the StartImport payload of the state machine.
type StartInput struct {
	ExecutionName string `json:"executionName"`
	// TaskToken is $$.Task.Token of the waiting state. It is a credential
	// (whoever holds it can end the state): kept in the token table,
	// never logged, never returned.
	TaskToken string `json:"taskToken"`
}

// Started is what the StartImport Lambda answers. Step Functions ignores
// it (the state waits for the token); it is for the function's own log.
type Started struct {
	WorkflowName string `json:"workflowName"`
	RunID        string `json:"runId"`
	Attached     bool   `json:"attached"`
}

// Importer starts runs of one workflow and keeps the token of each.
type Importer struct {
	Glue     GlueAPI
	Tokens   TokenStore
	Workflow string
	Log      *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

func (im *Importer) log() *slog.Logger {
	if im.Log != nil {
		return im.Log
	}
	return slog.Default()
}

// CheckStartInput names the field of a bad StartImport payload.
func CheckStartInput(in StartInput) error {
	switch {
	case in.TaskToken == "":
		return &steperr.InvalidInputError{Field: "taskToken", Fix: `the state machine passes "taskToken.$": "$$.Task.Token" in the Payload of the StartImport state (Resource arn:aws:states:::lambda:invoke.waitForTaskToken)`}
	case len(in.TaskToken) > MaxTokenLength:
		return &steperr.InvalidInputError{Field: "taskToken", Fix: fmt.Sprintf("a task token has at most %d characters; got %d", MaxTokenLength, len(in.TaskToken))}
	case in.ExecutionName == "":
		return &steperr.InvalidInputError{Field: "executionName", Fix: `the state machine passes "executionName.$": "$$.Execution.Name"`}
	}
	return nil
}

// Start starts a workflow run, or attaches to the run already in progress
// (one started from the Glue console, or by a previous attempt of this
// state): a workflow that allows one run at a time refuses a second one
// with ConcurrentRunsExceededException, which is not a failure here. Then
// it keeps the task token under the run id, for the event handler.
func (im *Importer) Start(ctx context.Context, in StartInput) (Started, error) {
	if err := CheckStartInput(in); err != nil {
		return Started{}, err
	}
	out, err := im.startOrAttach(ctx)
	if err != nil {
		return Started{}, err
	}
	if err := im.Tokens.Put(ctx, Pending{
		RunID: out.RunID, ExecutionName: in.ExecutionName, TaskToken: in.TaskToken,
		WorkflowName: im.Workflow, Attached: out.Attached, Since: im.now(),
	}); err != nil {
		return Started{}, err
	}
	im.log().Info("waiting for the workflow run's end", "workflow", im.Workflow, "runId", out.RunID, "attached", out.Attached, "executionName", in.ExecutionName)
	return out, nil
}

func (im *Importer) startOrAttach(ctx context.Context) (Started, error) {
	if run, ok, err := im.runInProgress(ctx); err != nil {
		return Started{}, err
	} else if ok {
		return run, nil
	}
	out, err := im.Glue.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String(im.Workflow)})
	if err != nil {
		var concurrent *types.ConcurrentRunsExceededException
		if errors.As(err, &concurrent) {
			// Started by someone else between the read and the start.
			run, ok, rerr := im.runInProgress(ctx)
			if rerr != nil {
				return Started{}, rerr
			}
			if ok {
				return run, nil
			}
			return Started{}, &steperr.TransientError{Op: "glue:StartWorkflowRun", Err: err}
		}
		return Started{}, classify("glue:StartWorkflowRun", im.Workflow, err)
	}
	runID := aws.ToString(out.RunId)
	if runID == "" {
		return Started{}, &steperr.PermanentError{Op: "glue:StartWorkflowRun", Err: errors.New("the answer has no RunId"), Fix: "retry the execution; report the issue if it persists"}
	}
	return Started{WorkflowName: im.Workflow, RunID: runID}, nil
}

// runInProgress reads the workflow's last run and returns it when it is
// still going (RUNNING, or STOPPING: its end is near and must be judged).
func (im *Importer) runInProgress(ctx context.Context) (Started, bool, error) {
	out, err := im.Glue.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String(im.Workflow), IncludeGraph: aws.Bool(false)})
	if err != nil {
		return Started{}, false, classify("glue:GetWorkflow", im.Workflow, err)
	}
	if out.Workflow == nil || out.Workflow.LastRun == nil {
		return Started{}, false, nil
	}
	last := out.Workflow.LastRun
	switch last.Status {
	case types.WorkflowRunStatusRunning, types.WorkflowRunStatusStopping:
		return Started{WorkflowName: im.Workflow, RunID: aws.ToString(last.WorkflowRunId), Attached: true}, true, nil
	}
	return Started{}, false, nil
}

// Verdict is the judgement of one workflow run.
type Verdict struct {
	// Done is false while the run goes on.
	Done bool
	// Failure is nil for a run that ended well.
	Failure *steperr.ImportFailedError
	Run     Run
}

// JudgeRun decides from a workflow run (read without its graph) whether
// it ended, and how: success only when COMPLETED with every action
// succeeded (the run status alone does not say so: a run with a failed
// job is COMPLETED too). A run still going after timeout has failed.
func JudgeRun(workflow string, run *types.WorkflowRun, now time.Time, timeout time.Duration) Verdict {
	stats := statistics(run.Statistics)
	v := Verdict{Run: Run{WorkflowName: workflow, RunID: aws.ToString(run.WorkflowRunId), Status: string(run.Status), Statistics: stats}}
	fail := func(detail string) Verdict {
		s := stats
		if s == nil {
			s = &Statistics{}
		}
		v.Done = true
		v.Failure = &steperr.ImportFailedError{
			WorkflowName: workflow, RunID: v.Run.RunID, Status: v.Run.Status,
			Failed: s.Failed + s.Errored, TimedOut: s.TimedOut, Stopped: s.Stopped, Detail: detail,
		}
		return v
	}
	switch run.Status {
	case types.WorkflowRunStatusCompleted:
		s := stats
		if s == nil {
			return fail("the run has no Statistics, so its success cannot be judged; look at the run in the Glue console")
		}
		if s.Failed+s.Errored+s.TimedOut+s.Stopped > 0 {
			return fail(fmt.Sprintf("%d of %d actions succeeded; open the workflow run in the Glue console (Workflows > %s > History) to see the import job's run, and its CloudWatch logs", s.Succeeded, s.Total, workflow))
		}
		if s.Total > 0 && s.Succeeded < s.Total {
			return fail(fmt.Sprintf("only %d of %d actions ran: a trigger condition was not met; check the triggers of workflow %s", s.Succeeded, s.Total, workflow))
		}
		v.Done = true
		v.Run.Completed = true
		return v
	case types.WorkflowRunStatusRunning, types.WorkflowRunStatusStopping:
		if run.StartedOn != nil && timeout > 0 && now.Sub(*run.StartedOn) > timeout {
			return fail(fmt.Sprintf("still %s after %s, longer than import.waitTimeoutMinutes (%d); the run goes on in Glue: stop it there or raise the limit", run.Status, now.Sub(*run.StartedOn).Round(time.Minute), int(timeout/time.Minute)))
		}
		return v
	default: // STOPPED, ERROR
		detail := aws.ToString(run.ErrorMessage)
		if detail == "" {
			detail = "the run was stopped or could not run; see the workflow run in the Glue console"
		}
		return fail(detail)
	}
}

func statistics(s *types.WorkflowRunStatistics) *Statistics {
	if s == nil {
		return nil
	}
	return &Statistics{
		Total: s.TotalActions, Succeeded: s.SucceededActions, Running: s.RunningActions, Waiting: s.WaitingActions,
		Failed: s.FailedActions, TimedOut: s.TimeoutActions, Stopped: s.StoppedActions, Errored: s.ErroredActions,
	}
}

// classify turns a Glue error into a step error: what awsretry.Transient
// calls transient (throttling, service failures, no answer) is retried by the
// state machine; a missing workflow or a denied call need the operator.
func classify(op, workflow string, err error) error {
	var notFound *types.EntityNotFoundException
	switch {
	case errors.As(err, &notFound):
		return &steperr.PermanentError{Op: op, Err: err, Fix: fmt.Sprintf("workflow %s or its run does not exist: deploy the stack (`make deploy`)", workflow)}
	case awsretry.Transient(err):
		return &steperr.TransientError{Op: op, Err: err}
	case awsretry.IsCode(err, "AccessDeniedException", "AccessDenied"):
		return &steperr.PermanentError{Op: op, Err: err, Fix: "the function's role lacks " + op + ": redeploy the stack"}
	}
	return &steperr.PermanentError{Op: op, Err: err}
}
