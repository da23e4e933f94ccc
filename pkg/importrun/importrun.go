// Package importrun starts the Glue import workflow and judges its runs:
// the StartImport and GetImportStatus steps of the daily pipeline.
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
	"github.com/aws/smithy-go"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// GlueAPI is the part of the Glue client the import steps use; a
// *glue.Client satisfies it.
type GlueAPI interface {
	GetWorkflow(ctx context.Context, in *glue.GetWorkflowInput, opts ...func(*glue.Options)) (*glue.GetWorkflowOutput, error)
	StartWorkflowRun(ctx context.Context, in *glue.StartWorkflowRunInput, opts ...func(*glue.Options)) (*glue.StartWorkflowRunOutput, error)
	GetWorkflowRun(ctx context.Context, in *glue.GetWorkflowRunInput, opts ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error)
}

// Run is what the state machine keeps about the import between states
// ($.import): enough to read the run's status and to find its manifest.
type Run struct {
	WorkflowName string `json:"workflowName"`
	RunID        string `json:"runId"`
	// Attached is true when StartImport found a run already in progress
	// and followed it instead of starting another.
	Attached bool `json:"attached"`
	// Status is the workflow run's status at the last read.
	Status string `json:"status"`
	// Completed is true when the run is COMPLETED with every action
	// succeeded; the Choice state leaves the wait loop on it.
	Completed bool `json:"completed"`
	// WaitSeconds is how long the Wait state waits before the next read.
	WaitSeconds int `json:"waitSeconds"`
	// ElapsedSeconds is how long the run has been going at the last read.
	ElapsedSeconds int `json:"elapsedSeconds"`
	// Polls counts the status reads so far.
	Polls int `json:"polls"`
	// Statistics are the action counts of the last read.
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

// Importer starts and follows runs of one workflow.
type Importer struct {
	Glue     GlueAPI
	Workflow string
	Schedule Schedule
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

// StartInput is the StartImport event: any JSON object; nothing is read.
type StartInput struct{}

// Start starts a workflow run, or attaches to the run already in progress
// (one the schedule started by hand, or a run of a previous execution that
// was retried): a workflow that allows one run at a time refuses a second
// one with ConcurrentRunsExceededException, which is not a failure here.
func (im *Importer) Start(ctx context.Context, _ StartInput) (Run, error) {
	if run, ok, err := im.runInProgress(ctx); err != nil {
		return Run{}, err
	} else if ok {
		im.log().Info("attaching to the workflow run in progress", "workflow", im.Workflow, "runId", run.RunID)
		return run, nil
	}
	out, err := im.Glue.StartWorkflowRun(ctx, &glue.StartWorkflowRunInput{Name: aws.String(im.Workflow)})
	if err != nil {
		var concurrent *types.ConcurrentRunsExceededException
		if errors.As(err, &concurrent) {
			// Started by someone else between the read and the start.
			run, ok, rerr := im.runInProgress(ctx)
			if rerr != nil {
				return Run{}, rerr
			}
			if ok {
				im.log().Info("attaching to the workflow run started concurrently", "workflow", im.Workflow, "runId", run.RunID)
				return run, nil
			}
			return Run{}, &steperr.TransientError{Op: "glue:StartWorkflowRun", Err: err}
		}
		return Run{}, classify("glue:StartWorkflowRun", im.Workflow, err)
	}
	runID := aws.ToString(out.RunId)
	if runID == "" {
		return Run{}, &steperr.PermanentError{Op: "glue:StartWorkflowRun", Err: errors.New("the answer has no RunId"), Fix: "retry the execution; report the issue if it persists"}
	}
	im.log().Info("started workflow run", "workflow", im.Workflow, "runId", runID)
	return Run{
		WorkflowName: im.Workflow,
		RunID:        runID,
		Status:       string(types.WorkflowRunStatusRunning),
		WaitSeconds:  seconds(im.Schedule.NextWait(0)),
	}, nil
}

// runInProgress reads the workflow's last run and returns it when it is
// still going (RUNNING, or STOPPING: its end is near and must be judged).
func (im *Importer) runInProgress(ctx context.Context) (Run, bool, error) {
	out, err := im.Glue.GetWorkflow(ctx, &glue.GetWorkflowInput{Name: aws.String(im.Workflow), IncludeGraph: aws.Bool(false)})
	if err != nil {
		return Run{}, false, classify("glue:GetWorkflow", im.Workflow, err)
	}
	if out.Workflow == nil || out.Workflow.LastRun == nil {
		return Run{}, false, nil
	}
	last := out.Workflow.LastRun
	switch last.Status {
	case types.WorkflowRunStatusRunning, types.WorkflowRunStatusStopping:
	default:
		return Run{}, false, nil
	}
	elapsed := im.elapsed(last)
	return Run{
		WorkflowName:   im.Workflow,
		RunID:          aws.ToString(last.WorkflowRunId),
		Attached:       true,
		Status:         string(last.Status),
		ElapsedSeconds: seconds(elapsed),
		WaitSeconds:    seconds(max(im.Schedule.NextWait(elapsed), MinWait)),
	}, true, nil
}

func (im *Importer) elapsed(run *types.WorkflowRun) time.Duration {
	if run.StartedOn == nil {
		return 0
	}
	return max(im.now().Sub(*run.StartedOn), 0)
}

// Status reads the run in prev and decides: Completed (leave the loop),
// keep waiting (WaitSeconds set), or ImportFailedError.
func (im *Importer) Status(ctx context.Context, prev Run) (Run, error) {
	if prev.RunID == "" {
		return Run{}, &steperr.InvalidInputError{Field: "runId", Fix: "pass the output of StartImport ({\"runId\": ...}) as the input of GetImportStatus"}
	}
	if prev.WorkflowName != "" && prev.WorkflowName != im.Workflow {
		return Run{}, &steperr.InvalidInputError{Field: "workflowName", Fix: fmt.Sprintf("this function follows workflow %q, not %q", im.Workflow, prev.WorkflowName)}
	}
	out, err := im.Glue.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{
		Name:         aws.String(im.Workflow),
		RunId:        aws.String(prev.RunID),
		IncludeGraph: aws.Bool(false),
	})
	if err != nil {
		return Run{}, classify("glue:GetWorkflowRun", im.Workflow, err)
	}
	if out.Run == nil {
		return Run{}, &steperr.PermanentError{Op: "glue:GetWorkflowRun", Err: errors.New("the answer has no Run"), Fix: "retry the execution; report the issue if it persists"}
	}
	run := out.Run
	elapsed := im.elapsed(run)
	next := Run{
		WorkflowName:   im.Workflow,
		RunID:          prev.RunID,
		Attached:       prev.Attached,
		Status:         string(run.Status),
		ElapsedSeconds: seconds(elapsed),
		Polls:          prev.Polls + 1,
		Statistics:     statistics(run.Statistics),
	}
	fail := func(detail string) error {
		s := next.Statistics
		if s == nil {
			s = &Statistics{}
		}
		return &steperr.ImportFailedError{
			WorkflowName: im.Workflow, RunID: prev.RunID, Status: next.Status,
			Failed: s.Failed + s.Errored, TimedOut: s.TimedOut, Stopped: s.Stopped, Detail: detail,
		}
	}
	switch run.Status {
	case types.WorkflowRunStatusCompleted:
		s := next.Statistics
		if s == nil {
			return next, fail("the run has no Statistics, so its success cannot be judged; look at the run in the Glue console")
		}
		if s.Failed+s.Errored+s.TimedOut+s.Stopped > 0 {
			return next, fail(fmt.Sprintf("%d of %d actions succeeded; open the workflow run in the Glue console (Workflows > %s > History) to see which crawler or job failed, and its CloudWatch logs", s.Succeeded, s.Total, im.Workflow))
		}
		if s.Total > 0 && s.Succeeded < s.Total {
			return next, fail(fmt.Sprintf("only %d of %d actions ran: a trigger condition was not met; check the triggers of workflow %s", s.Succeeded, s.Total, im.Workflow))
		}
		next.Completed = true
		im.log().Info("workflow run completed", "runId", prev.RunID, "elapsedSeconds", next.ElapsedSeconds, "actions", s.Total)
		return next, nil
	case types.WorkflowRunStatusRunning, types.WorkflowRunStatusStopping:
		wait := im.Schedule.NextWait(elapsed)
		if wait <= 0 {
			return next, fail(fmt.Sprintf("still %s after %s, longer than import.waitTimeoutMinutes (%d); the run goes on in Glue: stop it there or raise the limit", run.Status, elapsed.Round(time.Minute), int(im.Schedule.Timeout/time.Minute)))
		}
		next.WaitSeconds = seconds(wait)
		im.log().Info("workflow run in progress", "runId", prev.RunID, "status", next.Status, "elapsedSeconds", next.ElapsedSeconds, "nextReadInSeconds", next.WaitSeconds)
		return next, nil
	default: // STOPPED, ERROR
		detail := aws.ToString(run.ErrorMessage)
		if detail == "" {
			detail = "the run was stopped or could not run; see the workflow run in the Glue console"
		}
		return next, fail(detail)
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

func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// classify turns a Glue error into a step error: throttling, internal
// errors and timeouts are transient; a missing workflow or a denied call
// need the operator.
func classify(op, workflow string, err error) error {
	var notFound *types.EntityNotFoundException
	if errors.As(err, &notFound) {
		return &steperr.PermanentError{Op: op, Err: err, Fix: fmt.Sprintf("workflow %s does not exist: deploy the stack (`make deploy`)", workflow)}
	}
	var internal *types.InternalServiceException
	var timeout *types.OperationTimeoutException
	if errors.As(err, &internal) || errors.As(err, &timeout) {
		return &steperr.TransientError{Op: op, Err: err}
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ThrottlingException", "Throttling", "TooManyRequestsException", "ServiceUnavailable", "InternalFailure":
			return &steperr.TransientError{Op: op, Err: err}
		case "AccessDeniedException", "AccessDenied":
			return &steperr.PermanentError{Op: op, Err: err, Fix: "the function's role lacks " + op + " on workflow " + workflow + ": redeploy the stack"}
		}
		if apiErr.ErrorFault() == smithy.FaultServer {
			return &steperr.TransientError{Op: op, Err: err}
		}
		return &steperr.PermanentError{Op: op, Err: err}
	}
	// Network errors after the SDK's own retries.
	return &steperr.TransientError{Op: op, Err: err}
}
