package preflight

// The checks and repairs against the moto server (EC2, Secrets Manager,
// Glue GetConnection). moto has no glue:TestConnection (it answers HTTP
// 500), so the Glue client here sends GetConnection to moto and answers
// TestConnection from a recorded stub; the stub's own mapping of failure
// messages is tested in gluetest_test.go.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// glueWithStubbedTest is the real Glue client for everything but
// TestConnection, which moto lacks.
type glueWithStubbedTest struct {
	*glue.Client
	mu     sync.Mutex
	calls  int
	answer error
}

func (g *glueWithStubbedTest) TestConnection(_ context.Context, in *glue.TestConnectionInput, _ ...func(*glue.Options)) (*glue.TestConnectionOutput, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	return &glue.TestConnectionOutput{}, g.answer
}

// env is one fake account: a VPC with a subnet and a security group with
// neither the self-referencing rule nor an S3 route, a secret and the
// Glue connection.
type env struct {
	t       *testing.T
	ec2     *ec2.Client
	rec     *awscalls.Recorder
	glue    *glueWithStubbedTest
	checker *Checker
	vpc     string
	subnet  string
	sg      string
	rtb     string
	secret  string
}

const testStack = "lakeforge-test"

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := motoserver.Current(t)
	srv.Reset(t)
	ctx := motoserver.Context(t)
	rec := &awscalls.Recorder{}
	setup := srv.Config()
	e := &env{t: t, ec2: ec2.NewFromConfig(setup), rec: rec}

	vpc, err := e.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	must(t, err)
	e.vpc = aws.ToString(vpc.Vpc.VpcId)
	_, err = e.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(e.vpc), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must(t, err)
	sub, err := e.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(e.vpc), CidrBlock: aws.String("10.20.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must(t, err)
	e.subnet = aws.ToString(sub.Subnet.SubnetId)
	rt, err := e.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(e.vpc)})
	must(t, err)
	e.rtb = aws.ToString(rt.RouteTable.RouteTableId)
	_, err = e.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(e.rtb), SubnetId: aws.String(e.subnet)})
	must(t, err)
	sg, err := e.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("glue"), Description: aws.String("glue"), VpcId: aws.String(e.vpc)})
	must(t, err)
	e.sg = aws.ToString(sg.GroupId)

	sm := secretsmanager.NewFromConfig(setup)
	sec, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("lakeforge/source"),
		SecretString: aws.String(`{"username":"importer","password":"testing","host":"db.internal","port":5432,"dbname":"kthr01"}`),
	})
	must(t, err)
	e.secret = aws.ToString(sec.ARN)

	g := glue.NewFromConfig(setup)
	_, err = g.CreateConnection(ctx, &glue.CreateConnectionInput{ConnectionInput: &gluetypes.ConnectionInput{
		Name:           aws.String("lakeforge-test-source"),
		ConnectionType: gluetypes.ConnectionTypeJdbc,
		ConnectionProperties: map[string]string{
			"JDBC_CONNECTION_URL": "jdbc:postgresql://db.internal:5432/kthr01",
			"SECRET_ID":           e.secret,
			"JDBC_ENFORCE_SSL":    "true",
		},
		PhysicalConnectionRequirements: &gluetypes.PhysicalConnectionRequirements{
			SubnetId:            aws.String(e.subnet),
			AvailabilityZone:    aws.String("us-east-1a"),
			SecurityGroupIdList: []string{e.sg},
		},
	}})
	must(t, err)

	// The checker's clients record every call.
	checked := rec.Attach(srv.Config())
	e.glue = &glueWithStubbedTest{Client: glue.NewFromConfig(checked)}
	e.checker = &Checker{
		EC2:       ec2.NewFromConfig(checked),
		Route53:   route53.NewFromConfig(checked),
		Secrets:   secretsmanager.NewFromConfig(checked),
		Glue:      e.glue,
		Region:    motoserver.Region,
		StackName: testStack,
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) addSelfReferencingRule() {
	_, err := e.ec2.AuthorizeSecurityGroupIngress(motoserver.Context(e.t), &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(e.sg),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e.sg)}}}},
	})
	must(e.t, err)
}

func (e *env) addS3Endpoint() {
	_, err := e.ec2.CreateVpcEndpoint(motoserver.Context(e.t), &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(e.vpc), ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{e.rtb},
	})
	must(e.t, err)
}

