package preflight

// The network path from the connection's subnet: the subnet and its route
// table, the route to S3, DNS and free addresses. The interface endpoints
// on the path are checked in endpointcheck.go.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// 2. The subnet exists, and which route table applies to it.
func (c *Checker) checkSubnet(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckSubnet}
	out, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{t.SubnetID}})
	if err != nil && awsretry.Code(err) != "InvalidSubnetID.NotFound" {
		return apiFailure(ch, "ec2:DescribeSubnets", err, "the reader needs ec2:DescribeSubnets")
	}
	if err != nil || len(out.Subnets) == 0 {
		ch.Status = Fail
		ch.Summary = "subnet " + t.SubnetID + " does not exist in " + c.Region
		ch.Fix = "set network.subnetId (and network.availabilityZone) in cdk.json to a subnet of the database's VPC that can reach it, then redeploy"
		return ch
	}
	s := out.Subnets[0]
	net.subnet, net.vpcID = &s, aws.ToString(s.VpcId)
	ch.Evidence = append(ch.Evidence, fmt.Sprintf("subnet %s in %s, %s, %s, %d free IPv4 addresses",
		t.SubnetID, net.vpcID, aws.ToString(s.AvailabilityZone), aws.ToString(s.CidrBlock), aws.ToInt32(s.AvailableIpAddressCount)))

	rt, how, err := c.routeTableFor(ctx, t.SubnetID, net.vpcID)
	if err != nil {
		return apiFailure(ch, "ec2:DescribeRouteTables", err, "the reader needs ec2:DescribeRouteTables")
	}
	if rt == nil {
		ch.Status = Fail
		ch.Summary = "no route table applies to subnet " + t.SubnetID + " (no explicit association and no main route table in " + net.vpcID + ")"
		ch.Fix = "associate a route table with the subnet: aws ec2 associate-route-table --subnet-id " + t.SubnetID + " --route-table-id <rtb-id>"
		return ch
	}
	net.routeTable = rt
	ch.Evidence = append(ch.Evidence, "route table "+aws.ToString(rt.RouteTableId)+" applies ("+how+")", "routes: "+describeRoutes(rt.Routes))
	if t.AvailabilityZone != "" && t.AvailabilityZone != aws.ToString(s.AvailabilityZone) {
		ch.Status = Fail
		ch.Summary = fmt.Sprintf("the connection names availability zone %s but subnet %s is in %s", t.AvailabilityZone, t.SubnetID, aws.ToString(s.AvailabilityZone))
		ch.Fix = "set network.availabilityZone in cdk.json to " + aws.ToString(s.AvailabilityZone) + " and redeploy"
		return ch
	}
	ch.Status = Pass
	ch.Summary = "subnet " + t.SubnetID + " exists; route table " + aws.ToString(rt.RouteTableId) + " applies"
	return ch
}

// routeTableFor returns the route table associated with the subnet, else
// the VPC's main route table, and says which.
func (c *Checker) routeTableFor(ctx context.Context, subnetID, vpcID string) (*ec2types.RouteTable, string, error) {
	out, err := c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{subnetID}}},
	})
	if err != nil {
		return nil, "", err
	}
	for _, rt := range out.RouteTables {
		for _, a := range rt.Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				return &rt, "explicit association " + aws.ToString(a.RouteTableAssociationId), nil
			}
		}
	}
	out, err = c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpcID}},
			{Name: aws.String("association.main"), Values: []string{"true"}},
		},
	})
	if err != nil {
		return nil, "", err
	}
	for _, rt := range out.RouteTables {
		for _, a := range rt.Associations {
			if aws.ToBool(a.Main) {
				return &rt, "no explicit association: the VPC's main route table", nil
			}
		}
	}
	return nil, "", nil
}

func describeRoutes(routes []ec2types.Route) string {
	if len(routes) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(routes))
	for _, r := range routes {
		dest := aws.ToString(r.DestinationCidrBlock)
		if dest == "" {
			dest = aws.ToString(r.DestinationPrefixListId)
		}
		if dest == "" {
			dest = aws.ToString(r.DestinationIpv6CidrBlock)
		}
		parts = append(parts, dest+" -> "+routeTarget(r)+stateSuffix(r))
	}
	return strings.Join(parts, "; ")
}

func routeTarget(r ec2types.Route) string {
	for _, v := range []*string{r.NatGatewayId, r.GatewayId, r.TransitGatewayId, r.VpcPeeringConnectionId, r.InstanceId, r.NetworkInterfaceId, r.EgressOnlyInternetGatewayId} {
		if aws.ToString(v) != "" {
			return aws.ToString(v)
		}
	}
	return "?"
}

func stateSuffix(r ec2types.Route) string {
	if r.State == ec2types.RouteStateBlackhole {
		return " (blackhole)"
	}
	return ""
}

// withoutRouteTable is a check that cannot run because the subnet check
// found no route table.
func withoutRouteTable(ch Check) Check {
	ch.Status = NotRun
	ch.Summary = "needs the subnet's route table, which the subnet check could not determine"
	return ch
}

