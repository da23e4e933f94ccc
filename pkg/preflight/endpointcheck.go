package preflight

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// natTarget returns the NAT gateway or NAT instance a route sends to, or "".
// An internet gateway does not count: Glue's interfaces have no public IP.
func natTarget(r ec2types.Route) string {
	if id := aws.ToString(r.NatGatewayId); id != "" {
		return id
	}
	// A NAT instance is an instance (or its interface) as the default route.
	if id := aws.ToString(r.InstanceId); id != "" {
		return id
	}
	return ""
}

// 5. The AWS APIs the job and the connection call (RequiredEndpoints) are
// reachable from the subnet: through a NAT route, or each through an
// interface endpoint with private DNS whose security groups admit HTTPS
// from the connection's groups.
func (c *Checker) checkEndpoints(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckEndpoints}
	if net.routeTable == nil {
		return withoutRouteTable(ch)
	}
	rtID := aws.ToString(net.routeTable.RouteTableId)
	for _, r := range net.routeTable.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" && r.State != ec2types.RouteStateBlackhole {
			if id := natTarget(r); id != "" {
				net.natRoute = true
				ch.Status = Pass
				ch.Summary = "route table " + rtID + " sends 0.0.0.0/0 to NAT " + id + ": the job reaches the public endpoints of " + strings.Join(interfaceServiceNames(c.Region), ", ")
				return ch
			}
		}
	}
	services := interfaceServiceNames(c.Region)
	out, err := c.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{net.vpcID}},
			{Name: aws.String("service-name"), Values: services},
		},
	})
	if err != nil {
		return apiFailure(ch, "ec2:DescribeVpcEndpoints", err, "the reader needs ec2:DescribeVpcEndpoints")
	}
	// The endpoints' own security groups, unless they are the connection's.
	groups := map[string]ec2types.SecurityGroup{}
	for _, g := range net.groups {
		groups[aws.ToString(g.GroupId)] = g
	}
	var unknown []string
	for _, ep := range out.VpcEndpoints {
		for _, g := range ep.Groups {
			if id := aws.ToString(g.GroupId); groups[id].GroupId == nil && !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
	}
	if len(unknown) > 0 {
		gs, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: unknown})
		if err != nil {
			return apiFailure(ch, "ec2:DescribeSecurityGroups", err, "the reader needs ec2:DescribeSecurityGroups")
		}
		for _, g := range gs.SecurityGroups {
			groups[aws.ToString(g.GroupId)] = g
		}
	}
	subnetCIDR, _ := netip.ParsePrefix(aws.ToString(net.subnet.CidrBlock))
	zones, err := c.privateZones(ctx, net.vpcID)
	if err != nil {
		return apiFailure(ch, "route53:ListHostedZonesByVPC", err, "the reader needs route53:ListHostedZonesByVPC and ec2:DescribeVpcs")
	}

	var problems, fixes []string
	net.missingEndpoints = nil
	for _, service := range services {
		var found []ec2types.VpcEndpoint
		for _, ep := range out.VpcEndpoints {
			if aws.ToString(ep.ServiceName) == service && ep.VpcEndpointType == ec2types.VpcEndpointTypeInterface && endpointUsable(ep.State) {
				found = append(found, ep)
			}
		}
		if zone, served := zones[serviceDomain(c.Region, service)]; len(found) == 0 && served {
			// Not created: EC2 refuses a private-DNS endpoint whose domain
			// the VPC already has, and the zone answers for it.
			ch.Evidence = append(ch.Evidence, fmt.Sprintf("no interface endpoint for %s in %s, but the VPC's private hosted zone %s serves %s (a shared endpoint or resolver): not created; that it reaches the service is not checked here", service, net.vpcID, zone, serviceDomain(c.Region, service)))
			continue
		}
		if len(found) == 0 {
			net.missingEndpoints = append(net.missingEndpoints, service)
			problems = append(problems, "no interface endpoint for "+service)
			fixes = append(fixes, createInterfaceEndpointCommand(net.vpcID, service, t.SubnetID, firstGroup(t)))
			continue
		}
		var why []string
		ok := false
		for _, ep := range found {
			id := aws.ToString(ep.VpcEndpointId)
			var epGroups []ec2types.SecurityGroup
			var epGroupIDs []string
			for _, g := range ep.Groups {
				epGroupIDs = append(epGroupIDs, aws.ToString(g.GroupId))
				if sg, known := groups[aws.ToString(g.GroupId)]; known {
					epGroups = append(epGroups, sg)
				}
			}
			ch.Evidence = append(ch.Evidence, fmt.Sprintf("%s for %s: state %s, private DNS %t, subnets %s, security groups %s",
				id, service, ep.State, aws.ToBool(ep.PrivateDnsEnabled), strings.Join(ep.SubnetIds, ", "), strings.Join(epGroupIDs, ", ")))
			switch {
			case !aws.ToBool(ep.PrivateDnsEnabled):
				why = append(why, id+" has private DNS off, so "+serviceOf(service)+"."+c.Region+".amazonaws.com still resolves to the public endpoint")
				fixes = append(fixes, "aws ec2 modify-vpc-endpoint --vpc-endpoint-id "+id+" --private-dns-enabled")
			case !admitsHTTPS(epGroups, t.SecurityGroupIDs, subnetCIDR):
				why = append(why, id+"'s security groups ("+strings.Join(epGroupIDs, ", ")+") do not admit HTTPS (TCP 443) from the connection's groups ("+strings.Join(t.SecurityGroupIDs, ", ")+") or the subnet's range")
				fixes = append(fixes, "aws ec2 modify-vpc-endpoint --vpc-endpoint-id "+id+" --add-security-group-ids "+firstGroup(t)+" (the connection's group admits itself on all TCP ports)")
			case len(net.groups) > 0 && !egressReaches(net.groups, epGroupIDs, subnetCIDR):
				why = append(why, "the connection's groups allow outbound traffic only to themselves, and "+id+" carries none of them")
				fixes = append(fixes, "aws ec2 modify-vpc-endpoint --vpc-endpoint-id "+id+" --add-security-group-ids "+firstGroup(t))
			default:
				ok = true
				if !slices.Contains(ep.SubnetIds, t.SubnetID) {
					ch.Evidence = append(ch.Evidence, id+" has no interface in "+t.SubnetID+"; the job reaches it through the VPC's local route (traffic to another zone is charged)")
				}
			}
		}
		if !ok {
			problems = append(problems, service+": "+strings.Join(why, "; "))
		}
	}
	if len(problems) > 0 {
		ch.Status = Fail
		ch.Summary = "route table " + rtID + " has no NAT route, and the job cannot reach every AWS API it calls: " + strings.Join(problems, "; ")
		ch.Fix = strings.Join(fixes, "; ") + " (or set preflight.repair to true, which creates the missing endpoints, or network.manage to true and redeploy, or add a NAT gateway route)"
		return ch
	}
	ch.Status = Pass
	ch.Summary = "no NAT route; interface endpoints with private DNS admit HTTPS from the connection for " + strings.Join(services, ", ")
	return ch
}