// The interface endpoints the job needs without a NAT route, as the
// requirement names them (issue 8, defect 4; docs/aws-behaviour.md).
var wantInterfaceServices = []string{
	"com.amazonaws.us-east-1.glue",
	"com.amazonaws.us-east-1.secretsmanager",
	"com.amazonaws.us-east-1.sts",
	"com.amazonaws.us-east-1.lakeformation",
	// The job's security configuration encrypts with KMS: Glue needs a
	// route to KMS for a JDBC job with one.
	"com.amazonaws.us-east-1.kms",
}

// addInterfaceEndpoint creates an interface endpoint in the subnet with the
// connection's group (whose self-referencing rule admits HTTPS).
func (e *env) addInterfaceEndpoint(service string, privateDNS bool, groups ...string) string {
	if len(groups) == 0 {
		groups = []string{e.sg}
	}
	out, err := e.ec2.CreateVpcEndpoint(motoserver.Context(e.t), &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(e.vpc), ServiceName: aws.String(service), VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		SubnetIds: []string{e.subnet}, SecurityGroupIds: groups, PrivateDnsEnabled: aws.Bool(privateDNS),
	})
	must(e.t, err)
	return aws.ToString(out.VpcEndpoint.VpcEndpointId)
}

func (e *env) addInterfaceEndpoints() {
	for _, s := range wantInterfaceServices {
		e.addInterfaceEndpoint(s, true)
	}
}

func (e *env) run() Report {
	return e.checker.RunDeployed(motoserver.Context(e.t), "lakeforge-test-source")
}

func statusOf(r Report) map[string]Status {
	out := map[string]Status{}
	for _, c := range r.Checks {
		out[c.Name] = c.Status
	}
	return out
}

func wantStatuses(t *testing.T, r Report, want map[string]Status) {
	t.Helper()
	got := statusOf(r)
	for name, st := range want {
		if got[name] != st {
			t.Errorf("check %s = %s, want %s\n%s", name, got[name], st, r.String())
		}
	}
}

func wantText(t *testing.T, c *Check, parts ...string) {
	t.Helper()
	if c == nil {
		t.Fatal("check missing from report")
	}
	text := c.Summary + " | " + c.Fix + " | " + strings.Join(c.Evidence, " | ")
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("check %s lacks %q:\n%s", c.Name, p, text)
		}
	}
}

// The original build's two failures, one after the other, then success.
func TestNetworkFailuresInOrder(t *testing.T) {
	e := newEnv(t)

	r := e.run()
	wantStatuses(t, r, map[string]Status{
		CheckSecret: Pass, CheckSubnet: Pass, CheckSecurityGroups: Fail, CheckS3Route: Fail, CheckEndpoints: Fail, CheckDNSAndIPs: Pass, CheckGlueTest: NotRun,
	})
	wantText(t, r.Get(CheckSecurityGroups), e.sg, "self-referencing inbound rule", "aws ec2 authorize-security-group-ingress --group-id "+e.sg, "GroupId="+e.sg)
	wantText(t, r.Get(CheckS3Route), e.rtb, e.subnet, "aws ec2 create-vpc-endpoint --vpc-id "+e.vpc, "--route-table-ids "+e.rtb, "com.amazonaws.us-east-1.s3")
	wantText(t, r.Get(CheckSubnet), "explicit association", e.rtb)
	if e.glue.calls != 0 {
		t.Errorf("glue:TestConnection called %d times while earlier checks fail", e.glue.calls)
	}
	if r.Passed {
		t.Fatal("report passed without the rule and the endpoint")
	}

	e.addSelfReferencingRule()
	r = e.run()
	wantStatuses(t, r, map[string]Status{CheckSecurityGroups: Pass, CheckS3Route: Fail, CheckGlueTest: NotRun})
	wantText(t, r.Get(CheckS3Route), e.rtb, "create-vpc-endpoint")
	if got := r.FailedNames(); !slices.Equal(got, []string{CheckS3Route, CheckEndpoints}) {
		t.Errorf("failed = %v, want only %s and %s", got, CheckS3Route, CheckEndpoints)
	}

	e.addS3Endpoint()
	r = e.run()
	// The seed's network: S3 gateway endpoint, no NAT. The job's other
	// AWS APIs are unreachable.
	wantStatuses(t, r, map[string]Status{CheckS3Route: Pass, CheckEndpoints: Fail, CheckGlueTest: NotRun})
	wantText(t, r.Get(CheckEndpoints), append([]string{"no NAT route", "--vpc-endpoint-type Interface", "--subnet-ids " + e.subnet, "--private-dns-enabled"}, wantInterfaceServices...)...)

	e.addInterfaceEndpoints()
	r = e.run()
	wantStatuses(t, r, map[string]Status{
		CheckSecret: Pass, CheckSubnet: Pass, CheckSecurityGroups: Pass, CheckS3Route: Pass, CheckEndpoints: Pass, CheckDNSAndIPs: Pass, CheckGlueTest: Pass,
	})
	if !r.Passed || e.glue.calls != 1 {
		t.Fatalf("passed=%t glue calls=%d, want passed after 1 call\n%s", r.Passed, e.glue.calls, r.String())
	}
	if m := e.rec.Mutating(); len(m) != 0 {
		t.Errorf("checks without repair made mutating calls: %v", m)
	}
}