// 4. The subnet's route table reaches S3.
func (c *Checker) checkS3Route(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckS3Route}
	if net.routeTable == nil {
		return withoutRouteTable(ch)
	}
	rtID := aws.ToString(net.routeTable.RouteTableId)
	service := c.s3Service()
	out, err := c.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{net.vpcID}},
			{Name: aws.String("service-name"), Values: []string{service}},
		},
	})
	if err != nil {
		return apiFailure(ch, "ec2:DescribeVpcEndpoints", err, "the reader needs ec2:DescribeVpcEndpoints")
	}
	var elsewhere []string
	for _, ep := range out.VpcEndpoints {
		if ep.VpcEndpointType != ec2types.VpcEndpointTypeGateway || aws.ToString(ep.ServiceName) != service || !endpointUsable(ep.State) {
			continue
		}
		id := aws.ToString(ep.VpcEndpointId)
		if slices.Contains(ep.RouteTableIds, rtID) {
			net.s3Route = true
			ch.Status = Pass
			ch.Summary = "gateway endpoint " + id + " for " + service + " is associated with route table " + rtID
			ch.Evidence = append(ch.Evidence, fmt.Sprintf("%s state %s, route tables %s", id, ep.State, strings.Join(ep.RouteTableIds, ", ")))
			return ch
		}
		elsewhere = append(elsewhere, id)
	}
	net.s3Elsewhere = elsewhere
	for _, r := range net.routeTable.Routes {
		if aws.ToString(r.DestinationCidrBlock) != "0.0.0.0/0" || r.State == ec2types.RouteStateBlackhole {
			continue
		}
		// Glue's validation names a NAT gateway ("Could not find S3
		// endpoint or NAT gateway"), so a NAT instance does not count here.
		if id := aws.ToString(r.NatGatewayId); id != "" {
			net.s3Route = true
			ch.Status = Pass
			ch.Summary = "route table " + rtID + " sends 0.0.0.0/0 to NAT gateway " + id + ", which reaches S3"
			ch.Evidence = append(ch.Evidence, "0.0.0.0/0 -> "+id)
			return ch
		}
		if id := aws.ToString(r.GatewayId); strings.HasPrefix(id, "igw-") {
			ch.Evidence = append(ch.Evidence, "0.0.0.0/0 -> "+id+" does not count: Glue's network interfaces get no public IP address, so they cannot use an internet gateway")
		}
	}
	ch.Status = Fail
	ch.Summary = "route table " + rtID + " of subnet " + t.SubnetID + " has no S3 gateway endpoint (" + service + ") and no NAT gateway route (Glue: \"Could not find S3 endpoint or NAT gateway for subnetId\")"
	if len(elsewhere) > 0 {
		ch.Evidence = append(ch.Evidence, "S3 gateway endpoint(s) "+strings.Join(elsewhere, ", ")+" exist in "+net.vpcID+" but are not associated with "+rtID)
		ch.Fix = "aws ec2 modify-vpc-endpoint --vpc-endpoint-id " + elsewhere[0] + " --add-route-table-ids " + rtID + " (or set preflight.repair to true, which does the same)"
	} else {
		ch.Fix = "aws ec2 create-vpc-endpoint --vpc-id " + net.vpcID + " --vpc-endpoint-type Gateway --service-name " + service + " --route-table-ids " + rtID + " (or set preflight.repair to true, or network.manage to true with network.routeTableIds [\"" + rtID + "\"] and redeploy)"
	}
	return ch
}

func endpointUsable(s ec2types.State) bool {
	switch strings.ToLower(string(s)) {
	case "available", "pending", "pendingacceptance":
		return true
	}
	return false
}

// 5. DNS support and hostnames; free IP addresses for Glue's ENIs.
func (c *Checker) checkDNSAndIPs(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckDNSAndIPs}
	if net.subnet == nil {
		ch.Status = NotRun
		ch.Summary = "needs the subnet and its VPC, which the subnet check could not find"
		return ch
	}
	var problems, fixes []string
	for _, attr := range []ec2types.VpcAttributeName{ec2types.VpcAttributeNameEnableDnsSupport, ec2types.VpcAttributeNameEnableDnsHostnames} {
		out, err := c.EC2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(net.vpcID), Attribute: attr})
		if err != nil {
			return apiFailure(ch, "ec2:DescribeVpcAttribute", err, "the reader needs ec2:DescribeVpcAttribute")
		}
		var on bool
		if attr == ec2types.VpcAttributeNameEnableDnsSupport {
			on = out.EnableDnsSupport != nil && aws.ToBool(out.EnableDnsSupport.Value)
		} else {
			on = out.EnableDnsHostnames != nil && aws.ToBool(out.EnableDnsHostnames.Value)
		}
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("%s %s = %t", net.vpcID, attr, on))
		if !on {
			problems = append(problems, string(attr)+" is off on "+net.vpcID)
			flag := "--enable-dns-support"
			if attr == ec2types.VpcAttributeNameEnableDnsHostnames {
				flag = "--enable-dns-hostnames"
			}
			fixes = append(fixes, "aws ec2 modify-vpc-attribute --vpc-id "+net.vpcID+" "+flag+` '{"Value":true}'`)
		}
	}
	need := c.RequiredFreeIPs
	if need <= 0 {
		need = DefaultRequiredFreeIPs
	}
	free := int(aws.ToInt32(net.subnet.AvailableIpAddressCount))
	ch.Evidence = append(ch.Evidence, fmt.Sprintf("subnet %s has %d free IPv4 addresses; %d needed (one per Glue worker ENI plus one for the connection test)", t.SubnetID, free, need))
	if free < need {
		problems = append(problems, fmt.Sprintf("subnet %s has %d free IP addresses, %d needed", t.SubnetID, free, need))
		fixes = append(fixes, "free addresses in "+t.SubnetID+" (delete unused network interfaces), lower import.numberOfWorkers, or use a larger subnet (network.subnetId)")
	}
	if len(problems) > 0 {
		ch.Status = Fail
		ch.Summary = strings.Join(problems, "; ")
		ch.Fix = strings.Join(fixes, "; ")
		return ch
	}
	ch.Status = Pass
	ch.Summary = fmt.Sprintf("DNS support and hostnames on; %d free IP addresses (%d needed)", free, need)
	return ch
}
