package lakeformation

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// fail turns an error from call op into a step error: steperr types pass
// through; throttling, 5xx and network failures that outlasted the SDK
// retryer become TransientError; the rest PermanentError with a fix that
// depends on the error code. what names the thing the call was about.
func fail(op, what string, err error) error {
	if err == nil {
		return nil
	}
	// A step error (a missing principal's ConfigError or PermanentError
	// included) keeps its type and its context: classifying it as an AWS
	// answer would make an error without an API code a TransientError,
	// which the state machine retries. The Lambda boundary
	// (steprun.Boundary) unwraps it, once.
	if isStepError(err) {
		return err
	}
	if awsretry.Transient(err) {
		return &steperr.TransientError{Op: op, Err: err}
	}
	return &steperr.PermanentError{Op: op, Err: err, Fix: fixFor(op, what, awsretry.Code(err))}
}

// isStepError reports whether err is, or wraps, one of steperr's types.
func isStepError(err error) bool {
	var (
		te *steperr.TransientError
		pe *steperr.PermanentError
		ce *steperr.ConfigError
		ie *steperr.InvalidInputError
	)
	return errors.As(err, &te) || errors.As(err, &pe) || errors.As(err, &ce) || errors.As(err, &ie)
}

func fixFor(op, what, code string) string {
	switch code {
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation":
		if op == "lakeformation:AddLFTagsToResource" {
			return fmt.Sprintf("assigning an LF-tag needs ASSOCIATE on it, even for a data lake administrator that did not create it: the EnsureLFTags step grants it to this function's role, so start the state machine from the beginning (about %s)", what)
		}
		return fmt.Sprintf("allow %s in the function role's policy (redeploy the stack), and make sure the role is a Lake Formation administrator: the ConfigureLakeFormation step adds it, so start the state machine from the beginning", op)
	case "EntityNotFoundException":
		return fmt.Sprintf("%s does not exist, or the function role lacks Lake Formation permission on it (Lake Formation answers EntityNotFound in both cases): check that it exists and that the role is a data lake administrator", what)
	case "InvalidInputException", "ValidationException":
		if readOnly(op) {
			// A read carries no configured value: a rejected read is
			// lakeforge's request, which no cdk.json change can fix.
			return fmt.Sprintf("Lake Formation rejected lakeforge's own read of %s; no configuration change fixes this: report it as a lakeforge defect with the message above", what)
		}
		return fmt.Sprintf("Lake Formation rejected the request for %s: correct the value named in the message in the lakeforge configuration (cdk.json) and redeploy", what)
	case "AlreadyExistsException":
		return fmt.Sprintf("%s exists in a state lakeforge did not expect: inspect it and remove or correct it", what)
	case "ResourceNumberLimitExceededException":
		return "an account quota is reached: remove unused LF-tags, values or grants, or request a quota increase"
	}
	return fmt.Sprintf("read the error above about %s; if it is about IAM, check the function role's policy", what)
}

// readOnly reports whether op is a read (List*, Get*, Describe*, Search*).
func readOnly(op string) bool {
	_, name, _ := strings.Cut(op, ":")
	for _, p := range []string{"List", "Get", "Describe", "Search"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// permanent is a PermanentError for a problem found in an answer rather than
// returned as an error.
func permanent(op string, err error, fix string) error {
	return &steperr.PermanentError{Op: op, Err: err, Fix: fix}
}
