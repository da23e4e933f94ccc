package preflight

// The network path of the seed (an S3 gateway endpoint, no NAT) against
// moto: the interface endpoints the job needs, repair following its own
// advice for an S3 endpoint on another route table, the self-referencing
// rule judged exactly, and a failed glue:TestConnection after repairs.

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Repair adds the subnet's route table to an S3 gateway endpoint that
// exists on another table (ModifyVpcEndpoint AddRouteTableIds) instead of
// creating a second endpoint, as the check's fix says.
func TestRepairAddsRouteTableToExistingS3Endpoint(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addInterfaceEndpoints()
	ep, other := e.addS3EndpointElsewhere()

	r := e.run()
	wantStatuses(t, r, map[string]Status{CheckS3Route: Fail})
	wantText(t, r.Get(CheckS3Route), "aws ec2 modify-vpc-endpoint --vpc-endpoint-id "+ep+" --add-route-table-ids "+e.rtb)

	e.checker.Repair = true
	e.rec.Reset()
	r = e.run()
	if !r.Passed {
		t.Fatalf("repair run did not pass:\n%s", r.String())
	}
	if got := e.rec.Mutating(); !slices.Equal(got, []string{"ec2:ModifyVpcEndpoint"}) {
		t.Fatalf("mutating calls = %v, want one ec2:ModifyVpcEndpoint and no CreateVpcEndpoint", got)
	}
	if len(r.Repairs) != 1 || !strings.Contains(r.Repairs[0], ep) || !strings.Contains(r.Repairs[0], e.rtb) {
		t.Fatalf("repairs = %q, want route table %s added to %s", r.Repairs, e.rtb, ep)
	}
	out, err := e.ec2.DescribeVpcEndpoints(motoserver.Context(t), &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{e.vpc}},
		{Name: aws.String("service-name"), Values: []string{"com.amazonaws.us-east-1.s3"}},
	}})
	must(t, err)
	if len(out.VpcEndpoints) != 1 {
		t.Fatalf("%d S3 endpoints, want the one that existed", len(out.VpcEndpoints))
	}
	got := slices.Sorted(slices.Values(out.VpcEndpoints[0].RouteTableIds))
	if want := slices.Sorted(slices.Values([]string{other, e.rtb})); !slices.Equal(got, want) {
		t.Fatalf("route tables of %s = %v, want %v (the old one kept)", ep, got, want)
	}

	e.rec.Reset()
	if r = e.run(); !r.Passed || len(e.rec.Mutating()) != 0 {
		t.Fatalf("second run: passed=%t mutating=%v", r.Passed, e.rec.Mutating())
	}
}

// Interface endpoints that exist but do not serve the job: private DNS
// off (the SDK's default host name still resolves to the public address),
// or security groups that do not admit HTTPS from the connection. Repair
// does not change endpoints it did not create; the fix names the command.
func TestEndpointsThatDoNotServeTheJob(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addS3Endpoint()
	ctx := motoserver.Context(t)
	closed, err := e.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("endpoints"), Description: aws.String("no inbound"), VpcId: aws.String(e.vpc)})
	must(t, err)
	closedID := aws.ToString(closed.GroupId)
	glueEP := e.addInterfaceEndpoint("com.amazonaws.us-east-1.glue", false)
	stsEP := e.addInterfaceEndpoint("com.amazonaws.us-east-1.sts", true, closedID)
	e.addInterfaceEndpoint("com.amazonaws.us-east-1.secretsmanager", true)
	e.addInterfaceEndpoint("com.amazonaws.us-east-1.lakeformation", true)
	e.addInterfaceEndpoint("com.amazonaws.us-east-1.kms", true)

	r := e.run()
	wantStatuses(t, r, map[string]Status{CheckEndpoints: Fail, CheckGlueTest: NotRun})
	wantText(t, r.Get(CheckEndpoints),
		glueEP+" has private DNS off", "modify-vpc-endpoint --vpc-endpoint-id "+glueEP+" --private-dns-enabled",
		stsEP+"'s security groups ("+closedID+") do not admit HTTPS", "--vpc-endpoint-id "+stsEP+" --add-security-group-ids "+e.sg)
	if c := r.Get(CheckEndpoints); strings.Contains(c.Summary, "secretsmanager") || strings.Contains(c.Summary, "lakeformation") {
		t.Errorf("working endpoints reported as problems: %s", c.Summary)
	}

	// HTTPS from the subnet's range is enough, as is a rule for the
	// connection's group.
	_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(closedID),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.20.0.0/16")}}}}})
	must(t, err)
	// moto 5.2.5 ignores PrivateDnsEnabled in ModifyVpcEndpoint, so the
	// endpoint is replaced by one with private DNS on.
	_, err = e.ec2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{glueEP}})
	must(t, err)
	e.addInterfaceEndpoint("com.amazonaws.us-east-1.glue", true)
	r = e.run()
	wantStatuses(t, r, map[string]Status{CheckEndpoints: Pass, CheckGlueTest: Pass})

	// A rule for another port does not admit HTTPS.
	e2 := newEnv(t)
	e2.addSelfReferencingRule()
	e2.addS3Endpoint()
	g2, err := e2.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("endpoints"), Description: aws.String("5432 only"), VpcId: aws.String(e2.vpc)})
	must(t, err)
	_, err = e2.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g2.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e2.sg)}}}}})
	must(t, err)
	for _, s := range wantInterfaceServices {
		e2.addInterfaceEndpoint(s, true, aws.ToString(g2.GroupId))
	}
	r = e2.run()
	wantStatuses(t, r, map[string]Status{CheckEndpoints: Fail})
	wantText(t, r.Get(CheckEndpoints), "do not admit HTTPS")
}

