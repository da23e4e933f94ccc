package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// HostedZonesAPI lists the private hosted zones associated with a VPC.
type HostedZonesAPI interface {
	ListHostedZonesByVPC(context.Context, *route53.ListHostedZonesByVPCInput, ...func(*route53.Options)) (*route53.ListHostedZonesByVPCOutput, error)
}

// privateZones returns, by domain name (no trailing dot), the private
// hosted zones associated with the VPC. An interface endpoint with private
// DNS adds such a zone for its service's domain; EC2 refuses a second one
// whose domain a zone of the VPC already serves ("private-dns-enabled
// cannot be set because there is already a conflicting DNS domain"), and a
// zone for the domain (a shared endpoint in another VPC, a resolver setup)
// already answers the job's requests. nil Route53 reads nothing.
func (c *Checker) privateZones(ctx context.Context, vpcID string) (map[string]string, error) {
	if c.Route53 == nil {
		return nil, nil
	}
	zones := map[string]string{}
	in := &route53.ListHostedZonesByVPCInput{VPCId: aws.String(vpcID), VPCRegion: r53types.VPCRegion(c.Region)}
	for range maxPages {
		out, err := c.Route53.ListHostedZonesByVPC(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("route53:ListHostedZonesByVPC: %w", err)
		}
		for _, z := range out.HostedZoneSummaries {
			zones[strings.TrimSuffix(aws.ToString(z.Name), ".")] = aws.ToString(z.HostedZoneId)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return zones, nil
}

// serviceDomain is the default DNS name of an AWS service in region, the
// domain an interface endpoint's private DNS serves.
func serviceDomain(region, service string) string {
	return serviceOf(service) + "." + region + ".amazonaws.com"
}
