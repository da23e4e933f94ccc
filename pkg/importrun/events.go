package importrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// The EventBridge events the handler takes, as AWS documents them
// ("Automating AWS Glue with EventBridge"; EventBridge "Scheduled Event").
const (
	GlueSource     = "aws.glue"
	JobStateChange = "Glue Job State Change"
	ScheduleSource = "aws.events"
	ScheduledEvent = "Scheduled Event"
)

// JobEndStates are the end states a job event carries.
var JobEndStates = []string{"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"}

// JobStateChangeEvent is a Glue Job State Change as EventBridge delivers
// it to import-events, in the shape Glue documents ("Automating AWS Glue
// with EventBridge"): the envelope and detail {jobName, severity, state,
// jobRunId, message}. The demo sends it for the end of its local import,
// the tests as the rule would; the handler reads it as Event.
type JobStateChangeEvent struct {
	ID, Account, Region string
	Time                time.Time
	JobName, JobRunID   string
	State, Message      string
}

// JSON is the event's JSON. Its severity is INFO for SUCCEEDED, ERROR
// otherwise (the handler does not read it).
func (e JobStateChangeEvent) JSON() json.RawMessage {
	severity := "INFO"
	if e.State != "SUCCEEDED" {
		severity = "ERROR"
	}
	raw, _ := json.Marshal(map[string]any{
		"version": "0", "id": e.ID, "detail-type": JobStateChange, "source": GlueSource,
		"account": e.Account, "time": e.Time.UTC().Format(time.RFC3339), "region": e.Region, "resources": []string{},
		"detail": map[string]string{"jobName": e.JobName, "severity": severity, "state": e.State, "jobRunId": e.JobRunID, "message": e.Message},
	})
	return raw
}

// MaxCauseLength is the longest cause SendTaskFailure takes.
const MaxCauseLength = 32768

// WorkflowRunReader reads workflow runs.
type WorkflowRunReader interface {
	GetWorkflowRun(ctx context.Context, in *glue.GetWorkflowRunInput, opts ...func(*glue.Options)) (*glue.GetWorkflowRunOutput, error)
	GetWorkflowRuns(ctx context.Context, in *glue.GetWorkflowRunsInput, opts ...func(*glue.Options)) (*glue.GetWorkflowRunsOutput, error)
}

// RecentRuns is how many of the workflow's latest runs an event of a run
// no execution waits for is looked up in: the run just ended, so it is
// among the latest.
const RecentRuns = 10

// TaskResponder ends a waiting Task state.
type TaskResponder interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskHeartbeatInput, opts ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error)
}

// Invoker starts the TagOutput function.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var (
	_ WorkflowRunReader = (*glue.Client)(nil)
	_ TaskResponder     = (*sfn.Client)(nil)
	_ Invoker           = (*lambda.Client)(nil)
)

// Releaser answers the Glue state-change events of the import and the
// fallback schedule: it releases the task token of each waiting execution
// whose workflow run ended, and has runs that ended well outside the state
// machine tagged.
type Releaser struct {
	Glue   WorkflowRunReader
	SFN    TaskResponder
	Tokens TokenStore
	// Tag invokes TagOutput; nil leaves tagging to the state machine.
	Tag         Invoker
	TagFunction string

	// Workflow is the import workflow; ImportJob, its one action, ends the
	// import.
	Workflow  string
	ImportJob string
	Timeout   time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

func (r *Releaser) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Releaser) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Event is an EventBridge event, as the rule delivers it to the function.
type Event struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// GlueDetail is the detail of a Glue job state change.
type GlueDetail struct {
	JobName  string `json:"jobName"`
	JobRunID string `json:"jobRunId"`
	State    string `json:"state"`
	Message  string `json:"message"`
}