func TestRepairFixesBothThenConverges(t *testing.T) {
	e := newEnv(t)
	e.checker.Repair = true

	r := e.run()
	if !r.Passed {
		t.Fatalf("repair run did not pass:\n%s", r.String())
	}
	// The rule, the S3 gateway endpoint and one interface endpoint per API.
	want := []string{"ec2:AuthorizeSecurityGroupIngress"}
	for range 1 + len(wantInterfaceServices) {
		want = append(want, "ec2:CreateVpcEndpoint")
	}
	if got := e.rec.Mutating(); !slices.Equal(got, want) {
		t.Fatalf("mutating calls = %v, want %v", got, want)
	}
	// The third line is the billing notice for the interface endpoints
	// (TestRepairSaysInterfaceEndpointsAreBilledBeforeCreatingThem).
	if len(r.Repairs) != 3+len(wantInterfaceServices) || !strings.Contains(r.Repairs[0], e.sg) || !strings.Contains(r.Repairs[1], e.rtb) {
		t.Fatalf("repairs = %q, want the rule on %s, the endpoint on %s, the billing notice and the interface endpoints", r.Repairs, e.sg, e.rtb)
	}
	for i, svc := range wantInterfaceServices {
		if !strings.Contains(r.Repairs[3+i], svc) || !strings.Contains(r.Repairs[3+i], e.subnet) {
			t.Errorf("repair %d = %q, want the %s endpoint in %s", 3+i, r.Repairs[3+i], svc, e.subnet)
		}
	}

	// What was created carries the lakeforge tag.
	ctx := motoserver.Context(t)
	eps, err := e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{e.vpc}}}})
	must(t, err)
	if len(eps.VpcEndpoints) != 1+len(wantInterfaceServices) {
		t.Errorf("%d endpoints, want %d", len(eps.VpcEndpoints), 1+len(wantInterfaceServices))
	}
	for _, ep := range eps.VpcEndpoints {
		if !hasTag(ep.Tags, CreatedByTag, testStack) {
			t.Errorf("endpoint %s not tagged %s=%s", aws.ToString(ep.VpcEndpointId), CreatedByTag, testStack)
		}
		if ep.VpcEndpointType != ec2types.VpcEndpointTypeInterface {
			continue
		}
		// The request the repair sends: the subnet, the connection's group,
		// private DNS on.
		if !aws.ToBool(ep.PrivateDnsEnabled) || !slices.Equal(ep.SubnetIds, []string{e.subnet}) || len(ep.Groups) != 1 || aws.ToString(ep.Groups[0].GroupId) != e.sg {
			t.Errorf("interface endpoint %s: private DNS %t, subnets %v, groups %+v; want true, [%s], [%s]",
				aws.ToString(ep.ServiceName), aws.ToBool(ep.PrivateDnsEnabled), ep.SubnetIds, ep.Groups, e.subnet, e.sg)
		}
	}
	rules, err := e.ec2.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{e.sg}}}})
	must(t, err)
	tagged := false
	for _, rule := range rules.SecurityGroupRules {
		if !aws.ToBool(rule.IsEgress) && hasTag(rule.Tags, CreatedByTag, testStack) {
			tagged = true
		}
	}
	if !tagged {
		t.Errorf("no inbound rule of %s tagged %s=%s: %+v", e.sg, CreatedByTag, testStack, rules.SecurityGroupRules)
	}

	e.rec.Reset()
	r = e.run()
	if !r.Passed || len(r.Repairs) != 0 {
		t.Fatalf("second run: passed=%t repairs=%v\n%s", r.Passed, r.Repairs, r.String())
	}
	if m := e.rec.Mutating(); len(m) != 0 {
		t.Fatalf("second run made mutating calls %v, want none", m)
	}
}

