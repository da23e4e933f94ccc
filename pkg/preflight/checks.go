package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// EC2API is the part of the EC2 client the checks and repairs call.
type EC2API interface {
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeVpcAttribute(context.Context, *ec2.DescribeVpcAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	CreateVpcEndpoint(context.Context, *ec2.CreateVpcEndpointInput, ...func(*ec2.Options)) (*ec2.CreateVpcEndpointOutput, error)
	ModifyVpcEndpoint(context.Context, *ec2.ModifyVpcEndpointInput, ...func(*ec2.Options)) (*ec2.ModifyVpcEndpointOutput, error)
}

// SecretsAPI reads the connection's secret.
type SecretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// GlueAPI reads and tests the connection.
type GlueAPI interface {
	GetConnection(context.Context, *glue.GetConnectionInput, ...func(*glue.Options)) (*glue.GetConnectionOutput, error)
	TestConnection(context.Context, *glue.TestConnectionInput, ...func(*glue.Options)) (*glue.TestConnectionOutput, error)
}

// CreatedByTag is the tag key on everything repair mode creates; its value
// is the stack name.
const CreatedByTag = "lakeforge:created-by"

// DefaultRequiredFreeIPs is used when Checker.RequiredFreeIPs is 0: the
// default two import workers plus one for a crawler or test ENI.
const DefaultRequiredFreeIPs = 3

// Checker runs the checks. Build it once per process.
type Checker struct {
	EC2     EC2API
	Secrets SecretsAPI
	Glue    GlueAPI
	// Region names the S3 gateway endpoint service, com.amazonaws.<region>.s3.
	Region string
	// StackName is the value of the CreatedByTag on repaired resources.
	StackName string
	// Repair adds the missing self-referencing rule and S3 gateway endpoint.
	Repair bool
	// SecretKMSKeyARN is source.secretKmsKeyArn: the customer managed key
	// the stack lets the secret's readers decrypt with ("" for none).
	SecretKMSKeyARN string
	// RequiredFreeIPs is how many free addresses the subnet needs: one per
	// Glue worker ENI (import.numberOfWorkers) plus one for the crawler's
	// or the connection test's ENI.
	RequiredFreeIPs int
	Log             *slog.Logger
}

// Credentials are the secret's username and password. They are never
// logged or put in a report.
type Credentials struct {
	Username string
	Password string
}

// String hides the password so a stray %v cannot leak it.
func (c Credentials) String() string { return "user " + c.Username + " (password hidden)" }

// network is what the checks learn about the connection's network, for
// the checks after them and for repair.
type network struct {
	subnet     *ec2types.Subnet
	vpcID      string
	routeTable *ec2types.RouteTable
	groups     []ec2types.SecurityGroup
	selfRef    bool
	s3Route    bool
	// s3Elsewhere are usable S3 gateway endpoints of the VPC that are not
	// associated with the subnet's route table.
	s3Elsewhere []string
	// natRoute: the route table sends 0.0.0.0/0 to a NAT gateway or
	// instance, so every AWS API is reachable without endpoints.
	natRoute bool
	// missingEndpoints are the interface endpoint service names that do
	// not exist (usable) in the VPC; repair creates them.
	missingEndpoints []string
	creds            *Credentials
}

// RunDeployed checks the deployed connection called name: the Lambda's
// entry point. A connection that cannot be read gives a report with one
// failed check saying why.
func (c *Checker) RunDeployed(ctx context.Context, name string) Report {
	t, err := readConnection(ctx, c.Glue, name)
	if err != nil {
		ch := Check{Name: CheckConnection, Status: Fail}
		var malformed *malformedConnection
		switch {
		case errors.Is(err, errConnectionNotFound):
			ch.Summary = "Glue connection " + name + " does not exist"
			ch.Fix = "deploy the stack (`make deploy`); it creates the connection"
		case errors.As(err, &malformed):
			ch.Summary = "Glue connection " + name + " is malformed: " + err.Error()
			ch.Fix = "redeploy the stack (`make deploy`) so the connection gets the properties lakeforge sets"
		default:
			ch = apiFailure(ch, "glue:GetConnection", err, "the function's role needs glue:GetConnection on the connection; redeploy the stack with `make deploy`")
			ch.Summary = "cannot read Glue connection " + name + ": " + err.Error()
		}
		rep := Report{Connection: name, Target: "unknown", Checks: []Check{ch}}
		rep.finish()
		return rep
	}
	rep, _ := c.Run(ctx, t, true)
	return rep
}

// RunConfigured checks the connection as cdk.json describes it: the
// operator CLI's entry point. glue:TestConnection runs only when the
// connection is deployed. It also returns the secret's credentials (nil
// when unreadable) for the direct handshake.
func (c *Checker) RunConfigured(ctx context.Context, t Target) (Report, *Credentials) {
	deployed := true
	if _, err := readConnection(ctx, c.Glue, t.ConnectionName); errors.Is(err, errConnectionNotFound) {
		deployed = false
	}
	return c.Run(ctx, t, deployed)
}

// Run runs checks 1 to 5, repairs and re-runs them when repair is on and
// something repairable failed, then check 6 when the connection is deployed.
func (c *Checker) Run(ctx context.Context, t Target, deployed bool) (Report, *Credentials) {
	rep := Report{Connection: t.ConnectionName, Target: t.String()}
	checks, net := c.runLocal(ctx, t)
	if c.Repair && (!net.selfRef || !net.s3Route || len(net.missingEndpoints) > 0) && net.subnet != nil {
		rep.Repairs = c.repair(ctx, t, net)
		checks, net = c.runLocal(ctx, t)
	}
	checks = append(checks, c.checkGlueTest(ctx, t, deployed, checks, net))
	rep.Checks = checks
	rep.finish()
	return rep, net.creds
}

func (c *Checker) runLocal(ctx context.Context, t Target) ([]Check, *network) {
	net := &network{}
	return []Check{
		c.checkSecret(ctx, t, net),
		c.checkSubnet(ctx, t, net),
		c.checkSecurityGroups(ctx, t, net),
		c.checkS3Route(ctx, t, net),
		c.checkEndpoints(ctx, t, net),
		c.checkDNSAndIPs(ctx, t, net),
	}, net
}

func (c *Checker) s3Service() string { return ServiceName(c.Region, "s3") }

// apiFailure fills a check from an AWS error that is not one of the
// expected answers.
func apiFailure(ch Check, op string, err error, fix string) Check {
	ch.Status = Fail
	ch.Summary = op + " failed: " + err.Error()
	why := awsretry.Classify(err)
	ch.Transient = why != awsretry.NotTransient
	if ch.Transient {
		ch.Fix = "none needed: the failure is temporary (" + string(why) + "); the state machine retries this step"
	} else {
		ch.Fix = fix
	}
	return ch
}

// 1. The secret exists, is readable and has username and password.
func (c *Checker) checkSecret(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckSecret}
	out, err := c.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(t.SecretID)})
	if err != nil {
		ch.Status = Fail
		switch awsretry.Code(err) {
		case "ResourceNotFoundException":
			ch.Summary = "secret " + t.SecretID + " does not exist"
			ch.Fix = `create it with the database credentials (aws secretsmanager create-secret --name <name> --secret-string '{"username":"...","password":"..."}') or set source.secretArn in cdk.json to an existing secret's ARN, then redeploy`
		case "AccessDeniedException":
			ch.Summary = "secret " + t.SecretID + " exists but cannot be read: " + err.Error()
			ch.Fix = "the reader needs secretsmanager:GetSecretValue on this secret (the stack grants it on source.secretArn only: if the connection names another secret, redeploy) and, when the secret is encrypted with a customer managed KMS key, kms:Decrypt on that key through Secrets Manager in the key policy"
		case "DecryptionFailure":
			ch.Summary = "secret " + t.SecretID + " cannot be decrypted: " + err.Error()
			ch.Fix = "allow kms:Decrypt on the secret's KMS key (key policy) for the reader, or re-encrypt the secret with a key the reader may use"
		case "InvalidRequestException":
			ch.Summary = "secret " + t.SecretID + " cannot be read now: " + err.Error()
			ch.Fix = "if it is scheduled for deletion, restore it (aws secretsmanager restore-secret --secret-id " + t.SecretID + ")"
		default:
			return apiFailure(ch, "secretsmanager:GetSecretValue", err, "check the secret's ARN (source.secretArn) and the reader's permissions")
		}
		return ch
	}
	ch.Evidence = append(ch.Evidence, "secret "+aws.ToString(out.ARN)+" version "+aws.ToString(out.VersionId))
	if out.SecretString == nil {
		ch.Status = Fail
		ch.Summary = "secret holds binary data, not the JSON Glue reads"
		ch.Fix = `store the credentials as a JSON string: aws secretsmanager put-secret-value --secret-id ` + t.SecretID + ` --secret-string '{"username":"...","password":"..."}'`
		return ch
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(*out.SecretString), &fields); err != nil {
		ch.Status = Fail
		ch.Summary = "secret value is not a JSON object (Glue reads the username and password keys of one)"
		ch.Fix = `store it as JSON: aws secretsmanager put-secret-value --secret-id ` + t.SecretID + ` --secret-string '{"username":"...","password":"..."}'`
		return ch
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ch.Evidence = append(ch.Evidence, "keys present (values not shown): "+strings.Join(keys, ", "))
	var missing []string
	creds := Credentials{}
	for _, k := range []string{"username", "password"} {
		s, ok := fields[k].(string)
		if !ok || s == "" {
			missing = append(missing, k)
			continue
		}
		if k == "username" {
			creds.Username = s
		} else {
			creds.Password = s
		}
	}
	// host, port and dbname are optional: Glue takes them from the JDBC URL.
	// A difference is worth knowing because the secret is often shared.
	if h, ok := fields["host"].(string); ok && h != "" && !strings.EqualFold(h, t.Host) {
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("the secret's host %q differs from the connection's %q; Glue uses the connection's", h, t.Host))
	}
	if p, ok := fields["port"]; ok && fmt.Sprint(p) != strconv.Itoa(t.Port) {
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("the secret's port %v differs from the connection's %d; Glue uses the connection's", p, t.Port))
	}
	if d, ok := fields["dbname"].(string); ok && d != "" && d != t.Database {
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("the secret's dbname %q differs from the connection's %q; Glue uses the connection's", d, t.Database))
	}
	if len(missing) > 0 {
		ch.Status = Fail
		ch.Summary = "secret lacks non-empty string field(s) " + strings.Join(missing, ", ")
		ch.Fix = `add them: aws secretsmanager put-secret-value --secret-id ` + t.SecretID + ` --secret-string '{"username":"...","password":"..."}' (keep any other keys)`
		return ch
	}
	if problem, fix := c.checkSecretKey(ctx, t, &ch); problem != "" {
		ch.Status = Fail
		ch.Summary = problem
		ch.Fix = fix
		return ch
	}
	net.creds = &creds
	ch.Status = Pass
	ch.Summary = "secret is readable and has username and password"
	return ch
}