// Outcome says what one event did.
type Outcome struct {
	Trigger  string    `json:"trigger"`
	Released []Release `json:"released"`
	// Ignored says why the event released nothing, when it did not.
	Ignored string `json:"ignored,omitempty"`
	// Tagged is true when TagOutput was invoked for a run outside the
	// state machine.
	Tagged bool `json:"tagged"`
}

// Release is one token the event ended.
type Release struct {
	RunID         string `json:"runId"`
	ExecutionName string `json:"executionName"`
	// Result is "success", "failure", or "gone" (the wait had already
	// ended: a duplicate event, or the state's own timeout).
	Result string `json:"result"`
}

// Handle takes one event: a Glue job state change, or the fallback
// schedule's tick.
func (r *Releaser) Handle(ctx context.Context, raw json.RawMessage) (Outcome, error) {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Outcome{}, &steperr.InvalidInputError{Field: "(event)", Fix: "must be a JSON object, the EventBridge event with source, detail-type and detail (" + err.Error() + "); the function's rules deliver the import job's state changes and the fallback schedule's ticks"}
	}
	switch {
	case ev.Source == ScheduleSource && ev.DetailType == ScheduledEvent:
		return r.sweep(ctx)
	case ev.Source != GlueSource:
		return Outcome{}, &steperr.InvalidInputError{Field: "source", Fix: fmt.Sprintf("must be %s or %s (got %q); the rules match only the import job's state changes and the fallback schedule", GlueSource, ScheduleSource, ev.Source)}
	}
	var d GlueDetail
	if len(ev.Detail) == 0 || json.Unmarshal(ev.Detail, &d) != nil {
		return Outcome{}, &steperr.InvalidInputError{Field: "detail", Fix: "must be a JSON object: the detail of a Glue Job State Change names jobName, jobRunId and state"}
	}
	if ev.DetailType != JobStateChange {
		return Outcome{}, &steperr.InvalidInputError{Field: "detail-type", Fix: fmt.Sprintf("must be %q (got %q)", JobStateChange, ev.DetailType)}
	}
	switch {
	case d.State == "":
		return Outcome{}, &steperr.InvalidInputError{Field: "detail.state", Fix: "must name the state the job reached (SUCCEEDED, FAILED, TIMEOUT or STOPPED); Glue sends it in every state-change event"}
	case d.JobName != r.ImportJob:
		return Outcome{}, &steperr.InvalidInputError{Field: "detail.jobName", Fix: fmt.Sprintf("must be the import job %s (got %q); the rule should match only that job", r.ImportJob, d.JobName)}
	case d.JobRunID == "":
		return Outcome{}, &steperr.InvalidInputError{Field: "detail.jobRunId", Fix: "a Glue Job State Change event names its job run"}
	case !slices.Contains(JobEndStates, d.State):
		return Outcome{Trigger: "job " + d.State, Ignored: "not an end state"}, nil
	}
	return r.onEvent(ctx, "job "+d.State, d)
}

// endsWell is true for the event that marks the import's successful end:
// the import job, the workflow's one action, succeeded.
func (r *Releaser) endsWell(d GlueDetail) bool {
	return d.JobName == r.ImportJob && d.State == "SUCCEEDED"
}

