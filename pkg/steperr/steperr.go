// Package steperr holds the only error types a lakeforge step Lambda returns.
//
// aws-lambda-go reports a returned error with the name of its top-level Go
// type ("TransientError", not "*steperr.TransientError"), and those names are
// the ErrorEquals strings of the state machine. A handler must therefore
// return one of these types directly, never a fmt.Errorf wrapper around one:
// the wrapper's type name would reach Step Functions instead, and no Retry or
// Catch would match it. Use Normalize at the handler boundary to enforce that.
package steperr

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// TransientError is a condition that is expected to clear by itself:
// eventual consistency after IAM or Lake Formation changes, throttling that
// outlasted the SDK retryer, a concurrent modification. The state machine
// retries it with backoff.
type TransientError struct {
	Op  string // the AWS operation or step that failed, e.g. "lakeformation:GrantPermissions"
	Err error  // the last error seen
	// Waited is how long the step already retried inside the Lambda.
	Waited string
}

func (e *TransientError) Error() string {
	msg := fmt.Sprintf("%s: still failing after retrying", e.Op)
	if e.Waited != "" {
		msg += " for " + e.Waited
	}
	if d := AWSDetail(e.Err); d != "" {
		msg += ": " + d
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	// The same text reaches the failure notice once the state machine's
	// retries are spent, so it must not promise that the condition clears.
	return msg + " (the state machine retries this step; in a failure notice every retry failed, so the AWS answer above persisted: check the service's health and quotas in this region)"
}

// AWSDetail names the AWS answer inside err: its error code, HTTP status,
// request id and message, as far as the SDK error carries them, e.g.
// "AWS answered InternalServiceException (HTTP 500, request id 4f1e...):
// Internal error". It is "" when err holds no AWS answer (a network failure
// or a cancelled context).
func AWSDetail(err error) string {
	if err == nil {
		return ""
	}
	var (
		api    smithy.APIError
		resp   *awshttp.ResponseError
		parts  []string
		status int
		reqID  string
	)
	if errors.As(err, &resp) {
		status, reqID = resp.HTTPStatusCode(), resp.ServiceRequestID()
	}
	if !errors.As(err, &api) && status == 0 {
		return ""
	}
	if status != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", status))
	}
	if reqID != "" {
		parts = append(parts, "request id "+reqID)
	}
	b := strings.Builder{}
	b.WriteString("AWS answered")
	if api != nil && api.ErrorCode() != "" {
		b.WriteString(" " + api.ErrorCode())
	}
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	if api != nil && api.ErrorMessage() != "" {
		b.WriteString(": " + api.ErrorMessage())
	}
	return b.String()
}

func (e *TransientError) Unwrap() error { return e.Err }

// PermanentError is an AWS answer that retrying will not change: missing
// permission, a resource in a conflicting state, a validation error. Fix says
// what the operator has to change.
type PermanentError struct {
	Op  string
	Err error
	Fix string
}

func (e *PermanentError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Fix != "" {
		b.WriteString(". Fix: ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// ConfigError is a bad setting: in cdk.json (caught at synth) or in a Lambda's
// environment (caught at cold start). Field is the path of the setting.
type ConfigError struct {
	Field string
	Value string
	Fix   string // what is allowed, or what to do
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Fix)
	}
	return fmt.Sprintf("%s: %q: %s", e.Field, e.Value, e.Fix)
}

// InvalidInputError is a Lambda event that does not have the shape the step
// expects, such as a state machine input with a missing field.
type InvalidInputError struct {
	Field string
	Fix   string
}

func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("invalid input: %s: %s", e.Field, e.Fix)
}

// PreflightError says the Glue connection cannot reach the source database.
// Report is the human-readable list of failed checks with their fixes.
type PreflightError struct {
	Failed []string // names of the failed checks
	Report string
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("source connection preflight failed (%s): %s", strings.Join(e.Failed, ", "), e.Report)
}

// ImportFailedError says the Glue import workflow run ended without importing
// everything: not COMPLETED, or with failed, timed-out or stopped actions.
type ImportFailedError struct {
	WorkflowName string
	RunID        string
	Status       string
	Failed       int32
	TimedOut     int32
	Stopped      int32
	Detail       string
}

func (e *ImportFailedError) Error() string {
	msg := fmt.Sprintf("import workflow %s run %s ended %s with %d failed, %d timed-out and %d stopped actions",
		e.WorkflowName, e.RunID, e.Status, e.Failed, e.TimedOut, e.Stopped)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// VerificationError says the analyst cannot query the imported tables, or the
// counts Athena returns differ from the counts the import recorded.
type VerificationError struct {
	Problems []string
}

func (e *VerificationError) Error() string {
	return "verification failed: " + strings.Join(e.Problems, "; ")
}

// Normalize returns err as one of this package's types so that its name is
// the one Step Functions sees. An error that wraps one of them is unwrapped to
// it; anything else becomes a PermanentError for op. Normalize(nil) is nil.
func Normalize(op string, err error) error {
	if err == nil {
		return nil
	}
	var (
		te *TransientError
		pe *PermanentError
		ce *ConfigError
		ie *InvalidInputError
		pf *PreflightError
		fe *ImportFailedError
		ve *VerificationError
	)
	switch {
	case errors.As(err, &te):
		return te
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &ie):
		return ie
	case errors.As(err, &pf):
		return pf
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &ve):
		return ve
	}
	return &PermanentError{Op: op, Err: err}
}

// Names lists the type names of every error a handler may return, as Step
// Functions sees them. The state machine contract test compares it with the
// ErrorEquals names of the ASL.
func Names() []string {
	return []string{
		"ConfigError",
		"ImportFailedError",
		"InvalidInputError",
		"PermanentError",
		"PreflightError",
		"TransientError",
		"VerificationError",
	}
}
