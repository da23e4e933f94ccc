package awsretry

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/smithy-go"
)

// This file is the one place that decides what an AWS error means for
// retrying: the eventual-consistency conditions Policy.Do waits out, and the
// throttling, service and network failures a step hands to the state
// machine as a TransientError. docs/aws-behaviour.md cites the source of
// every code listed here.

// Condition is one named eventual-consistency condition.
type Condition struct {
	Name string
	// Code is the API error code that must match; empty matches any code.
	Code string
	// Message must be contained in the error message; empty matches any.
	Message string
}

// Conditions are the answers Lake Formation gives while a change made
// moments ago (a new IAM role, a new admin, a new registration) has not
// reached every part of the service yet.
var Conditions = []Condition{
	{Name: "principal not yet visible", Code: "InvalidInputException", Message: "Invalid principal"},
	{Name: "grantee not yet visible", Code: "InvalidInputException", Message: "Grantee has no permissions"},
	{Name: "location registration not yet visible", Code: "InvalidInputException", Message: "register the S3 path"},
	{Name: "concurrent modification", Code: "ConcurrentModificationException"},
	{Name: "new administrator not yet authorized", Code: "AccessDeniedException", Message: "is not authorized to access requested permissions"},
}

// EventualConsistency reports whether err is one of Conditions, and which.
func EventualConsistency(err error) (string, bool) {
	code, msg := Code(err), Message(err)
	if code == "" {
		return "", false
	}
	for _, c := range Conditions {
		if (c.Code == "" || c.Code == code) && (c.Message == "" || strings.Contains(msg, c.Message)) {
			return c.Name, true
		}
	}
	return "", false
}

// Transience says why an error may clear by itself, or NotTransient.
type Transience string

const (
	NotTransient Transience = ""
	// Throttled: the service refused the call's rate (a throttleCodes
	// code, or HTTP 429 Too Many Requests).
	Throttled Transience = "throttled"
	// ServiceFault: the service failed on its side (a serviceFaultCodes
	// code, an HTTP 5xx answer, or an error the service marks as a server
	// fault).
	ServiceFault Transience = "AWS service error"
	// NoAnswer: no AWS answer reached the caller: a network failure (DNS,
	// connection refused or reset), a timed-out attempt or the Lambda's
	// deadline.
	NoAnswer Transience = "no answer from AWS"
)

// throttleCodes are the error codes the AWS SDKs treat as throttling for
// every service (the Go SDK's retry.DefaultThrottleErrorCodes); S3 answers
// SlowDown, EC2 RequestLimitExceeded, Athena and Lambda
// TooManyRequestsException, most JSON services ThrottlingException.
var throttleCodes = []string{
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
	"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
}

// serviceFaultCodes are failures AWS documents as temporary and on its side.
// Listed by code because not every service sends them with a 5xx status or
// marks them as a server fault (Glue's and Lake Formation's
// OperationTimeoutException is an HTTP 400).
var serviceFaultCodes = []string{
	"InternalFailure", "ServiceUnavailable", // common errors of every service
	"InternalError", "Unavailable", // EC2, S3
	"InternalServiceException", "OperationTimeoutException", // Glue, Lake Formation
	"InternalServiceError",                      // Secrets Manager
	"RequestTimeout", "RequestTimeoutException", // retry.DefaultRetryableErrorCodes
}

// Classify says whether err may clear by itself if the step runs again
// later, and why. An API answer is transient only as listed above; an error
// without one is a failure to reach AWS, except a cancelled context, which
// means the caller gave up.
func Classify(err error) Transience {
	if err == nil || errors.Is(err, context.Canceled) {
		return NotTransient
	}
	code := Code(err)
	switch {
	case slices.Contains(throttleCodes, code):
		return Throttled
	case slices.Contains(serviceFaultCodes, code):
		return ServiceFault
	}
	switch status := HTTPStatus(err); {
	case status == 429:
		return Throttled
	case status >= 500:
		return ServiceFault
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if ae.ErrorFault() == smithy.FaultServer {
			return ServiceFault
		}
		return NotTransient
	}
	return NoAnswer
}

// Transient reports whether err is throttling, a service failure or a
// failure to reach AWS that outlasted the SDK retryer: worth retrying the
// step later.
func Transient(err error) bool { return Classify(err) != NotTransient }

// Code is the API error code of err ("EntityNotFoundException"), or "" when
// err is no API error (a network failure, a cancelled context).
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Message is the API error message of err, or err.Error() for other errors.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// IsCode reports whether err is an API error with one of codes.
func IsCode(err error, codes ...string) bool {
	c := Code(err)
	return c != "" && slices.Contains(codes, c)
}

// HTTPStatus is the status code of the HTTP answer inside err, or 0 when no
// answer arrived. It matches by method because the SDK's awshttp and
// smithyhttp ResponseError types both carry it.
func HTTPStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