func (r *Releaser) onEvent(ctx context.Context, trigger string, d GlueDetail) (Outcome, error) {
	out := Outcome{Trigger: trigger, Released: []Release{}}
	pending, err := r.Tokens.List(ctx)
	if err != nil {
		return out, err
	}
	var firstErr error
	matched := false
	for _, p := range pending {
		if p.WorkflowName != r.Workflow {
			continue
		}
		res, err := r.Glue.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String(r.Workflow), RunId: aws.String(p.RunID), IncludeGraph: aws.Bool(true)})
		if err != nil {
			firstErr = cmp(firstErr, classify("glue:GetWorkflowRun", r.Workflow, err))
			continue
		}
		if res.Run == nil {
			continue
		}
		belongs, v := r.judgeEvent(d, res.Run)
		if !belongs {
			continue // an event of another run must not release this one
		}
		matched = true
		if !v.Done {
			continue
		}
		v.Run.ReleasedBy = "event"
		rel, err := r.release(ctx, p, v)
		if err != nil {
			firstErr = cmp(firstErr, err)
			continue
		}
		out.Released = append(out.Released, rel)
	}
	if len(out.Released) == 0 {
		out.Ignored = "no waiting execution follows this run"
	}
	if !matched && r.endsWell(d) && r.Tag != nil {
		// A run no execution waits for: tagged here once, when it is a run
		// of the workflow (a job run started on its own is not), and only
		// for its first event (EventBridge may deliver one twice, and a run
		// the state machine followed was tagged by it).
		ignored, err := r.tagOnce(ctx, d)
		if err != nil {
			firstErr = cmp(firstErr, err)
		} else if ignored != "" {
			out.Ignored = ignored
		} else {
			out.Tagged = true
		}
	}
	return out, firstErr
}

// judgeEvent matches the event to a run through the run's graph (the job
// run ids of its job node) and judges the run from the event.
func (r *Releaser) judgeEvent(d GlueDetail, run *types.WorkflowRun) (belongs bool, v Verdict) {
	v.Run = Run{WorkflowName: r.Workflow, RunID: aws.ToString(run.WorkflowRunId), Status: string(run.Status), Statistics: statistics(run.Statistics)}
	if run.Graph == nil {
		return false, v
	}
	fail := func(failed, timedOut, stopped int32, detail string) Verdict {
		v.Done = true
		v.Failure = &steperr.ImportFailedError{WorkflowName: r.Workflow, RunID: v.Run.RunID, Status: v.Run.Status,
			Failed: failed, TimedOut: timedOut, Stopped: stopped, Detail: detail}
		return v
	}
	for _, n := range run.Graph.Nodes {
		if n.Type != types.NodeTypeJob || aws.ToString(n.Name) != d.JobName || n.JobDetails == nil {
			continue
		}
		if !slices.ContainsFunc(n.JobDetails.JobRuns, func(jr types.JobRun) bool { return aws.ToString(jr.Id) == d.JobRunID }) {
			return false, v
		}
		detail := fmt.Sprintf("import job %s run %s ended %s: %s", d.JobName, d.JobRunID, d.State, d.Message)
		switch d.State {
		case "SUCCEEDED":
			v.Done, v.Run.Completed = true, true
			return true, v
		case "FAILED":
			// The job has no retries (MaxRetries 0): a failed run is final.
			return true, fail(1, 0, 0, detail)
		case "TIMEOUT":
			return true, fail(0, 1, 0, detail)
		default: // STOPPED
			return true, fail(0, 0, 1, detail)
		}
	}
	return false, v
}

// sweep is the fallback: it reads the run of every token still held and
// releases those that ended (their event was lost) or outlasted the wait
// timeout.
func (r *Releaser) sweep(ctx context.Context) (Outcome, error) {
	out := Outcome{Trigger: "fallback", Released: []Release{}}
	pending, err := r.Tokens.List(ctx)
	if err != nil {
		return out, err
	}
	var firstErr error
	for _, p := range pending {
		if p.WorkflowName != r.Workflow {
			continue
		}
		res, err := r.Glue.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String(r.Workflow), RunId: aws.String(p.RunID), IncludeGraph: aws.Bool(false)})
		var v Verdict
		var notFound *types.EntityNotFoundException
		switch {
		case errors.As(err, &notFound):
			v = Verdict{Done: true, Run: Run{WorkflowName: r.Workflow, RunID: p.RunID}, Failure: &steperr.ImportFailedError{
				WorkflowName: r.Workflow, RunID: p.RunID, Status: "NOT_FOUND", Detail: "Glue no longer knows this workflow run: " + err.Error()}}
		case err != nil:
			firstErr = cmp(firstErr, classify("glue:GetWorkflowRun", r.Workflow, err))
			continue
		case res.Run == nil:
			continue
		default:
			v = JudgeRun(r.Workflow, res.Run, r.now(), r.Timeout)
		}
		if !v.Done {
			// Still going: the heartbeat tells Step Functions this handler
			// is alive (StartImport's HeartbeatSeconds is HeartbeatTimeout).
			if gone, err := r.heartbeat(ctx, p); err != nil {
				firstErr = cmp(firstErr, err)
			} else if gone {
				out.Released = append(out.Released, Release{RunID: p.RunID, ExecutionName: p.ExecutionName, Result: "gone"})
			}
			continue
		}
		v.Run.ReleasedBy = "fallback"
		rel, err := r.release(ctx, p, v)
		if err != nil {
			firstErr = cmp(firstErr, err)
			continue
		}
		out.Released = append(out.Released, rel)
	}
	return out, firstErr
}

