package preflight

import (
	"context"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// glueCause is one documented glue:TestConnection failure, mapped to the
// check that finds the same cause and its fix.
type glueCause struct {
	// match holds lower-case fragments of the message.
	match []string
	cause string
	fix   func(t Target, net *network) string
}

func firstGroup(t Target) string {
	if len(t.SecurityGroupIDs) > 0 {
		return t.SecurityGroupIDs[0]
	}
	return "<sg-id>"
}

func vpcOf(net *network) string {
	if net != nil && net.vpcID != "" {
		return net.vpcID
	}
	return "<vpc-id>"
}

func routeTableOf(net *network) string {
	if net != nil && net.routeTable != nil {
		return aws.ToString(net.routeTable.RouteTableId)
	}
	return "<route-table-id of the subnet>"
}

// glueCauses are checked in order; the first match wins. The texts are
// the ones the AWS Glue troubleshooting guide and the JDBC drivers use.
var glueCauses = []glueCause{
	{
		match: []string{"inbound rule in security group required", "must open all ingress ports"},
		cause: "security group self-reference (same as check " + CheckSecurityGroups + ")",
		fix: func(t Target, _ *network) string {
			sg := firstGroup(t)
			return "aws ec2 authorize-security-group-ingress --group-id " + sg + " --ip-permissions 'IpProtocol=tcp,FromPort=0,ToPort=65535,UserIdGroupPairs=[{GroupId=" + sg + "}]' (or set preflight.repair to true)"
		},
	},
	{
		match: []string{"outbound rule in security group required", "must open all egress ports"},
		cause: "security group outbound rule (same as check " + CheckSecurityGroups + ")",
		fix: func(t Target, _ *network) string {
			return "aws ec2 authorize-security-group-egress --group-id " + firstGroup(t) + " --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]'"
		},
	},
	{
		match: []string{"could not find s3 endpoint or nat gateway", "s3 endpoint validation failed"},
		cause: "no route to S3 from the subnet (same as check " + CheckS3Route + ")",
		fix: func(t Target, net *network) string {
			return "aws ec2 create-vpc-endpoint --vpc-id " + vpcOf(net) + " --vpc-endpoint-type Gateway --service-name com.amazonaws.<region>.s3 --route-table-ids " + routeTableOf(net) + " (or set preflight.repair to true)"
		},
	},
	{
		match: []string{"no private dns for network interface"},
		cause: "VPC DNS hostnames off (same as check " + CheckDNSAndIPs + ")",
		fix: func(_ Target, net *network) string {
			return "aws ec2 modify-vpc-attribute --vpc-id " + vpcOf(net) + ` --enable-dns-hostnames '{"Value":true}'`
		},
	},
	{
		match: []string{"could not find subnet for az"},
		cause: "subnet or availability zone (same as check " + CheckSubnet + ")",
		fix: func(t Target, _ *network) string {
			return "use a subnet in another availability zone: set network.subnetId and network.availabilityZone in cdk.json and redeploy"
		},
	},
	{
		match: []string{"action is unauthorized", "failed to call ec2:", "not authorized to perform: ec2:"},
		cause: "missing EC2 permission for Glue's network validation",
		fix: func(_ Target, _ *network) string {
			return "give the caller the ec2:Describe* permission the message names (the test-connection role has DescribeSubnets, DescribeRouteTables, DescribeSecurityGroups, DescribeVpcEndpoints); redeploy the stack if its role was edited"
		},
	},
	{
		match: []string{"password authentication failed", "access denied for user", "authentication failed", "invalid username/password", "28p01", "login failed"},
		cause: "the database rejected the secret's username or password",
		fix: func(t Target, _ *network) string {
			return "put the right credentials in the secret: aws secretsmanager put-secret-value --secret-id " + t.SecretID + ` --secret-string '{"username":"...","password":"..."}'`
		},
	},
	{
		match: []string{"does not exist", "unknown database"},
		cause: "the database name in the connection does not exist on the server",
		fix: func(t Target, _ *network) string {
			return "set source.databaseName in cdk.json to an existing database (now " + strconv.Quote(t.Database) + ") and redeploy"
		},
	},
	{
		match: []string{"unknownhostexception", "name or service not known", "could not resolve", "no such host"},
		cause: "the database host name does not resolve inside the VPC",
		fix: func(t Target, net *network) string {
			return "check source.host (" + t.Host + ") and that " + vpcOf(net) + " has DNS support on"
		},
	},
	{
		match: []string{"connection refused"},
		cause: "nothing listens on the database port (wrong port, or the database is stopped)",
		fix: func(t Target, _ *network) string {
			return "check source.port (" + strconv.Itoa(t.Port) + ") and that the database is running"
		},
	},
	{
		match: []string{"ssl", "tls", "certificate"},
		cause: "TLS negotiation with the database failed",
		fix: func(t Target, _ *network) string {
			return "make the database accept TLS (RDS: rds.force_ssl or require_secure_transport), or set source.requireTls to false if it cannot; redeploy"
		},
	},
	{
		match: []string{"timed out", "timeout", "communications link failure", "connect timed out"},
		cause: "Glue's network interface could not reach the database in time: the database's security group does not admit the connection's groups, a network ACL drops the traffic, or the host is in another network",
		fix: func(t Target, _ *network) string {
			return "allow inbound TCP " + strconv.Itoa(t.Port) + " from security group " + firstGroup(t) + " on the database's security group (aws ec2 authorize-security-group-ingress --group-id <database-sg> --ip-permissions 'IpProtocol=tcp,FromPort=" + strconv.Itoa(t.Port) + ",ToPort=" + strconv.Itoa(t.Port) + ",UserIdGroupPairs=[{GroupId=" + firstGroup(t) + "}]'), and check the subnet's network ACL and routes to the database"
		},
	},
}

// 6. glue:TestConnection: the handshake from inside the VPC.
func (c *Checker) checkGlueTest(ctx context.Context, t Target, deployed bool, earlier []Check, net *network) Check {
	ch := Check{Name: CheckGlueTest}
	if !deployed {
		ch.Status = NotDeployed
		ch.Summary = "Glue connection " + t.ConnectionName + " is not deployed yet, so glue:TestConnection cannot run; deploy with `make deploy` (the pipeline's TestConnection step runs it before every import)"
		return ch
	}
	var failed []string
	for _, e := range earlier {
		if e.Status == Fail {
			failed = append(failed, e.Name)
		}
	}
	if len(failed) > 0 {
		ch.Status = NotRun
		ch.Summary = "not run: fix " + strings.Join(failed, ", ") + " first; glue:TestConnection would fail for the same cause and takes minutes"
		return ch
	}
	_, err := c.Glue.TestConnection(ctx, &glue.TestConnectionInput{ConnectionName: aws.String(t.ConnectionName)})
	if err == nil {
		ch.Status = Pass
		ch.Summary = "Glue reached " + t.String() + " from inside the VPC with the secret's credentials"
		return ch
	}
	return mapGlueTestError(ch, err, t, net)
}

// mapGlueTestError turns a glue:TestConnection failure into a failed check
// with the cause and fix of the matching documented message.
func mapGlueTestError(ch Check, err error, t Target, net *network) Check {
	ch.Status = Fail
	ch.Evidence = append(ch.Evidence, "glue:TestConnection: "+err.Error())
	switch awsretry.Code(err) {
	case "EntityNotFoundException":
		ch.Summary = "Glue connection " + t.ConnectionName + " does not exist"
		ch.Fix = "deploy the stack (`make deploy`)"
		return ch
	case "AccessDeniedException":
		ch.Summary = "not allowed to call glue:TestConnection: " + err.Error()
		ch.Fix = "the caller needs glue:TestConnection and glue:GetConnection on the connection; redeploy the stack if the function's role was edited"
		return ch
	}
	// A TestConnection that timed out may be the database not answering:
	// its message is matched against the causes first.
	if why := awsretry.Classify(err); why != awsretry.NotTransient && awsretry.Code(err) != "OperationTimeoutException" {
		ch.Transient = true
		ch.Summary = "glue:TestConnection failed with a temporary error (" + string(why) + "): " + err.Error()
		ch.Fix = "none needed: the state machine retries this step"
		return ch
	}
	msg := strings.ToLower(err.Error())
	for _, gc := range glueCauses {
		for _, m := range gc.match {
			if strings.Contains(msg, m) {
				ch.Summary = "glue:TestConnection failed: " + gc.cause + "; AWS said: " + err.Error()
				ch.Fix = gc.fix(t, net)
				return ch
			}
		}
	}
	if awsretry.Code(err) == "OperationTimeoutException" {
		ch.Transient = true
		ch.Summary = "glue:TestConnection timed out on the Glue side: " + err.Error()
		ch.Fix = "none needed if it passes on retry; if it keeps timing out, check the database's security group admits " + firstGroup(t) + " on port " + strconv.Itoa(t.Port)
		return ch
	}
	ch.Summary = "glue:TestConnection failed with a message lakeforge does not recognise: " + err.Error()
	ch.Fix = "read the message above; run `make preflight` from a machine that can reach the database for a direct handshake with its own diagnosis"
	return ch
}
