package preflight

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// repair adds what checks 3 and 4 found missing and returns one line per
// change (or per failed attempt). Both resources are tagged on creation,
// so nothing exists untagged even for a moment.
func (c *Checker) repair(ctx context.Context, t Target, net *network) []string {
	var done []string
	tags := []ec2types.Tag{{Key: aws.String(CreatedByTag), Value: aws.String(c.StackName)}}
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
		case errorCode(err) == "InvalidPermission.Duplicate":
			done = append(done, "self-referencing inbound rule on "+sg+" already existed")
		default:
			done = append(done, "could not add the self-referencing inbound rule to "+sg+": "+err.Error())
		}
	}
	if !net.s3Route && net.routeTable != nil {
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
	for _, d := range done {
		c.logger().InfoContext(ctx, "preflight repair", "change", d)
	}
	return done
}