// release sends the verdict with p's token and forgets the token. A token
// Step Functions no longer accepts (the wait ended already) is forgotten
// too: a duplicate event is harmless.
func (r *Releaser) release(ctx context.Context, p Pending, v Verdict) (Release, error) {
	rel := Release{RunID: p.RunID, ExecutionName: p.ExecutionName}
	var err error
	if v.Failure == nil {
		v.Run.Attached = p.Attached
		body, merr := json.Marshal(v.Run)
		if merr != nil {
			return rel, &steperr.PermanentError{Op: "states:SendTaskSuccess", Err: merr}
		}
		_, err = r.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(p.TaskToken), Output: aws.String(string(body))})
		rel.Result = "success"
	} else {
		cause := v.Failure.Error()
		if len(cause) > MaxCauseLength {
			cause = cause[:MaxCauseLength]
		}
		_, err = r.SFN.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(p.TaskToken), Error: aws.String("ImportFailedError"), Cause: aws.String(cause)})
		rel.Result = "failure"
	}
	if err != nil {
		if !taskClosed(err) {
			return rel, classify("states:SendTask", r.Workflow, err)
		}
		rel.Result = "gone"
	}
	if v.Failure == nil {
		// The state machine tags this run: a later duplicate of its event
		// finds it claimed and does not tag it again.
		if _, cerr := r.Tokens.Claim(ctx, p.RunID); cerr != nil {
			r.log().Warn("could not record that the state machine follows this run; a duplicate event may tag it once more (harmless)", "runId", p.RunID, "error", cerr.Error())
		}
	}
	r.log().Info("released the wait for the import", "runId", p.RunID, "executionName", p.ExecutionName, "result", rel.Result, "releasedBy", v.Run.ReleasedBy)
	return rel, r.Tokens.Delete(ctx, p)
}

// heartbeat tells Step Functions the wait for p is still followed. A task
// that is already closed (the execution was stopped, or timed out) has its
// token forgotten: gone is true.
func (r *Releaser) heartbeat(ctx context.Context, p Pending) (gone bool, err error) {
	_, err = r.SFN.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(p.TaskToken)})
	if err == nil {
		return false, nil
	}
	if !taskClosed(err) {
		return false, classify("states:SendTaskHeartbeat", r.Workflow, err)
	}
	r.log().Info("the wait for the import ended elsewhere; forgetting its token", "runId", p.RunID, "executionName", p.ExecutionName)
	return true, r.Tokens.Delete(ctx, p)
}

// taskClosed is true for Step Functions' answers to a token whose task is
// over: TaskTimedOut (closed or expired), InvalidToken, TaskDoesNotExist.
func taskClosed(err error) bool {
	var timedOut *sfntypes.TaskTimedOut
	var invalid *sfntypes.InvalidToken
	var missing *sfntypes.TaskDoesNotExist
	return errors.As(err, &timedOut) || errors.As(err, &invalid) || errors.As(err, &missing)
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
