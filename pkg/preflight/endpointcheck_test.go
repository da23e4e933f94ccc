package preflight

import (
	"context"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Interface endpoints are reached over HTTPS (TCP 443). The endpoint's
// groups must admit it from the connection's groups or the subnet's range,
// and the connection's outbound rules must let it out: a connection whose
// only outbound rule is the self-referencing one (which Glue accepts)
// reaches only endpoints that carry its own group.
func TestHTTPSToEndpointRules(t *testing.T) {
	subnet := netip.MustParsePrefix("10.20.1.0/24")
	tcp := func(from, to int32) ec2types.IpPermission {
		return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(from), ToPort: aws.Int32(to)}
	}
	withGroup := func(p ec2types.IpPermission, g string) ec2types.IpPermission {
		p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(g)}}
		return p
	}
	withCIDR := func(p ec2types.IpPermission, c string) ec2types.IpPermission {
		p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(c)}}
		return p
	}
	conn := []string{"sg-conn"}
	for name, c := range map[string]struct {
		in   ec2types.IpPermission
		want bool
	}{
		"443 from the connection's group":   {withGroup(tcp(443, 443), "sg-conn"), true},
		"all TCP from the connection group": {withGroup(tcp(0, 65535), "sg-conn"), true},
		"all traffic from the VPC range":    {withCIDR(ec2types.IpPermission{IpProtocol: aws.String("-1")}, "10.20.0.0/16"), true},
		"443 from the subnet range":         {withCIDR(tcp(443, 443), "10.20.1.0/24"), true},
		"443 from part of the subnet":       {withCIDR(tcp(443, 443), "10.20.1.0/25"), false},
		"443 from another range":            {withCIDR(tcp(443, 443), "192.168.0.0/16"), false},
		"443 from another group":            {withGroup(tcp(443, 443), "sg-other"), false},
		"80 from the connection's group":    {withGroup(tcp(80, 80), "sg-conn"), false},
		"UDP 443 from the connection group": {withGroup(ec2types.IpPermission{IpProtocol: aws.String("udp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443)}, "sg-conn"), false},
	} {
		g := ec2types.SecurityGroup{GroupId: aws.String("sg-ep"), IpPermissions: []ec2types.IpPermission{c.in}}
		if got := admitsHTTPS([]ec2types.SecurityGroup{g}, conn, subnet); got != c.want {
			t.Errorf("inbound %s: admitsHTTPS = %t, want %t", name, got, c.want)
		}
	}

	selfOnly := ec2types.SecurityGroup{GroupId: aws.String("sg-conn"), IpPermissionsEgress: []ec2types.IpPermission{withGroup(tcp(0, 65535), "sg-conn")}}
	anywhere := ec2types.SecurityGroup{GroupId: aws.String("sg-conn"), IpPermissionsEgress: []ec2types.IpPermission{withCIDR(ec2types.IpPermission{IpProtocol: aws.String("-1")}, "0.0.0.0/0")}}
	for name, c := range map[string]struct {
		conn     ec2types.SecurityGroup
		endpoint []string
		want     bool
	}{
		"self-only egress, endpoint carries the group": {selfOnly, []string{"sg-conn"}, true},
		"self-only egress, endpoint has another group": {selfOnly, []string{"sg-ep"}, false},
		"egress anywhere": {anywhere, []string{"sg-ep"}, true},
	} {
		if got := egressReaches([]ec2types.SecurityGroup{c.conn}, c.endpoint, subnet); got != c.want {
			t.Errorf("outbound %s: egressReaches = %t, want %t", name, got, c.want)
		}
	}
}

// A default route to a NAT gateway or a NAT instance reaches the public
// AWS endpoints; an internet gateway does not (no public IP on Glue's
// interfaces), nor does a blackhole route.
func TestNATTarget(t *testing.T) {
	for name, c := range map[string]struct {
		r    ec2types.Route
		want string
	}{
		"NAT gateway":      {ec2types.Route{NatGatewayId: aws.String("nat-0123")}, "nat-0123"},
		"NAT instance":     {ec2types.Route{InstanceId: aws.String("i-0123")}, "i-0123"},
		"internet gateway": {ec2types.Route{GatewayId: aws.String("igw-0123")}, ""},
		"VPC peering":      {ec2types.Route{VpcPeeringConnectionId: aws.String("pcx-0123")}, ""},
	} {
		if got := natTarget(c.r); got != c.want {
			t.Errorf("%s: natTarget = %q, want %q", name, got, c.want)
		}
	}
	blackhole := ec2types.RouteTable{RouteTableId: aws.String("rtb-1"), Routes: []ec2types.Route{{
		DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-0123"), State: ec2types.RouteStateBlackhole,
	}}}
	c := &Checker{Region: "us-east-1", EC2: noEndpoints{}}
	net := &network{routeTable: &blackhole, vpcID: "vpc-1", subnet: &ec2types.Subnet{CidrBlock: aws.String("10.0.0.0/24")}}
	ch := c.checkEndpoints(context.Background(), Target{SubnetID: "subnet-1", SecurityGroupIDs: []string{"sg-1"}}, net)
	if net.natRoute || ch.Status != Fail {
		t.Errorf("a blackhole NAT route: natRoute %t, status %s; want no NAT route and a failure", net.natRoute, ch.Status)
	}
}

// noEndpoints is an EC2 client whose VPC has no endpoints; other calls are
// not expected.
type noEndpoints struct{ EC2API }

func (noEndpoints) DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	return &ec2.DescribeVpcEndpointsOutput{}, nil
}
