package preflight

// glue:TestConnection in the unit tier: moto has no TestConnection (it
// answers HTTP 500), so a stub Glue client returns the documented failure
// messages and the test checks each maps to its cause and fix.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

type stubGlue struct {
	answer error
	calls  []string
}

func (s *stubGlue) GetConnection(context.Context, *glue.GetConnectionInput, ...func(*glue.Options)) (*glue.GetConnectionOutput, error) {
	s.calls = append(s.calls, "GetConnection")
	return nil, &gluetypes.EntityNotFoundException{Message: aws.String("not used")}
}

func (s *stubGlue) TestConnection(_ context.Context, in *glue.TestConnectionInput, _ ...func(*glue.Options)) (*glue.TestConnectionOutput, error) {
	s.calls = append(s.calls, "TestConnection:"+aws.ToString(in.ConnectionName))
	return &glue.TestConnectionOutput{}, s.answer
}

func unitTarget() Target {
	return Target{
		ConnectionName: "lakeforge-source", Engine: "postgresql", Host: "db.internal", Port: 5432, Database: "kthr01",
		SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:src-AbCdEf", SubnetID: "subnet-0123456789abcdef0",
		SecurityGroupIDs: []string{"sg-0123456789abcdef0"},
	}
}

func unitNetwork() *network {
	return &network{vpcID: "vpc-0123456789abcdef0", routeTable: &ec2types.RouteTable{RouteTableId: aws.String("rtb-0123456789abcdef0")}}
}

func invalidInput(msg string) error {
	return &gluetypes.InvalidInputException{Message: aws.String(msg)}
}

func serverError(code string, status int) error {
	return &smithy.OperationError{ServiceID: "Glue", OperationName: "TestConnection", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: &smithy.GenericAPIError{Code: code, Message: "try again"}},
	}}
}

// unreachable is the error an SDK call returns when the endpoint cannot be
// reached: the connection timed out before any answer.
func unreachable(op string) error {
	return &smithy.OperationError{ServiceID: "Glue", OperationName: op, Err: &smithyhttp.RequestSendError{Err: &url.Error{
		Op: "Post", URL: "https://glue.us-east-1.amazonaws.com/",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection timed out")},
	}}}
}

// A check that cannot ask AWS because AWS cannot be reached fails as
// temporary, so the step ends in a TransientError the state machine retries.
func TestAPIFailureOfAnUnreachableEndpointIsTransient(t *testing.T) {
	ch := apiFailure(Check{Name: CheckSubnet}, "ec2:DescribeSubnets", unreachable("DescribeSubnets"), "the reader needs ec2:DescribeSubnets")
	if ch.Status != Fail || !ch.Transient || !strings.Contains(ch.Fix, "no answer from AWS") {
		t.Fatalf("status %s transient %t fix %q", ch.Status, ch.Transient, ch.Fix)
	}
	rep := Report{Connection: "c", Checks: []Check{ch}}
	rep.finish()
	if _, ok := rep.Error().(*steperr.TransientError); !ok {
		t.Fatalf("report error %T, want *steperr.TransientError", rep.Error())
	}
	denied := apiFailure(Check{Name: CheckSubnet}, "ec2:DescribeSubnets", &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "no"}, "the reader needs ec2:DescribeSubnets")
	if denied.Transient || denied.Fix != "the reader needs ec2:DescribeSubnets" {
		t.Fatalf("a denied call: transient %t fix %q", denied.Transient, denied.Fix)
	}
}