// The security-group check enforces Glue's requirement exactly: a
// self-referencing inbound rule for all TCP ports. The rules are made
// with the real EC2 requests on moto; the check reads them back.
func TestSelfReferencingRuleIsExact(t *testing.T) {
	cases := []struct {
		name string
		perm func(e *env, other string) ec2types.IpPermission
		pass bool
	}{
		{"all TCP from itself", func(e *env, _ string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e.sg)}}}
		}, true},
		{"all traffic (protocol -1) from itself", func(e *env, _ string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e.sg)}}}
		}, true},
		{"partial range 1-65535 from itself", func(e *env, _ string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(65535), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e.sg)}}}
		}, false},
		{"partial range 0-1023 from itself", func(e *env, _ string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(1023), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e.sg)}}}
		}, false},
		{"database port only from itself", func(e *env, _ string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e.sg)}}}
		}, false},
		{"all TCP from another group", func(_ *env, other string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(other)}}}
		}, false},
		{"all traffic from another group", func(_ *env, other string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(other)}}}
		}, false},
		{"all UDP from itself", func(e *env, _ string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("udp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(e.sg)}}}
		}, false},
		{"all TCP from the VPC's range", func(*env, string) ec2types.IpPermission {
			return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.20.0.0/16")}}}
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := motoserver.Context(t)
			other, err := e.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("other"), Description: aws.String("other"), VpcId: aws.String(e.vpc)})
			must(t, err)
			_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(e.sg),
				IpPermissions: []ec2types.IpPermission{c.perm(e, aws.ToString(other.GroupId))}})
			must(t, err)
			r := e.run()
			ch := r.Get(CheckSecurityGroups)
			if got := ch.Status == Pass; got != c.pass {
				t.Fatalf("status %s, want pass=%t: %s", ch.Status, c.pass, ch.Summary)
			}
			if !c.pass {
				wantText(t, ch, "self-referencing inbound rule for all TCP ports", "FromPort=0,ToPort=65535,UserIdGroupPairs=[{GroupId="+e.sg+"}]")
			}
		})
	}
}

