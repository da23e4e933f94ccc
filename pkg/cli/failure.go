package cli

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

// Failure is why a run failed: the state that failed, its error type (a
// pkg/steperr name or a States.* error), the message and the fix.
type Failure struct {
	State   string `json:"state,omitempty"`
	Error   string `json:"error"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// failurePrefix begins the cause the DescribeFailure state writes
// (statemachine/pipeline.asl.json): the execution fails with error
// PipelineFailed and this cause, followed by the JSON of $.failure, which
// maps each failed state to the {Error, Cause} its Catch recorded.
const failurePrefix = "Failed state with its error and cause: "

// parseFailure reads a failed execution's error and cause.
func parseFailure(execError, cause string) Failure {
	if i := strings.Index(cause, failurePrefix); i >= 0 {
		var byState map[string]struct {
			Error string `json:"Error"`
			Cause string `json:"Cause"`
		}
		if json.Unmarshal([]byte(cause[i+len(failurePrefix):]), &byState) == nil && len(byState) > 0 {
			states := make([]string, 0, len(byState))
			for s := range byState {
				states = append(states, s)
			}
			sort.Strings(states)
			s := states[0] // one Catch fires per run, so there is one state
			f := byState[s]
			msg := lambdaMessage(f.Cause)
			return Failure{State: s, Error: f.Error, Message: msg, Fix: fixFor(f.Error, msg)}
		}
		if m := looseFailure.FindStringSubmatch(cause[i+len(failurePrefix):]); m != nil {
			msg := lambdaMessage(m[3])
			return Failure{State: m[1], Error: m[2], Message: msg, Fix: fixFor(m[2], msg)}
		}
	}
	msg := lambdaMessage(cause)
	return Failure{Error: execError, Message: msg, Fix: fixFor(execError, msg)}
}

// looseFailure reads the failure map when the inner Cause was inserted
// without escaping its quotes (aws-local-stepfunctions' States.JsonToString
// does that; Step Functions escapes them).
var looseFailure = regexp.MustCompile(`(?s)^\{"([A-Za-z0-9_-]+)":\{"Error":"([^"]*)","Cause":"(.*)"\}\}$`)

// looseLambda reads an unescaped Lambda error payload.
var looseLambda = regexp.MustCompile(`(?s)^\{"errorMessage":"(.*)","errorType":"[^"]*"\}$`)

// lambdaMessage is the errorMessage of a Lambda error payload, which is
// the Cause Step Functions records for a failed Lambda task.
func lambdaMessage(cause string) string {
	var payload struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &payload) == nil && payload.ErrorMessage != "" {
		return payload.ErrorMessage
	}
	if m := looseLambda.FindStringSubmatch(cause); m != nil {
		return m[1]
	}
	return cause
}

// fixFor is the fix of a failure: the one the step wrote into its message
// when it did (steperr.PermanentError ends with ". Fix: ...", and a
// preflight report has "fix:" lines), else the standard one for its type.
func fixFor(errType, msg string) string {
	if i := strings.LastIndex(msg, ". Fix: "); i >= 0 {
		return strings.TrimSpace(msg[i+len(". Fix: "):])
	}
	switch errType {
	case "ConfigError":
		// steperr.ConfigError reads "<field>: <value>: <what is allowed>".
		return "correct the setting named above in cdk.json (or the function's environment) and redeploy with `make deploy`"
	case "InvalidInputError":
		return "start the pipeline with an empty JSON object as input: `lakeforge run`"
	case "PreflightError":
		return "apply the fix listed under each failed check, then check again with `lakeforge preflight`"
	case "TransientError":
		return "AWS had not settled after the step's retries; run again with `lakeforge run --follow`, and run `lakeforge doctor` if it repeats"
	case "ImportFailedError":
		return "read the import job's error (Glue console, or `aws glue get-job-runs --job-name <stack>-import-job`), fix the source or the job, then `lakeforge run`"
	case "VerificationError":
		return "the analyst cannot query what was imported, or the counts differ: run `lakeforge doctor` for a revoked grant or removed tag, then `lakeforge run`"
	case "PermanentError":
		return "see the message; fix the resource or permission it names, then `lakeforge run`"
	case "States.Timeout":
		return "the step or run exceeded its timeout; check the import's duration against import.waitTimeoutMinutes in cdk.json, then `lakeforge run`"
	case "States.TaskFailed", "Lambda.Unknown":
		return "the step's Lambda crashed or timed out; read its CloudWatch log group /aws/lambda/<stack>-<step>, then `lakeforge run`"
	}
	return "see the message; after fixing, start a new run with `lakeforge run --follow`"
}
