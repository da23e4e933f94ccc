package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/jsii-runtime-go"
)

// ConnectionName is the Glue connection's name.
func (s *Stack) ConnectionName() string { return s.Config.Names().Connection }

// addConnection makes the Glue JDBC connection to the source database, with
// credentials from the Secrets Manager secret (never in the template), and,
// when the config says the stack owns the network, the custom resource that
// creates what the network lacks (network.go).
func (s *Stack) addConnection() {
	src, net := s.Config.Source, s.Config.Network
	props := map[string]any{
		"JDBC_CONNECTION_URL": src.JDBCURL(),
		"SECRET_ID":           src.SecretARN,
		"JDBC_ENFORCE_SSL":    boolString(src.RequireTLS),
	}
	s.Connection = awsglue.NewCfnConnection(s.Stack, jsii.String("SourceConnection"), &awsglue.CfnConnectionProps{
		CatalogId: awscdk.Aws_ACCOUNT_ID(),
		ConnectionInput: &awsglue.CfnConnection_ConnectionInputProperty{
			Name:                 jsii.String(s.ConnectionName()),
			Description:          jsii.String("lakeforge: " + src.Engine + " source " + src.Host),
			ConnectionType:       jsii.String("JDBC"),
			ConnectionProperties: props,
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
	s.Connection.AddMetadata(jsii.String("cfn-lint"), map[string]any{
		"config": map[string]any{"ignore_checks": []string{"W3010"}},
	})
	awscdk.Validations_Of(s.Connection).Acknowledge(&awscdk.Acknowledgment{Id: jsii.String("CloudFormation-Validate::W3010"), Reason: jsii.String(why)})

	// The import job reads the secret as the workflow role.
	if st := s.secretKeyDecrypt(); st != nil {
		s.WorkflowRole.AddToPolicy(st)
	}

	if net.Manage {
		s.addManagedNetwork()
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