// addS3EndpointElsewhere creates an S3 gateway endpoint on a second route
// table of the VPC, not the subnet's.
func (e *env) addS3EndpointElsewhere() (endpoint, otherTable string) {
	ctx := motoserver.Context(e.t)
	rt, err := e.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(e.vpc)})
	must(e.t, err)
	otherTable = aws.ToString(rt.RouteTable.RouteTableId)
	out, err := e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(e.vpc), ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{otherTable},
	})
	must(e.t, err)
	return aws.ToString(out.VpcEndpoint.VpcEndpointId), otherTable
}

func hasTag(tags []ec2types.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

// A NAT gateway route reaches S3; an internet gateway route does not,
// because Glue's network interfaces have no public address.
func TestS3RouteNATAndInternetGateway(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	ctx := motoserver.Context(t)
	igw, err := e.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(t, err)
	igwID := aws.ToString(igw.InternetGateway.InternetGatewayId)
	_, err = e.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igwID), VpcId: aws.String(e.vpc)})
	must(t, err)
	_, err = e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(e.rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igwID)})
	must(t, err)

	r := e.run()
	wantStatuses(t, r, map[string]Status{CheckS3Route: Fail, CheckEndpoints: Fail})
	wantText(t, r.Get(CheckS3Route), igwID+" does not count", "no public IP")

	eip, err := e.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	must(t, err)
	nat, err := e.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(e.subnet), AllocationId: eip.AllocationId})
	must(t, err)
	natID := aws.ToString(nat.NatGateway.NatGatewayId)
	_, err = e.ec2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(e.rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(natID)})
	must(t, err)
	r = e.run()
	// A NAT route reaches S3 and every other AWS API: no endpoint needed.
	wantStatuses(t, r, map[string]Status{CheckS3Route: Pass, CheckEndpoints: Pass, CheckGlueTest: Pass})
	wantText(t, r.Get(CheckS3Route), natID)
	wantText(t, r.Get(CheckEndpoints), natID)
}

// Without an explicit association the VPC's main route table applies.
func TestMainRouteTableApplies(t *testing.T) {
	e := newEnv(t)
	ctx := motoserver.Context(t)
	rts, err := e.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{e.subnet}}}})
	must(t, err)
	for _, a := range rts.RouteTables[0].Associations {
		if aws.ToString(a.SubnetId) == e.subnet {
			_, err = e.ec2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId})
			must(t, err)
		}
	}
	r := e.run()
	wantText(t, r.Get(CheckSubnet), "the VPC's main route table")
	if strings.Contains(r.Get(CheckSubnet).Summary, e.rtb) {
		t.Errorf("subnet check still names the disassociated table %s: %s", e.rtb, r.Get(CheckSubnet).Summary)
	}
}

func TestSecretProblems(t *testing.T) {
	e := newEnv(t)
	ctx := motoserver.Context(t)
	sm := secretsmanager.NewFromConfig(motoserver.Current(t).Config())
	_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(e.secret), SecretString: aws.String(`{"username":"importer"}`)})
	must(t, err)
	r := e.run()
	wantStatuses(t, r, map[string]Status{CheckSecret: Fail})
	wantText(t, r.Get(CheckSecret), "password", "put-secret-value --secret-id "+e.secret, "keys present (values not shown): username")

	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(e.secret), SecretString: aws.String(`not json`)})
	must(t, err)
	r = e.run()
	wantText(t, r.Get(CheckSecret), "not a JSON object")

	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(e.secret), ForceDeleteWithoutRecovery: aws.Bool(true)})
	must(t, err)
	r = e.run()
	wantStatuses(t, r, map[string]Status{CheckSecret: Fail})
	wantText(t, r.Get(CheckSecret), "does not exist", "source.secretArn")
	if strings.Contains(r.String(), "testing") {
		t.Errorf("report shows a secret value:\n%s", r.String())
	}
}

func TestDNSAndFreeIPs(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addS3Endpoint()
	e.addInterfaceEndpoints()
	ctx := motoserver.Context(t)
	_, err := e.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(e.vpc), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
	must(t, err)
	e.checker.RequiredFreeIPs = 1000 // a /24 has 251 usable addresses
	r := e.run()
	wantStatuses(t, r, map[string]Status{CheckDNSAndIPs: Fail})
	wantText(t, r.Get(CheckDNSAndIPs), "enableDnsHostnames is off on "+e.vpc, "--enable-dns-hostnames", "1000 needed", "numberOfWorkers")
}

