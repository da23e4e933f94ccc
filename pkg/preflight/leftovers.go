package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// RepairsAPI is the part of the EC2 client that finds and removes what
// repair mode created, for the stack-delete cleanup and `lakeforge doctor`.
type RepairsAPI interface {
	DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeSecurityGroupRules(context.Context, *ec2.DescribeSecurityGroupRulesInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupRulesOutput, error)
	DeleteVpcEndpoints(context.Context, *ec2.DeleteVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DeleteVpcEndpointsOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

// Repaired is one resource repair mode created (tagged CreatedByTag).
type Repaired struct {
	// Kind is "vpc-endpoint" or "security-group-rule".
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// GroupID is the security group of a rule.
	GroupID string `json:"groupId,omitempty"`
	Detail  string `json:"detail"`
}

// maxPages bounds the pagination of one listing.
const maxPages = 100

// FindRepairs lists the VPC endpoints and security group rules tagged
// CreatedByTag=stackName. A route table that repair added to an existing
// S3 gateway endpoint is not among them: that endpoint is not lakeforge's,
// and the report of the run that added it names both.
func FindRepairs(ctx context.Context, api RepairsAPI, stackName string) ([]Repaired, error) {
	tag := []ec2types.Filter{{Name: aws.String("tag:" + CreatedByTag), Values: []string{stackName}}}
	var out []Repaired
	var token *string
	for range maxPages {
		page, err := api.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: tag, NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("ec2:DescribeVpcEndpoints: %w", err)
		}
		for _, ep := range page.VpcEndpoints {
			// EC2 answers states in lower case ("deleted"); the SDK's
			// constants are capitalized.
			if st := strings.ToLower(string(ep.State)); st == "deleted" || st == "deleting" {
				continue
			}
			out = append(out, Repaired{Kind: "vpc-endpoint", ID: aws.ToString(ep.VpcEndpointId),
				Detail: fmt.Sprintf("%s endpoint %s in %s", ep.VpcEndpointType, aws.ToString(ep.ServiceName), aws.ToString(ep.VpcId))})
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	token = nil
	for range maxPages {
		page, err := api.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: tag, NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("ec2:DescribeSecurityGroupRules: %w", err)
		}
		for _, r := range page.SecurityGroupRules {
			if aws.ToBool(r.IsEgress) {
				continue
			}
			out = append(out, Repaired{Kind: "security-group-rule", ID: aws.ToString(r.SecurityGroupRuleId), GroupID: aws.ToString(r.GroupId),
				Detail: fmt.Sprintf("inbound %s %d-%d on %s", aws.ToString(r.IpProtocol), aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort), aws.ToString(r.GroupId))})
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	return out, nil
}

// RemoveRepairs deletes what FindRepairs lists and returns one line per
// removed resource. It stops at the first failure, naming it; a second
// call finds only what is left.
func RemoveRepairs(ctx context.Context, api RepairsAPI, stackName string) ([]string, error) {
	found, err := FindRepairs(ctx, api, stackName)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, r := range found {
		switch r.Kind {
		case "vpc-endpoint":
			out, err := api.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{r.ID}})
			if err != nil {
				return done, fmt.Errorf("ec2:DeleteVpcEndpoints %s: %w", r.ID, err)
			}
			// A per-endpoint failure comes back inside a 200.
			if len(out.Unsuccessful) > 0 {
				var msgs []string
				for _, u := range out.Unsuccessful {
					if u.Error != nil {
						msgs = append(msgs, aws.ToString(u.Error.Code)+": "+aws.ToString(u.Error.Message))
					}
				}
				return done, fmt.Errorf("ec2:DeleteVpcEndpoints %s: %s", r.ID, strings.Join(msgs, "; "))
			}
		case "security-group-rule":
			if _, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(r.GroupID), SecurityGroupRuleIds: []string{r.ID}}); err != nil {
				return done, fmt.Errorf("ec2:RevokeSecurityGroupIngress %s on %s: %w", r.ID, r.GroupID, err)
			}
		}
		done = append(done, "removed "+r.Kind+" "+r.ID+" ("+r.Detail+")")
	}
	return done, nil
}
