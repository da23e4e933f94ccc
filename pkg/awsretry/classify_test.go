package awsretry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// answering starts a server that answers every request with status, the
// headers and body, and returns its URL.
func answering(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Amzn-Requestid", "req-1")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// glueError is the error a real Glue client (JSON 1.1, no SDK retries)
// returns for a service answer of status with error type code.
func glueError(t *testing.T, endpoint string, retryer aws.Retryer) error {
	t.Helper()
	client := glue.New(glue.Options{Region: "eu-west-1", BaseEndpoint: aws.String(endpoint), Credentials: aws.AnonymousCredentials{}, Retryer: retryer})
	_, err := client.GetWorkflowRun(context.Background(), &glue.GetWorkflowRunInput{Name: aws.String("w"), RunId: aws.String("r")})
	if err == nil {
		t.Fatal("the server answered an error, the client returned none")
	}
	return err
}

func glueAnswer(t *testing.T, status int, code string) error {
	t.Helper()
	return glueError(t, answering(t, status, "application/x-amz-json-1.1", fmt.Sprintf(`{"__type":%q,"message":"m"}`, code)), aws.NopRetryer{})
}

// ec2Answer is a real EC2 client's error (EC2 query protocol, XML).
func ec2Answer(t *testing.T, status int, code string) error {
	t.Helper()
	body := `<Response><Errors><Error><Code>` + code + `</Code><Message>m</Message></Error></Errors><RequestID>req-1</RequestID></Response>`
	client := ec2.New(ec2.Options{Region: "eu-west-1", BaseEndpoint: aws.String(answering(t, status, "text/xml", body)), Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{}})
	_, err := client.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	if err == nil {
		t.Fatal("the server answered an error, the client returned none")
	}
	return err
}

// s3Answer is a real S3 client's error (REST XML).
func s3Answer(t *testing.T, status int, code string) error {
	t.Helper()
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>m</Message><RequestId>req-1</RequestId></Error>`
	client := s3.New(s3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(answering(t, status, "application/xml", body)), Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{}, UsePathStyle: true})
	_, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if err == nil {
		t.Fatal("the server answered an error, the client returned none")
	}
	return err
}

// closedPort is an address nothing listens on: a real connection refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// The expected classes come from AWS's documents, not from the classifier:
// each row names where AWS says the answer is throttling, a temporary
// failure on its side, or the caller's problem. docs/aws-behaviour.md links them.
func TestClassifyRealSDKErrors(t *testing.T) {
	cases := []struct {
		name string
		err  func(t *testing.T) error
		want Transience
	}{
		// Common errors of every AWS API: ThrottlingException (400),
		// InternalFailure (500), ServiceUnavailable (503).
		{"Glue 400 ThrottlingException", func(t *testing.T) error { return glueAnswer(t, 400, "ThrottlingException") }, Throttled},
		{"Glue 500 InternalFailure", func(t *testing.T) error { return glueAnswer(t, 500, "InternalFailure") }, ServiceFault},
		{"Glue 503 ServiceUnavailable", func(t *testing.T) error { return glueAnswer(t, 503, "ServiceUnavailable") }, ServiceFault},
		// Glue exceptions: InternalServiceException, OperationTimeoutException.
		{"Glue 500 InternalServiceException", func(t *testing.T) error { return glueAnswer(t, 500, "InternalServiceException") }, ServiceFault},
		{"Glue 400 OperationTimeoutException", func(t *testing.T) error { return glueAnswer(t, 400, "OperationTimeoutException") }, ServiceFault},
		// HTTP 429 Too Many Requests is throttling whatever the code.
		{"HTTP 429 with an unlisted code", func(t *testing.T) error { return glueAnswer(t, 429, "SomeNewRateLimitException") }, Throttled},
		// The SDK retries 500, 502, 503, 504; a 502 from a proxy or load
		// balancer names no AWS code.
		{"HTTP 502 with an unlisted code", func(t *testing.T) error { return glueAnswer(t, 502, "BadGateway") }, ServiceFault},
		// The caller's problems: access, a missing entity, a bad input.
		{"Glue 400 AccessDeniedException", func(t *testing.T) error { return glueAnswer(t, 400, "AccessDeniedException") }, NotTransient},
		{"Glue 400 EntityNotFoundException", func(t *testing.T) error { return glueAnswer(t, 400, "EntityNotFoundException") }, NotTransient},
		{"Glue 400 InvalidInputException", func(t *testing.T) error { return glueAnswer(t, 400, "InvalidInputException") }, NotTransient},
		{"Glue 400 ResourceNumberLimitExceededException (a quota)", func(t *testing.T) error { return glueAnswer(t, 400, "ResourceNumberLimitExceededException") }, NotTransient},
		// EC2: RequestLimitExceeded is its throttling; InternalError and
		// Unavailable are its server errors.
		{"EC2 503 RequestLimitExceeded", func(t *testing.T) error { return ec2Answer(t, 503, "RequestLimitExceeded") }, Throttled},
		{"EC2 500 InternalError", func(t *testing.T) error { return ec2Answer(t, 500, "InternalError") }, ServiceFault},
		{"EC2 503 Unavailable", func(t *testing.T) error { return ec2Answer(t, 503, "Unavailable") }, ServiceFault},
		{"EC2 400 InvalidGroup.NotFound", func(t *testing.T) error { return ec2Answer(t, 400, "InvalidGroup.NotFound") }, NotTransient},
		{"EC2 403 UnauthorizedOperation", func(t *testing.T) error { return ec2Answer(t, 403, "UnauthorizedOperation") }, NotTransient},
		// S3: SlowDown (503) asks to reduce the request rate; InternalError
		// (500) is to be retried.
		{"S3 503 SlowDown", func(t *testing.T) error { return s3Answer(t, 503, "SlowDown") }, Throttled},
		{"S3 500 InternalError", func(t *testing.T) error { return s3Answer(t, 500, "InternalError") }, ServiceFault},
		{"S3 403 AccessDenied", func(t *testing.T) error { return s3Answer(t, 403, "AccessDenied") }, NotTransient},

		// The SDK's typed exceptions, as errors.As finds them.
		{"glue ThrottlingException", func(*testing.T) error { return &gluetypes.ThrottlingException{Message: aws.String("Rate exceeded")} }, Throttled},
		{"athena TooManyRequestsException", func(*testing.T) error {
			return &athenatypes.TooManyRequestsException{Message: aws.String("Rate exceeded")}
		}, Throttled},
		{"lakeformation InternalServiceException", func(*testing.T) error { return &lftypes.InternalServiceException{Message: aws.String("internal")} }, ServiceFault},
		{"lakeformation OperationTimeoutException", func(*testing.T) error { return &lftypes.OperationTimeoutException{Message: aws.String("timed out")} }, ServiceFault},
		{"secretsmanager InternalServiceError", func(*testing.T) error { return &smtypes.InternalServiceError{Message: aws.String("server side")} }, ServiceFault},
		{"secretsmanager ResourceNotFoundException", func(*testing.T) error {
			return &smtypes.ResourceNotFoundException{Message: aws.String("no such secret")}
		}, NotTransient},
		{"s3 NoSuchKey", func(*testing.T) error { return &s3types.NoSuchKey{Message: aws.String("no such key")} }, NotTransient},
		// Lake Formation's ConcurrentModificationException is an
		// eventual-consistency condition Policy.Do waits out in the step,
		// not a throttle (see TestEventualConsistencyOfRealSDKErrors).
		{"lakeformation ConcurrentModificationException", func(*testing.T) error { return &lftypes.ConcurrentModificationException{Message: aws.String("busy")} }, NotTransient},
		{"a generic API error the service marks a server fault", func(*testing.T) error {
			return &smithy.GenericAPIError{Code: "SomethingBroke", Fault: smithy.FaultServer}
		}, ServiceFault},

		// The SDK retryer gave up: MaxAttemptsError wraps the last answer.
		{"real standard retryer exhausted on ThrottlingException", func(t *testing.T) error {
			r := retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 2
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
			err := glueError(t, answering(t, 400, "application/x-amz-json-1.1", `{"__type":"ThrottlingException","message":"Rate exceeded"}`), r)
			var max *retry.MaxAttemptsError
			if !errors.As(err, &max) {
				t.Fatalf("the retryer did not give up: %v", err)
			}
			return err
		}, Throttled},
		{"MaxAttemptsError around AccessDeniedException", func(t *testing.T) error {
			return &retry.MaxAttemptsError{Attempt: 6, Err: glueAnswer(t, 400, "AccessDeniedException")}
		}, NotTransient},

		// No answer at all: the request never reached AWS.
		{"real connection refused (RequestSendError, url.Error, net.OpError)", func(t *testing.T) error {
			err := glueError(t, closedPort(t), aws.NopRetryer{})
			var op *net.OpError
			var ue *url.Error
			if !errors.As(err, &op) || !errors.As(err, &ue) {
				t.Fatalf("not a network error: %#v", err)
			}
			return err
		}, NoAnswer},
		{"net.OpError read connection reset", func(*testing.T) error {
			return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errors.New("connection reset by peer"))}
		}, NoAnswer},
		{"url.Error around a DNS failure", func(*testing.T) error {
			return &url.Error{Op: "Post", URL: "https://glue.eu-west-1.amazonaws.com/", Err: &net.DNSError{Err: "server misbehaving", Name: "glue.eu-west-1.amazonaws.com", IsTemporary: true}}
		}, NoAnswer},
		{"the Lambda's deadline", func(*testing.T) error {
			return fmt.Errorf("operation error Glue: GetWorkflowRun: %w", context.DeadlineExceeded)
		}, NoAnswer},
		{"real call with a cancelled context", func(t *testing.T) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			client := glue.New(glue.Options{Region: "eu-west-1", BaseEndpoint: aws.String(closedPort(t)), Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{}})
			_, err := client.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String("w"), RunId: aws.String("r")})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("not a cancelled call: %v", err)
			}
			return err
		}, NotTransient},
		{"nil", func(*testing.T) error { return nil }, NotTransient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err(t)
			if got := Classify(err); got != c.want {
				t.Errorf("Classify(%v) = %q, want %q", err, got, c.want)
			}
			if got, want := Transient(err), c.want != NotTransient; got != want {
				t.Errorf("Transient(%v) = %v, want %v", err, got, want)
			}
		})
	}
}

// The SDK's standard retryer documents its throttle codes, retryable codes
// and retryable statuses; an answer the SDK retried and gave up on must
// reach the state machine as transient too, so the two layers agree.
func TestEverythingTheSDKRetriesIsTransient(t *testing.T) {
	for code := range retry.DefaultThrottleErrorCodes {
		if got := Classify(&smithy.GenericAPIError{Code: code}); got != Throttled {
			t.Errorf("SDK throttle code %s: Classify = %q, want %q", code, got, Throttled)
		}
	}
	for code := range retry.DefaultRetryableErrorCodes {
		if !Transient(&smithy.GenericAPIError{Code: code}) {
			t.Errorf("SDK retryable code %s is not transient", code)
		}
	}
	for status := range retry.DefaultRetryableHTTPStatusCodes {
		if got := Classify(glueAnswer(t, status, "UnlistedError")); got != ServiceFault {
			t.Errorf("SDK retryable HTTP %d: Classify = %q, want %q", status, got, ServiceFault)
		}
	}
}

func TestEventualConsistencyOfRealSDKErrors(t *testing.T) {
	busy := &lftypes.ConcurrentModificationException{Message: aws.String("Another update is in progress")}
	if name, ok := EventualConsistency(busy); !ok || name != "concurrent modification" {
		t.Errorf("EventualConsistency(ConcurrentModificationException) = %q, %v", name, ok)
	}
	if _, ok := EventualConsistency(&gluetypes.ThrottlingException{Message: aws.String("Rate exceeded")}); ok {
		t.Error("throttling is the SDK retryer's, not an eventual-consistency condition")
	}
}

func TestCodeMessageAndStatusOfARealAnswer(t *testing.T) {
	err := glueAnswer(t, 400, "EntityNotFoundException")
	if Code(err) != "EntityNotFoundException" || Message(err) != "m" || HTTPStatus(err) != 400 {
		t.Errorf("Code, Message, HTTPStatus = %q, %q, %d", Code(err), Message(err), HTTPStatus(err))
	}
	if !IsCode(err, "AlreadyExistsException", "EntityNotFoundException") || IsCode(err, "AlreadyExistsException") {
		t.Error("IsCode does not match exactly the listed codes")
	}
	refused := glueError(t, closedPort(t), aws.NopRetryer{})
	if Code(refused) != "" || HTTPStatus(refused) != 0 || IsCode(refused, "") {
		t.Errorf("a refused connection has no code or status: %q, %d", Code(refused), HTTPStatus(refused))
	}
}