func createInterfaceEndpointCommand(vpcID, service, subnetID, sg string) string {
	return "aws ec2 create-vpc-endpoint --vpc-id " + vpcID + " --vpc-endpoint-type Interface --service-name " + service +
		" --subnet-ids " + subnetID + " --security-group-ids " + sg + " --private-dns-enabled"
}

// coversPort says whether a permission covers TCP port p.
func coversPort(p ec2types.IpPermission, port int32) bool {
	switch aws.ToString(p.IpProtocol) {
	case "-1", "all":
		return true
	case "tcp", "6":
		return aws.ToInt32(p.FromPort) <= port && port <= aws.ToInt32(p.ToPort)
	}
	return false
}

// admitsHTTPS says whether one of the endpoint's groups admits TCP 443 from
// one of the connection's groups, or from a range holding the subnet.
func admitsHTTPS(endpointGroups []ec2types.SecurityGroup, from []string, subnet netip.Prefix) bool {
	for _, g := range endpointGroups {
		for _, p := range g.IpPermissions {
			if !coversPort(p, 443) {
				continue
			}
			for _, pair := range p.UserIdGroupPairs {
				if slices.Contains(from, aws.ToString(pair.GroupId)) {
					return true
				}
			}
			if rangesHold(p.IpRanges, subnet) {
				return true
			}
		}
	}
	return false
}

// rangesHold says whether one of the IPv4 ranges contains the whole subnet.
func rangesHold(ranges []ec2types.IpRange, subnet netip.Prefix) bool {
	for _, r := range ranges {
		if cidr, err := netip.ParsePrefix(aws.ToString(r.CidrIp)); err == nil && subnet.IsValid() &&
			cidr.Bits() <= subnet.Bits() && cidr.Contains(subnet.Addr()) {
			return true
		}
	}
	return false
}

// egressReaches says whether the connection's groups let HTTPS out to an
// endpoint carrying endpointGroups: to a range holding the subnet (which
// 0.0.0.0/0 does), or to one of those groups.
func egressReaches(connection []ec2types.SecurityGroup, endpointGroups []string, subnet netip.Prefix) bool {
	for _, g := range connection {
		for _, p := range g.IpPermissionsEgress {
			if !coversPort(p, 443) {
				continue
			}
			if rangesHold(p.IpRanges, subnet) {
				return true
			}
			for _, pair := range p.UserIdGroupPairs {
				if slices.Contains(endpointGroups, aws.ToString(pair.GroupId)) {
					return true
				}
			}
		}
	}
	return false
}