func TestGlueTestConnectionMapping(t *testing.T) {
	cases := []struct {
		name      string
		answer    error
		status    Status
		transient bool
		want      []string // fragments of summary + fix
	}{
		{"success", nil, Pass, false, []string{"reached postgresql db.internal:5432/kthr01"}},
		{"inbound rule", invalidInput("At least one security group must open all ingress ports. To limit traffic, the source security group in your inbound rule can be restricted to the same security group. (Inbound rule in security group required)"),
			Fail, false, []string{"security group self-reference", "authorize-security-group-ingress --group-id sg-0123456789abcdef0", "GroupId=sg-0123456789abcdef0"}},
		{"outbound rule", invalidInput("Outbound rule in security group required: at least one security group must open all egress ports"),
			Fail, false, []string{"outbound", "authorize-security-group-egress --group-id sg-0123456789abcdef0"}},
		{"s3 endpoint", invalidInput("VPC S3 endpoint validation failed for SubnetId: subnet-0123456789abcdef0. VPC: vpc-0123456789abcdef0. Reason: Could not find S3 endpoint or NAT gateway for subnetId: subnet-0123456789abcdef0 in Vpc vpc-0123456789abcdef0"),
			Fail, false, []string{"no route to S3", "create-vpc-endpoint --vpc-id vpc-0123456789abcdef0", "--route-table-ids rtb-0123456789abcdef0"}},
		{"private dns", invalidInput("No private DNS for network interface found."),
			Fail, false, []string{"DNS hostnames", "--enable-dns-hostnames"}},
		{"subnet az", invalidInput("Could not find subnet for AZ us-east-1e"),
			Fail, false, []string{"availability zone", "network.subnetId"}},
		{"describe permission", invalidInput("DescribeVpcEndpoints action is unauthorized. unable to validate VPC ID vpc-0123456789abcdef0"),
			Fail, false, []string{"EC2 permission", "ec2:Describe"}},
		{"postgres password", invalidInput(`Unable to connect: FATAL: password authentication failed for user "importer"`),
			Fail, false, []string{"rejected the secret's username or password", "put-secret-value --secret-id arn:aws:secretsmanager"}},
		{"mysql password", invalidInput("Access denied for user 'importer'@'10.0.1.7' (using password: YES)"),
			Fail, false, []string{"rejected the secret's username or password"}},
		{"unknown database", invalidInput(`FATAL: database "kthr01" does not exist`),
			Fail, false, []string{"does not exist on the server", "source.databaseName"}},
		{"unknown host", invalidInput("java.net.UnknownHostException: db.internal"),
			Fail, false, []string{"does not resolve", "source.host (db.internal)"}},
		{"refused", invalidInput("Connection refused (Connection refused)"),
			Fail, false, []string{"nothing listens", "source.port (5432)"}},
		{"tls", invalidInput("SSL error: PKIX path building failed: unable to find valid certification path"),
			Fail, false, []string{"TLS", "source.requireTls"}},
		{"timeout", invalidInput("Communications link failure: connect timed out"),
			Fail, false, []string{"could not reach the database in time", "inbound TCP 5432 from security group sg-0123456789abcdef0"}},
		{"not deployed", &gluetypes.EntityNotFoundException{Message: aws.String("Connection not found")},
			Fail, false, []string{"does not exist", "make deploy"}},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: glue:TestConnection"},
			Fail, false, []string{"not allowed", "glue:TestConnection"}},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
			Fail, true, []string{"temporary", "retries"}},
		{"server error", serverError("InternalServiceException", 500),
			Fail, true, []string{"temporary"}},
		// Before issue 11 preflight alone called a network failure permanent
		// and matched its text against the database causes.
		{"no answer from Glue", unreachable("TestConnection"),
			Fail, true, []string{"temporary", "no answer from AWS", "retries"}},
		{"glue side timeout", &gluetypes.OperationTimeoutException{Message: aws.String("operation timed out")},
			Fail, false, []string{"could not reach the database in time"}},
		{"unknown message", invalidInput("something new"),
			Fail, false, []string{"does not recognise", "make preflight"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stub := &stubGlue{answer: c.answer}
			ch := (&Checker{Glue: stub}).checkGlueTest(context.Background(), unitTarget(), true, nil, unitNetwork())
			if ch.Status != c.status || ch.Transient != c.transient {
				t.Fatalf("status %s transient %t, want %s %t: %s | %s", ch.Status, ch.Transient, c.status, c.transient, ch.Summary, ch.Fix)
			}
			if len(stub.calls) != 1 || stub.calls[0] != "TestConnection:lakeforge-source" {
				t.Fatalf("calls = %v", stub.calls)
			}
			text := ch.Summary + " | " + ch.Fix
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q lacks %q", text, w)
				}
			}
			if c.answer != nil && !strings.Contains(strings.Join(ch.Evidence, " "), "glue:TestConnection: ") {
				t.Errorf("evidence does not carry Glue's message: %v", ch.Evidence)
			}
		})
	}
}

// The step error follows the report: PreflightError for a real problem,
// TransientError when every failure is temporary.
func TestReportError(t *testing.T) {
	rep := Report{Connection: "c", Checks: []Check{{Name: CheckSecret, Status: Pass}, {Name: CheckGlueTest, Status: Fail, Transient: true, Summary: "throttled"}}}
	rep.finish()
	if _, ok := rep.Error().(*steperr.TransientError); !ok {
		t.Fatalf("transient only: %T", rep.Error())
	}
	rep.Checks = append(rep.Checks, Check{Name: CheckS3Route, Status: Fail, Summary: "no route", Fix: "add one"})
	rep.finish()
	pf, ok := rep.Error().(*steperr.PreflightError)
	if !ok || len(pf.Failed) != 2 || !strings.Contains(pf.Report, "fix: add one") {
		t.Fatalf("got %T %v", rep.Error(), rep.Error())
	}
	rep.Checks = rep.Checks[:1]
	rep.finish()
	if rep.Error() != nil {
		t.Fatalf("passing report gave %v", rep.Error())
	}
}

// glue:TestConnection is not called when an earlier check failed, nor for
// an undeployed connection.
func TestGlueTestSkipped(t *testing.T) {
	stub := &stubGlue{}
	c := &Checker{Glue: stub}
	ch := c.checkGlueTest(context.Background(), unitTarget(), true, []Check{{Name: CheckS3Route, Status: Fail}}, unitNetwork())
	if ch.Status != NotRun || !strings.Contains(ch.Summary, CheckS3Route) {
		t.Fatalf("earlier failure: %s %s", ch.Status, ch.Summary)
	}
	ch = c.checkGlueTest(context.Background(), unitTarget(), false, nil, unitNetwork())
	if ch.Status != NotDeployed {
		t.Fatalf("not deployed: %s", ch.Status)
	}
	if len(stub.calls) != 0 {
		t.Fatalf("calls = %v, want none", stub.calls)
	}
}

func TestParseJDBCURL(t *testing.T) {
	cases := map[string]Target{
		"jdbc:postgresql://db.example.com:5433/kthr01": {Engine: "postgresql", Host: "db.example.com", Port: 5433, Database: "kthr01"},
		"jdbc:mysql://db.example.com/shop":             {Engine: "mysql", Host: "db.example.com", Port: 3306, Database: "shop"},
		"jdbc:postgresql://db.example.com/kthr01":      {Engine: "postgresql", Host: "db.example.com", Port: 5432, Database: "kthr01"},
	}
	for raw, want := range cases {
		var got Target
		if err := got.parseJDBCURL(raw); err != nil || got.Engine != want.Engine || got.Host != want.Host || got.Port != want.Port || got.Database != want.Database {
			t.Errorf("%s: got %+v err %v", raw, got, err)
		}
	}
	var bad Target
	if err := bad.parseJDBCURL("postgresql://x/y"); err == nil {
		t.Error("URL without jdbc: accepted")
	}
}

var _ GlueAPI = (*stubGlue)(nil)