func TestMissingSubnetAndGroup(t *testing.T) {
	e := newEnv(t)
	tg := Target{
		ConnectionName: "lakeforge-test-source", Engine: "postgresql", Host: "db.internal", Port: 5432, Database: "kthr01",
		SecretID: e.secret, SubnetID: "subnet-0123456789abcdef0", SecurityGroupIDs: []string{"sg-0123456789abcdef0"},
	}
	r, _ := e.checker.Run(motoserver.Context(t), tg, true)
	wantStatuses(t, r, map[string]Status{CheckSubnet: Fail, CheckSecurityGroups: Fail, CheckS3Route: NotRun, CheckDNSAndIPs: NotRun, CheckGlueTest: NotRun})
	wantText(t, r.Get(CheckSubnet), "subnet-0123456789abcdef0 does not exist", "network.subnetId")
	wantText(t, r.Get(CheckSecurityGroups), "network.securityGroupIds")
}

// The operator CLI before the first deploy: checks 1-5 run, and
// glue:TestConnection says the connection is not deployed yet.
func TestRunConfiguredNotDeployed(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addS3Endpoint()
	tg := Target{
		ConnectionName: "lakeforge-not-yet", Engine: "postgresql", Host: "db.internal", Port: 5432, Database: "kthr01",
		SecretID: e.secret, SubnetID: e.subnet, AvailabilityZone: "us-east-1a", SecurityGroupIDs: []string{e.sg},
	}
	e.addInterfaceEndpoints()
	r, creds := e.checker.RunConfigured(motoserver.Context(t), tg)
	wantStatuses(t, r, map[string]Status{CheckSecret: Pass, CheckS3Route: Pass, CheckEndpoints: Pass, CheckGlueTest: NotDeployed})
	wantText(t, r.Get(CheckGlueTest), "not deployed yet", "make deploy")
	if !r.Passed || creds == nil || creds.Username != "importer" {
		t.Fatalf("passed=%t creds=%v\n%s", r.Passed, creds, r.String())
	}
	if e.glue.calls != 0 {
		t.Errorf("glue:TestConnection called for an undeployed connection")
	}
}

// The Lambda handler: PreflightError with the report on failure, the
// report in the output on success.
func TestHandler(t *testing.T) {
	e := newEnv(t)
	h := &Handler{Checker: e.checker, ConnectionName: "lakeforge-test-source"}
	_, err := h.Handle(motoserver.Context(t), Input{})
	var pf *steperr.PreflightError
	if !errors.As(err, &pf) || err != error(pf) {
		t.Fatalf("error = %T %v, want *steperr.PreflightError returned directly", err, err)
	}
	if !slices.Equal(pf.Failed, []string{CheckSecurityGroups, CheckS3Route, CheckEndpoints}) || !strings.Contains(pf.Report, "fix: aws ec2 authorize-security-group-ingress") {
		t.Fatalf("failed=%v report:\n%s", pf.Failed, pf.Report)
	}

	e.addSelfReferencingRule()
	e.addS3Endpoint()
	e.addInterfaceEndpoints()
	out, err := h.Handle(motoserver.Context(t), Input{})
	if err != nil || !out.Report.Passed || len(out.Report.Checks) != 8 {
		t.Fatalf("out=%+v err=%v", out, err)
	}

	h.ConnectionName = "missing"
	_, err = h.Handle(motoserver.Context(t), Input{})
	if !errors.As(err, &pf) || !strings.Contains(pf.Report, "does not exist") {
		t.Fatalf("missing connection: %v", err)
	}
}

// Every action the handler can call, over its paths: checks, both
// repairs, glue:TestConnection (from the stub, which moto lacks).
func TestIAMActionsGolden(t *testing.T) {
	e := newEnv(t)
	e.checker.Repair = true
	// An S3 gateway endpoint on another route table: repair modifies it.
	e.addS3EndpointElsewhere()
	if r := e.run(); !r.Passed {
		t.Fatalf("repair run failed:\n%s", r.String())
	}
	actions := e.rec.Actions()
	if e.glue.calls > 0 {
		actions = append(actions, awscalls.Action("Glue", "TestConnection"))
	}
	awscalls.CheckGolden(t, "../../"+awscalls.GoldenPath("test-connection"), actions)
}
