package preflight

// Check 3: the connection's security groups.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// 3. A self-referencing inbound rule for all TCP ports, and outbound allowed.
func (c *Checker) checkSecurityGroups(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckSecurityGroups}
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: t.SecurityGroupIDs})
	if err != nil {
		if awsretry.Code(err) == "InvalidGroup.NotFound" || awsretry.Code(err) == "InvalidGroupId.Malformed" {
			ch.Status = Fail
			ch.Summary = "security group(s) not found: " + err.Error()
			ch.Fix = "set network.securityGroupIds in cdk.json to existing security groups of the subnet's VPC, then redeploy"
			return ch
		}
		return apiFailure(ch, "ec2:DescribeSecurityGroups", err, "the reader needs ec2:DescribeSecurityGroups")
	}
	net.groups = out.SecurityGroups
	var selfRef, outbound []string
	var wrongVPC []string
	for _, g := range out.SecurityGroups {
		id := aws.ToString(g.GroupId)
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("%s (%s) in %s: inbound [%s]; outbound [%s]", id, aws.ToString(g.GroupName),
			aws.ToString(g.VpcId), describeRules(g.IpPermissions, id), describeRules(g.IpPermissionsEgress, id)))
		if net.vpcID != "" && aws.ToString(g.VpcId) != net.vpcID {
			wrongVPC = append(wrongVPC, id+" is in "+aws.ToString(g.VpcId))
		}
		if hasSelfReferencingAllTCP(g.IpPermissions, id) {
			selfRef = append(selfRef, id)
		}
		if allowsAllOutbound(g.IpPermissionsEgress, id) {
			outbound = append(outbound, id)
		}
	}
	net.selfRef = len(selfRef) > 0
	first := t.SecurityGroupIDs[0]
	ids := strings.Join(t.SecurityGroupIDs, ", ")
	var problems, fixes []string
	if len(wrongVPC) > 0 {
		problems = append(problems, "security group(s) outside the subnet's VPC "+net.vpcID+": "+strings.Join(wrongVPC, ", "))
		fixes = append(fixes, "use security groups of "+net.vpcID+" in network.securityGroupIds and redeploy")
	}
	if len(selfRef) == 0 {
		problems = append(problems, "none of the connection's security groups ("+ids+") has a self-referencing inbound rule for all TCP ports (Glue: \"Inbound rule in security group required\")")
		fixes = append(fixes, "aws ec2 authorize-security-group-ingress --group-id "+first+" --ip-permissions 'IpProtocol=tcp,FromPort=0,ToPort=65535,UserIdGroupPairs=[{GroupId="+first+"}]' (or set preflight.repair to true, or network.manage to true and redeploy)")
	} else {
		ch.Evidence = append(ch.Evidence, "self-referencing inbound rule for all TCP ports on "+strings.Join(selfRef, ", "))
	}
	if len(outbound) == 0 {
		problems = append(problems, "none of the connection's security groups ("+ids+") allows all outbound traffic (Glue: \"Outbound rule in security group required\")")
		fixes = append(fixes, "aws ec2 authorize-security-group-egress --group-id "+first+" --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]' (or, to keep it narrow, 'IpProtocol=tcp,FromPort=0,ToPort=65535,UserIdGroupPairs=[{GroupId="+first+"}]' plus HTTPS to the S3 prefix list)")
	}
	ch.Evidence = append(ch.Evidence, "not checked here: that the database's own security group admits the connection's groups on port "+strconv.Itoa(t.Port)+" (glue:TestConnection checks that from inside the VPC)")
	if len(problems) > 0 {
		ch.Status = Fail
		ch.Summary = strings.Join(problems, "; ")
		ch.Fix = strings.Join(fixes, "; ")
		return ch
	}
	ch.Status = Pass
	ch.Summary = "self-referencing inbound rule on " + strings.Join(selfRef, ", ") + "; outbound allowed by " + strings.Join(outbound, ", ")
	return ch
}

// coversAllTCP says whether a permission covers every TCP port: all
// traffic, or TCP 0-65535.
func coversAllTCP(p ec2types.IpPermission) bool {
	switch aws.ToString(p.IpProtocol) {
	case "-1", "all":
		return true
	case "tcp", "6":
		return aws.ToInt32(p.FromPort) == 0 && aws.ToInt32(p.ToPort) == 65535
	}
	return false
}

func hasSelfReferencingAllTCP(perms []ec2types.IpPermission, groupID string) bool {
	for _, p := range perms {
		if !coversAllTCP(p) {
			continue
		}
		for _, pair := range p.UserIdGroupPairs {
			if aws.ToString(pair.GroupId) == groupID {
				return true
			}
		}
	}
	return false
}

// allowsAllOutbound: all ports to anywhere, or to the group itself (what
// Glue's validation accepts).
func allowsAllOutbound(perms []ec2types.IpPermission, groupID string) bool {
	for _, p := range perms {
		if !coversAllTCP(p) {
			continue
		}
		for _, r := range p.IpRanges {
			if aws.ToString(r.CidrIp) == "0.0.0.0/0" {
				return true
			}
		}
		for _, pair := range p.UserIdGroupPairs {
			if aws.ToString(pair.GroupId) == groupID {
				return true
			}
		}
	}
	return false
}

func describeRules(perms []ec2types.IpPermission, self string) string {
	if len(perms) == 0 {
		return "none"
	}
	var parts []string
	for _, p := range perms {
		proto := aws.ToString(p.IpProtocol)
		ports := ""
		if proto == "-1" {
			proto = "all traffic"
		} else {
			ports = fmt.Sprintf(" %d-%d", aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort))
		}
		var peers []string
		for _, r := range p.IpRanges {
			peers = append(peers, aws.ToString(r.CidrIp))
		}
		for _, r := range p.Ipv6Ranges {
			peers = append(peers, aws.ToString(r.CidrIpv6))
		}
		for _, g := range p.UserIdGroupPairs {
			id := aws.ToString(g.GroupId)
			if id == self {
				id += " (self)"
			}
			peers = append(peers, id)
		}
		for _, pl := range p.PrefixListIds {
			peers = append(peers, aws.ToString(pl.PrefixListId))
		}
		parts = append(parts, proto+ports+" "+strings.Join(peers, ","))
	}
	return strings.Join(parts, "; ")
}
