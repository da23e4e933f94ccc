package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// SourceProps configures Source.
type SourceProps struct {
	// ConnectionName names the Glue connection.
	ConnectionName string
	// Database is the source database and the secret with its credentials.
	Database config.SourceConfig
	// Network is where the connection's network interfaces go; with
	// Manage the construct adds the pieces the import needs.
	Network config.NetworkConfig
	// TestConnection is the preflight step's configuration.
	TestConnection TestConnectionProps
	Steps          StepOptions
}

// TestConnectionProps configures the test-connection step.
type TestConnectionProps struct {
	// StackName tags what repair mode creates (lakeforge:created-by).
	StackName string
	// RequiredFreeIPs is how many free addresses the subnet needs.
	RequiredFreeIPs int
	// Repair lets the step add a missing self-referencing rule and
	// missing endpoints; its role may do that only then.
	Repair bool
}

// Source is how the lake reaches the source database: the Glue JDBC
// connection (credentials from the Secrets Manager secret, never in the
// template), the network pieces the stack owns when network.manage is on,
// and the test-connection step that checks them before each import.
type Source struct {
	constructs.Construct
	Connection     awsglue.CfnConnection
	ConnectionName string
	TestConnection StepFunction
	// ManageNetwork and ManagedNetwork are network.manage's handler and
	// custom resource; nil unless the network is managed.
	ManageNetwork  StepFunction
	ManagedNetwork awscdk.CustomResource
}

// NewSource makes the connection, the managed network pieces and the
// test-connection step.
func NewSource(scope constructs.Construct, id string, props *SourceProps) *Source {
	c := constructs.NewConstruct(scope, jsii.String(id))
	src, net := props.Database, props.Network
	conn := awsglue.NewCfnConnection(c, jsii.String("SourceConnection"), &awsglue.CfnConnectionProps{
		CatalogId: awscdk.Aws_ACCOUNT_ID(),
		ConnectionInput: &awsglue.CfnConnection_ConnectionInputProperty{
			Name:           jsii.String(props.ConnectionName),
			Description:    jsii.String("lakeforge: " + src.Engine + " source " + src.Host),
			ConnectionType: jsii.String("JDBC"),
			ConnectionProperties: map[string]any{
				"JDBC_CONNECTION_URL": src.JDBCURL(),
				"SECRET_ID":           src.SecretARN,
				"JDBC_ENFORCE_SSL":    boolString(src.RequireTLS),
			},
			PhysicalConnectionRequirements: &awsglue.CfnConnection_PhysicalConnectionRequirementsProperty{
				SubnetId:            jsii.String(net.SubnetID),
				AvailabilityZone:    jsii.String(net.AvailabilityZone),
				SecurityGroupIdList: jsii.Strings(net.SecurityGroupIDs...),
			},
		},
	})
	// Glue needs the subnet's zone, and the stack does no lookups at synth,
	// so the zone comes from the config: the one place a zone is written.
	const why = "The Glue connection must name its subnet's availability zone; it comes from network.availabilityZone because the stack does no lookups at synth."
	conn.AddMetadata(jsii.String("cfn-lint"), map[string]any{
		"config": map[string]any{"ignore_checks": []string{"W3010"}},
	})
	awscdk.Validations_Of(conn).Acknowledge(&awscdk.Acknowledgment{Id: jsii.String("CloudFormation-Validate::W3010"), Reason: jsii.String(why)})

	source := &Source{Construct: c, Connection: conn, ConnectionName: props.ConnectionName}
	if net.Manage {
		source.ManageNetwork, source.ManagedNetwork = newManagedNetwork(c, props)
	}
	source.TestConnection = newTestConnection(c, props)
	return source
}

// secretKeyDecrypt allows kms:Decrypt on the source secret's customer
// managed key through Secrets Manager only (kms:ViaService), for a role
// that reads the secret; nil when the secret uses aws/secretsmanager.
func secretKeyDecrypt(keyARN string) awsiam.PolicyStatement {
	if keyARN == "" {
		return nil
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DecryptSourceSecret"),
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: jsii.Strings(keyARN),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:ViaService": "secretsmanager." + *awscdk.Aws_REGION() + ".amazonaws.com",
		}},
	})
}

// securityGroupARNs are the ARNs of the connection's security groups.
func securityGroupARNs(net config.NetworkConfig) []string {
	groups := make([]string, len(net.SecurityGroupIDs))
	for i, g := range net.SecurityGroupIDs {
		groups[i] = arn("ec2", "security-group/"+g)
	}
	return groups
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
