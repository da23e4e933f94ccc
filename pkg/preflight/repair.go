package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// InterfaceEndpointCost is what an interface endpoint costs (AWS
// PrivateLink pricing): said before repair creates one, and in the
// documentation of network.manage.
const InterfaceEndpointCost = "each interface endpoint is billed per hour in each Availability Zone for as long as it exists, used or not (a partial hour counts as a full one), plus per GB it carries (AWS PrivateLink pricing; about $0.01 per hour and $0.01 per GB in most regions); `lakeforge doctor` lists the ones repair made (tag " + CreatedByTag + ")"

// repair adds what checks 3 to 5 found missing and returns one line per
// change (or per failed attempt): the self-referencing rule, the S3 route
// (the subnet's route table added to an existing S3 gateway endpoint, else
// a new endpoint) and the missing interface endpoints. What it creates is
// tagged on creation, so nothing exists untagged even for a moment.
func (c *Checker) repair(ctx context.Context, t Target, net *network) []string {
	var done []string
	tags := append([]ec2types.Tag{{Key: aws.String(CreatedByTag), Value: aws.String(c.StackName)}}, c.Tags...)
	if !net.selfRef && len(net.groups) > 0 {
		sg := t.SecurityGroupIDs[0]
		out, err := c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId: aws.String(sg),
			IpPermissions: []ec2types.IpPermission{{
				IpProtocol: aws.String("tcp"),
				FromPort:   aws.Int32(0),
				ToPort:     aws.Int32(65535),
				UserIdGroupPairs: []ec2types.UserIdGroupPair{{
					GroupId:     aws.String(sg),
					Description: aws.String("lakeforge: Glue network interfaces reach each other (all TCP, self-referencing)"),
				}},
			}},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroupRule, Tags: tags}},
		})
		switch {
		case err == nil:
			line := "added self-referencing inbound rule (tcp 0-65535 from " + sg + ") to " + sg
			for _, r := range out.SecurityGroupRules {
				line += " as " + aws.ToString(r.SecurityGroupRuleId)
			}
			done = append(done, line+", tagged "+CreatedByTag+"="+c.StackName)
		case awsretry.Code(err) == "InvalidPermission.Duplicate":
			done = append(done, "self-referencing inbound rule on "+sg+" already existed")
		default:
			done = append(done, "could not add the self-referencing inbound rule to "+sg+": "+err.Error())
		}
	}
	if !net.s3Route && net.routeTable != nil && len(net.s3Elsewhere) > 0 {
		// Follow the check's own advice: one S3 gateway endpoint serves any
		// number of route tables, so add this one instead of a second endpoint.
		rt, ep := aws.ToString(net.routeTable.RouteTableId), net.s3Elsewhere[0]
		_, err := c.EC2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{
			VpcEndpointId:    aws.String(ep),
			AddRouteTableIds: []string{rt},
		})
		if err != nil {
			done = append(done, "could not add route table "+rt+" to S3 gateway endpoint "+ep+": "+err.Error())
		} else {
			done = append(done, "added route table "+rt+" to the existing S3 gateway endpoint "+ep+" ("+c.s3Service()+"; the endpoint is not lakeforge's, so it is not tagged)")
		}
	} else if !net.s3Route && net.routeTable != nil {
		rt := aws.ToString(net.routeTable.RouteTableId)
		out, err := c.EC2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
			VpcId:             aws.String(net.vpcID),
			ServiceName:       aws.String(c.s3Service()),
			VpcEndpointType:   ec2types.VpcEndpointTypeGateway,
			RouteTableIds:     []string{rt},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpcEndpoint, Tags: tags}},
		})
		if err != nil {
			done = append(done, "could not create the S3 gateway endpoint on "+rt+": "+err.Error())
		} else {
			done = append(done, "created S3 gateway endpoint "+aws.ToString(out.VpcEndpoint.VpcEndpointId)+" ("+c.s3Service()+") on route table "+rt+", tagged "+CreatedByTag+"="+c.StackName)
		}
	}
	if !net.natRoute && len(t.SecurityGroupIDs) > 0 {
		// The endpoint carries the connection's first group: its
		// self-referencing all-TCP rule admits HTTPS from the job's
		// interfaces, and no new security group is needed.
		sg := t.SecurityGroupIDs[0]
		if len(net.missingEndpoints) > 0 {
			// Said (and logged) before the first one exists: they cost
			// money for as long as they exist, whether used or not.
			notice := fmt.Sprintf("creating %d interface endpoint(s) (%s): %s", len(net.missingEndpoints), strings.Join(net.missingEndpoints, ", "), InterfaceEndpointCost)
			c.logger().WarnContext(ctx, "preflight repair", "cost", notice)
			done = append(done, notice)
		}
		for _, service := range net.missingEndpoints {
			out, err := c.EC2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
				VpcId:             aws.String(net.vpcID),
				ServiceName:       aws.String(service),
				VpcEndpointType:   ec2types.VpcEndpointTypeInterface,
				SubnetIds:         []string{t.SubnetID},
				SecurityGroupIds:  []string{sg},
				PrivateDnsEnabled: aws.Bool(true),
				TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpcEndpoint, Tags: tags}},
			})
			if err != nil {
				done = append(done, "could not create the interface endpoint for "+service+" in "+t.SubnetID+": "+err.Error())
				continue
			}
			done = append(done, "created interface endpoint "+aws.ToString(out.VpcEndpoint.VpcEndpointId)+" ("+service+", private DNS, security group "+sg+") in subnet "+t.SubnetID+", tagged "+CreatedByTag+"="+c.StackName)
		}
	}
	for _, d := range done {
		c.logger().InfoContext(ctx, "preflight repair", "change", d)
	}
	return done
}
