package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// Athena cancels a query that scans more than the workgroup's per-query
// cutoff (Athena user guide, "Configure per-query and per-workgroup data
// usage controls"); the count query reports it with the setting to raise.
// moto runs no SQL and never cancels, hence the stub.
func TestCancelledQueryNamesTheBytesScannedCutoff(t *testing.T) {
	puts := 0
	a := stubAthena{state: athenatypes.QueryExecutionStateCancelled, reason: "Query cancelled! : Bytes scanned limit was exceeded"}
	_, err := verifier(a, manifest, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
	var ve *steperr.VerificationError
	if !errors.As(err, &ve) {
		t.Fatalf("want VerificationError, got %T %v", err, err)
	}
	for _, want := range []string{"kthr01.workflow_kthr01_products", "Bytes scanned limit was exceeded", "athena.bytesScannedCutoffPerQuery"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err.Error(), want)
		}
	}
}

// The analyst's Athena client gets its credentials from STS AssumeRole. A
// trust policy that does not let the function's role assume the analyst
// role makes STS answer AccessDenied (a real STS client against a server
// giving STS's documented error answer; moto's STS grants every
// AssumeRole): the step names the trust policy, not the workgroup, and
// carries STS's answer.
func TestAnalystRoleThatCannotBeAssumed(t *testing.T) {
	client, athenaCalled := analystClient(t, http.StatusForbidden, "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/verify/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/analyst")
	puts := 0
	_, err := verifier(client, manifest, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
	var ve *steperr.VerificationError
	if !errors.As(err, &ve) {
		t.Fatalf("want VerificationError, got %T %v", err, err)
	}
	for _, want := range []string{"cannot assume the analyst role arn:aws:iam::1:role/analyst", "AWS answered AccessDenied (HTTP 403, request id req-9)", "trust policy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err.Error(), want)
		}
	}
	if *athenaCalled {
		t.Error("Athena was called without the analyst's credentials")
	}
}

// STS throttling while getting the analyst's credentials clears by itself:
// TransientError, which the state machine retries.
func TestThrottledAssumeRoleIsTransient(t *testing.T) {
	client, _ := analystClient(t, http.StatusBadRequest, "Throttling", "Rate exceeded")
	puts := 0
	_, err := verifier(client, manifest, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
	var te *steperr.TransientError
	if !errors.As(err, &te) || te.Op != "sts:AssumeRole" {
		t.Fatalf("want TransientError for sts:AssumeRole, got %T %v", err, err)
	}
}

// analystClient is an Athena client whose credentials come from a real STS
// client's AssumeRole, against a server that answers STS's documented
// error response with code and message.
func analystClient(t *testing.T, status int, code, message string) (*athena.Client, *bool) {
	t.Helper()
	stsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-Requestid", "req-9")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>` + code + `</Code><Message>` + message + `</Message></Error><RequestId>req-9</RequestId></ErrorResponse>`))
	}))
	t.Cleanup(stsSrv.Close)
	athenaCalled := new(bool)
	athenaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*athenaCalled = true
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(athenaSrv.Close)
	stsClient := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(stsSrv.URL), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""), Retryer: aws.NopRetryer{}})
	analyst := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, "arn:aws:iam::1:role/analyst"))
	return athena.New(athena.Options{Region: "us-east-1", BaseEndpoint: aws.String(athenaSrv.URL), Credentials: analyst, Retryer: aws.NopRetryer{}}), athenaCalled
}
