package steperr

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
)

// glueAnswering returns the error a real Glue client returns when the
// service answers status and body (a JSON 1.1 error) with request id req-7.
func glueAnswering(t *testing.T, status int, body string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "req-7")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	client := glue.New(glue.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
	})
	_, err := client.GetWorkflowRun(context.Background(), &glue.GetWorkflowRunInput{Name: aws.String("w"), RunId: aws.String("r")})
	if err == nil {
		t.Fatal("the stub answered an error, the client returned none")
	}
	return err
}

// Defect 7 of issue 8: a 5xx that persists through every retry reaches the
// failure notice as the TransientError's message. It must name the AWS
// answer (code, HTTP status, request id, message) and must not promise
// that the condition clears by itself.
func TestTransientErrorCarriesThePersistentAWSAnswer(t *testing.T) {
	sdkErr := glueAnswering(t, 500, `{"__type":"InternalServiceException","message":"Internal service error, try again"}`)
	msg := (&TransientError{Op: "glue:GetWorkflowRun", Err: sdkErr, Waited: "2m0s"}).Error()
	for _, want := range []string{
		"glue:GetWorkflowRun",
		"AWS answered InternalServiceException (HTTP 500, request id req-7): Internal service error, try again",
		"every retry failed",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "(transient") {
		t.Errorf("message still calls a persistent answer transient:\n%s", msg)
	}
}

func TestAWSDetail(t *testing.T) {
	denied := glueAnswering(t, 400, `{"__type":"AccessDeniedException","message":"User is not authorized"}`)
	if got, want := AWSDetail(denied), "AWS answered AccessDeniedException (HTTP 400, request id req-7): User is not authorized"; got != want {
		t.Errorf("AWSDetail = %q, want %q", got, want)
	}
	if got := AWSDetail(errors.New("dial tcp: connection refused")); got != "" {
		t.Errorf("a network error has no AWS answer, got %q", got)
	}
	if AWSDetail(nil) != "" {
		t.Error("AWSDetail(nil) is not empty")
	}
}
