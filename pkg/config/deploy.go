package config

import (
	"fmt"
	"strings"
)

// The example values shipped in cdk.json (and docs/operations.md). They pass
// Validate, so `make synth`, the tests and the demo can use them, but a
// deployment with them would point Glue at nothing: CheckDeploy refuses them.
const (
	ExampleAccount       = "123456789012"
	ExampleVPCID         = "vpc-0123456789abcdef0"
	ExampleSubnetID      = "subnet-0123456789abcdef0"
	ExampleSecurityGroup = "sg-0123456789abcdef0"
	ExampleRouteTable    = "rtb-0123456789abcdef0"
	ExampleSecretARN     = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:lakeforge/kthr01-AbCdEf"
	ExampleHost          = "kthr01.cluster-example.ap-northeast-1.rds.amazonaws.com"
)

// exampleDomains are reserved for documentation (RFC 2606): no database or
// mailbox lives there.
var exampleDomains = []string{"example.com", "example.net", "example.org", "example"}

func isExampleDomain(host string) bool {
	host = strings.ToLower(host)
	for _, d := range exampleDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// CheckDeploy is what `make deploy` adds to Validate: it refuses the
// shipped example values, one problem per value, and checks that region
// (the region the CDK CLI deploys to, CDK_DEFAULT_REGION) is the region of
// network.availabilityZone and of source.secretArn. Nothing is deployed
// when it reports a problem.
func (c Config) CheckDeploy(region string) error {
	v := &validator{}
	replace := func(path, value, what string) {
		v.add(path, value, "the example value shipped in cdk.json; replace it with "+what+" before `make deploy`")
	}
	n := c.Network
	if n.VPCID == ExampleVPCID {
		replace("network.vpcId", n.VPCID, "the id of your database's VPC (aws ec2 describe-vpcs)")
	}
	if n.SubnetID == ExampleSubnetID {
		replace("network.subnetId", n.SubnetID, "the id of a subnet that reaches the database (aws ec2 describe-subnets)")
	}
	for i, sg := range n.SecurityGroupIDs {
		if sg == ExampleSecurityGroup {
			replace(fmt.Sprintf("network.securityGroupIds[%d]", i), sg, "the id of a security group for Glue's network interfaces (aws ec2 describe-security-groups)")
		}
	}
	for i, rt := range n.RouteTableIDs {
		if rt == ExampleRouteTable {
			replace(fmt.Sprintf("network.routeTableIds[%d]", i), rt, "the id of the subnet's route table (aws ec2 describe-route-tables)")
		}
	}
	s := c.Source
	switch {
	case s.SecretARN == ExampleSecretARN:
		replace("source.secretArn", s.SecretARN, "the ARN of your secret with the database's username and password (aws secretsmanager list-secrets)")
	case arnAccount(s.SecretARN) == ExampleAccount:
		replace("source.secretArn", s.SecretARN, "an ARN in your account: "+ExampleAccount+" is the example account id")
	}
	if s.Host == ExampleHost || isExampleDomain(s.Host) {
		replace("source.host", s.Host, "your database's DNS name (aws rds describe-db-instances or describe-db-clusters, Endpoint)")
	}
	for _, p := range []struct {
		name string
		arns []string
	}{{"admins", c.Personas.Admins.PrincipalARNs}, {"analysts", c.Personas.Analysts.PrincipalARNs}} {
		for i, arn := range p.arns {
			if arnAccount(arn) == ExampleAccount {
				replace(fmt.Sprintf("personas.%s.principalArns[%d]", p.name, i), arn, "an IAM user or role ARN in your account: "+ExampleAccount+" is the example account id")
			}
		}
	}
	for i, e := range c.Notifications.Emails {
		if _, domain, ok := strings.Cut(e, "@"); ok && isExampleDomain(domain) {
			replace(fmt.Sprintf("notifications.emails[%d]", i), e, "an address that receives mail (example domains never confirm the subscription)")
		}
	}

	if region == "" {
		v.list = append(v.list, Problem{Path: "CDK_DEFAULT_REGION", Value: "", Allowed: "the region to deploy to: the CDK CLI sets it from your AWS profile's region; run `aws configure set region <region>` or use AWS_PROFILE / AWS_REGION"})
	} else {
		fix := fmt.Sprintf("; the stack deploys to %s, the region of your AWS credentials (AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region; the CDK CLI passes it as CDK_DEFAULT_REGION): change the setting, or deploy to the other region with `AWS_REGION=<region> make deploy`", region)
		if zr := RegionOfZone(n.AvailabilityZone); zr != "" && zr != region {
			v.add("network.availabilityZone", n.AvailabilityZone, "a zone of "+region+" (this one is in "+zr+")"+fix)
		}
		if sr := RegionOfARN(s.SecretARN); sr != "" && sr != region {
			v.add("source.secretArn", s.SecretARN, "a secret in "+region+" (this one is in "+sr+")"+fix)
		}
	}
	if len(v.list) == 0 {
		return nil
	}
	return &Problems{List: v.list}
}

// arnAccount is the account field of an ARN, or "".
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