// When the final glue:TestConnection fails after repairs, the step error
// carries Glue's own message and the repairs the same run made, for both
// a permanent and a temporary failure.
func TestFailedGlueTestCarriesCauseAndRepairs(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer error
		want   any
	}{
		{"permanent", invalidInput(`Unable to connect: FATAL: password authentication failed for user "importer"`), &steperr.PreflightError{}},
		{"temporary", serverError("InternalServiceException", 503), &steperr.TransientError{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.checker.Repair = true
			e.glue.answer = c.answer
			h := &Handler{Checker: e.checker, ConnectionName: "lakeforge-test-source"}
			_, err := h.Handle(motoserver.Context(t), Input{})
			if err == nil {
				t.Fatal("no error for a failed glue:TestConnection")
			}
			switch c.want.(type) {
			case *steperr.PreflightError:
				var pf *steperr.PreflightError
				if !errors.As(err, &pf) {
					t.Fatalf("error %T, want PreflightError", err)
				}
			case *steperr.TransientError:
				var te *steperr.TransientError
				if !errors.As(err, &te) {
					t.Fatalf("error %T, want TransientError", err)
				}
			}
			msg := err.Error()
			for _, want := range []string{
				c.answer.Error(),
				"added self-referencing inbound rule (tcp 0-65535 from " + e.sg + ")",
				"created S3 gateway endpoint",
				"created interface endpoint",
				"com.amazonaws.us-east-1.secretsmanager",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("step error lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

// An interface endpoint in another subnet (another zone) of the VPC is
// reachable through the local route: the check passes and says so.
func TestEndpointsInAnotherSubnet(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addS3Endpoint()
	ctx := motoserver.Context(t)
	other, err := e.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(e.vpc), CidrBlock: aws.String("10.20.2.0/24"), AvailabilityZone: aws.String("us-east-1b")})
	must(t, err)
	otherID := aws.ToString(other.Subnet.SubnetId)
	for _, s := range wantInterfaceServices {
		_, err := e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
			VpcId: aws.String(e.vpc), ServiceName: aws.String(s), VpcEndpointType: ec2types.VpcEndpointTypeInterface,
			SubnetIds: []string{otherID}, SecurityGroupIds: []string{e.sg}, PrivateDnsEnabled: aws.Bool(true),
		})
		must(t, err)
	}
	r := e.run()
	wantStatuses(t, r, map[string]Status{CheckEndpoints: Pass, CheckGlueTest: Pass})
	wantText(t, r.Get(CheckEndpoints), "has no interface in "+e.subnet, "local route")
}

// Without a NAT route, a subnet with every endpoint the import needs but
// none for CloudWatch Logs and CloudWatch passes with a warning naming
// both missing endpoints; repair does not create them (billed per hour).
// Each endpoint added clears its part; a NAT route clears the warning.
func TestMissingMonitoringEndpointsAreAWarning(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addS3Endpoint()
	e.addInterfaceEndpoints()
	e.checker.Repair = true

	r := e.run()
	if !r.Passed {
		t.Fatalf("a subnet without CloudWatch endpoints must still pass:\n%s", r.String())
	}
	wantStatuses(t, r, map[string]Status{CheckMonitoring: Warn, CheckEndpoints: Pass, CheckGlueTest: Pass})
	logs, monitoring := "com.amazonaws.us-east-1.logs", "com.amazonaws.us-east-1.monitoring"
	wantText(t, r.Get(CheckMonitoring), logs, monitoring, "--service-name "+logs, "--service-name "+monitoring, "billed per hour")
	if got := e.rec.Mutating(); len(got) != 0 {
		t.Errorf("repair mode made %v for a warning; the monitoring endpoints are the operator's choice", got)
	}
	if !strings.Contains(r.String(), "[WARN] "+CheckMonitoring) {
		t.Errorf("the report does not show the warning:\n%s", r.String())
	}

	e.addInterfaceEndpoint(logs, true)
	r = e.run()
	wantStatuses(t, r, map[string]Status{CheckMonitoring: Warn})
	if c := r.Get(CheckMonitoring); strings.Contains(c.Summary, logs) || !strings.Contains(c.Summary, monitoring) {
		t.Errorf("with the logs endpoint present, the warning names: %s", c.Summary)
	}
	e.addInterfaceEndpoint(monitoring, true)
	wantStatuses(t, e.run(), map[string]Status{CheckMonitoring: Pass})

	// A NAT gateway route reaches both.
	n := newEnv(t)
	n.addSelfReferencingRule()
	n.addNATRoute()
	wantStatuses(t, n.run(), map[string]Status{CheckMonitoring: Pass})
}

// addNATRoute sends the subnet's 0.0.0.0/0 to a new NAT gateway.
func (e *env) addNATRoute() string {
	ctx := motoserver.Context(e.t)
	eip, err := e.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	must(e.t, err)
	nat, err := e.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(e.subnet), AllocationId: eip.AllocationId})
	must(e.t, err)
	_, err = e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(e.rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId})
	must(e.t, err)
	return aws.ToString(nat.NatGateway.NatGatewayId)
}

// Repair says that interface endpoints are billed per hour before it
// creates the first one: in the report, ahead of the lines naming them,
// and in the log, ahead of the calls.
func TestRepairSaysInterfaceEndpointsAreBilledBeforeCreatingThem(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addS3Endpoint()
	e.checker.Repair = true
	var logs strings.Builder
	e.checker.Log = slog.New(slog.NewTextHandler(&logs, nil))

	r := e.run()
	if !r.Passed {
		t.Fatalf("repair run failed:\n%s", r.String())
	}
	notice, created := -1, -1
	for i, line := range r.Repairs {
		if strings.Contains(line, "billed per hour") && notice < 0 {
			notice = i
		}
		if strings.HasPrefix(line, "created interface endpoint") && created < 0 {
			created = i
		}
	}
	if notice < 0 || created < 0 || notice > created {
		t.Fatalf("repairs %q: want the per-hour billing notice before the first created interface endpoint", r.Repairs)
	}
	for _, s := range wantInterfaceServices {
		if !strings.Contains(r.Repairs[notice], s) {
			t.Errorf("the notice does not name %s: %s", s, r.Repairs[notice])
		}
	}
	text := logs.String()
	if i, j := strings.Index(text, "billed per hour"), strings.Index(text, "created interface endpoint"); i < 0 || j < 0 || i > j {
		t.Errorf("the log does not warn of the cost before the endpoints are reported created:\n%s", text)
	}

	// Nothing is missing the second time: no notice.
	e.rec.Reset()
	if r = e.run(); len(r.Repairs) != 0 {
		t.Errorf("second run repairs %q, want none", r.Repairs)
	}
}
