package preflight

import (
	"context"
	"errors"
	"log/slog"

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
// default two import workers plus one for the connection test's ENI.
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
	// Route53 lists the VPC's private hosted zones, so a service whose
	// domain a zone already serves is not counted as missing (nil: not
	// read; the operator CLI).
	Route53 HostedZonesAPI
	// Tags are added to the CreatedByTag on what repair creates
	// (network.manage marks its own).
	Tags []ec2types.Tag
	// RequiredFreeIPs is how many free addresses the subnet needs: one per
	// Glue worker ENI (import.numberOfWorkers) plus one for the connection
	// test's ENI (config.Config.RequiredFreeIPs).
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
	// not exist (usable) in the VPC and whose domain no private hosted
	// zone of the VPC serves; repair creates them.
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
	checks := []Check{c.checkSecret(ctx, t, net)}
	checks = append(checks, c.networkPathChecks(ctx, t, net)...)
	checks = append(checks, c.checkMonitoringEndpoints(ctx, t, net), c.checkDNSAndIPs(ctx, t, net))
	return checks, net
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
