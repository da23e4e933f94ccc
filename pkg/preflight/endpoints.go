package preflight

import (
	"strings"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// AWSEndpoint is one AWS API that the import job or the Glue connection
// calls from inside the connection's subnet. Without a NAT route each needs
// a VPC endpoint there.
type AWSEndpoint struct {
	// Service is the last part of the endpoint service name
	// com.amazonaws.<region>.<service>.
	Service string
	// Type is Gateway (S3) or Interface (PrivateLink).
	Type ec2types.VpcEndpointType
	// CalledBy says who calls the API from the subnet, and why.
	CalledBy string
	// Source is the AWS document that says the call is made or the
	// endpoint is needed.
	Source string
}

// RequiredEndpoints is the one list of AWS APIs the Glue 5.0 import job and
// its JDBC connection call from the subnet. Preflight checks it, repair
// creates what is missing, and network.manage makes the stack create it.
// CloudWatch Logs is not on it: Glue ships job logs itself, and no AWS
// document says a job in a VPC needs a logs endpoint.
var RequiredEndpoints = []AWSEndpoint{
	{
		Service:  "s3",
		Type:     ec2types.VpcEndpointTypeGateway,
		CalledBy: "the job reads its script and writes the lake (Iceberg data and metadata files); Glue validates the route for every JDBC connection",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/start-connecting.html",
	},
	{
		Service:  "glue",
		Type:     ec2types.VpcEndpointTypeInterface,
		CalledBy: "the job's Iceberg catalog (the Glue Data Catalog) reads and commits the lake tables through the Glue API",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/vpc-interface-endpoints.html",
	},
	{
		Service:  "secretsmanager",
		Type:     ec2types.VpcEndpointTypeInterface,
		CalledBy: "the job resolves the connection's SECRET_ID (the database credentials) at run time",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/connection-properties-secrets-manager.html",
	},
	{
		Service:  "sts",
		Type:     ec2types.VpcEndpointTypeInterface,
		CalledBy: "the AWS SDKs in the job get and refresh credentials (AWS lists STS among the endpoints a Glue VPC connection needs without NAT)",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/sap-odata-connectivity-vpc-connection.html",
	},
	{
		Service:  "lakeformation",
		Type:     ec2types.VpcEndpointTypeInterface,
		CalledBy: "Glue 5.0 full-table access vends Lake Formation credentials for the tables under the registered lake location",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/security-access-control-fta.html",
	},
	{
		Service:  "kms",
		Type:     ec2types.VpcEndpointTypeInterface,
		CalledBy: "the job's security configuration encrypts its CloudWatch logs and bookmarks with the stack's KMS key; a JDBC job with a security configuration needs a route to KMS or fails with a kms timeout",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/encryption-security-configuration.html",
	},
}

// ServiceName is the VPC endpoint service name of service in region.
func ServiceName(region, service string) string {
	return "com.amazonaws." + region + "." + service
}

// InterfaceEndpoints are the entries of RequiredEndpoints that are
// PrivateLink interface endpoints.
func InterfaceEndpoints() []AWSEndpoint {
	var out []AWSEndpoint
	for _, e := range RequiredEndpoints {
		if e.Type == ec2types.VpcEndpointTypeInterface {
			out = append(out, e)
		}
	}
	return out
}

// interfaceServiceNames lists the interface endpoints' service names.
func interfaceServiceNames(region string) []string {
	var out []string
	for _, e := range InterfaceEndpoints() {
		out = append(out, ServiceName(region, e.Service))
	}
	return out
}

// serviceOf returns the short service of a full service name.
func serviceOf(serviceName string) string {
	return serviceName[strings.LastIndex(serviceName, ".")+1:]
}