// checkSecretKey compares the secret's KMS key (DescribeSecret: omitted for
// aws/secretsmanager) with source.secretKmsKeyArn. This reader may decrypt
// through a key policy while the import job's role, which gets kms:Decrypt
// only from that setting, may not.
func (c *Checker) checkSecretKey(ctx context.Context, t Target, ch *Check) (problem, fix string) {
	out, err := c.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(t.SecretID)})
	if err != nil {
		ch.Evidence = append(ch.Evidence, "cannot tell the secret's KMS key (secretsmanager:DescribeSecret: "+err.Error()+")")
		return "", ""
	}
	key := aws.ToString(out.KmsKeyId)
	if key == "" || key == "alias/aws/secretsmanager" {
		ch.Evidence = append(ch.Evidence, "encrypted with the AWS managed key aws/secretsmanager")
		if c.SecretKMSKeyARN != "" {
			ch.Evidence = append(ch.Evidence, "source.secretKmsKeyArn "+c.SecretKMSKeyARN+" is set but not used by the secret")
		}
		return "", ""
	}
	ch.Evidence = append(ch.Evidence, "encrypted with customer managed KMS key "+key)
	setFix := "set source.secretKmsKeyArn in cdk.json to the key's ARN (aws kms describe-key --key-id " + key + " --query KeyMetadata.Arn) and redeploy, so the import job's role may decrypt the secret"
	switch {
	case c.SecretKMSKeyARN == "":
		return "the secret is encrypted with customer managed KMS key " + key + ", and source.secretKmsKeyArn is not set: the import job's role has no kms:Decrypt on it", setFix
	case key == c.SecretKMSKeyARN || strings.HasSuffix(c.SecretKMSKeyARN, ":key/"+key):
		return "", ""
	case strings.Contains(key, "alias/"):
		ch.Evidence = append(ch.Evidence, "the secret names its key by alias, so it cannot be compared with source.secretKmsKeyArn "+c.SecretKMSKeyARN+" here")
		return "", ""
	}
	return "the secret is encrypted with KMS key " + key + ", not with source.secretKmsKeyArn " + c.SecretKMSKeyARN, setFix
}

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

// 4. The subnet's route table reaches S3.
func (c *Checker) checkS3Route(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckS3Route}
	if net.routeTable == nil {
		ch.Status = NotRun
		ch.Summary = "needs the subnet's route table, which the subnet check could not determine"
		return ch
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
	ch.Evidence = append(ch.Evidence, fmt.Sprintf("subnet %s has %d free IPv4 addresses; %d needed (one per Glue worker ENI plus one for the crawler or connection test)", t.SubnetID, free, need))
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
