package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/preflight"
)

// ConnectionName is the Glue connection's name.
func (s *Stack) ConnectionName() string { return s.Config.Names().Connection }

// addConnection makes the Glue JDBC connection to the source database, with
// credentials from the Secrets Manager secret (never in the template), and,
// when the config says the stack owns the network, the self-referencing
// inbound rule and the endpoints of preflight.RequiredEndpoints (the S3
// gateway endpoint the original build needed, and the interface endpoints
// the job needs without a NAT route).
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

	if !net.Manage {
		return
	}
	sg := net.SecurityGroupIDs[0]
	awsec2.NewCfnSecurityGroupIngress(s.Stack, jsii.String("GlueSelfReferencingRule"), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:               jsii.String(sg),
		SourceSecurityGroupId: jsii.String(sg),
		IpProtocol:            jsii.String("tcp"),
		FromPort:              jsii.Number(0),
		ToPort:                jsii.Number(65535),
		Description:           jsii.String("lakeforge: Glue network interfaces talk to each other (all TCP, self-referencing)"),
	})
	for _, e := range preflight.RequiredEndpoints {
		service := jsii.String(preflight.ServiceName(*awscdk.Aws_REGION(), e.Service))
		if e.Type == ec2types.VpcEndpointTypeGateway {
			awsec2.NewCfnVPCEndpoint(s.Stack, jsii.String("S3GatewayEndpoint"), &awsec2.CfnVPCEndpointProps{
				VpcId:           jsii.String(net.VPCID),
				ServiceName:     service,
				VpcEndpointType: jsii.String("Gateway"),
				RouteTableIds:   anySlice(net.RouteTableIDs),
			})
			continue
		}
		// In the connection's subnet, with its first security group: the
		// self-referencing all-TCP rule above admits HTTPS from the job's
		// network interfaces. Private DNS makes the SDKs' default host
		// names resolve to the endpoint.
		awsec2.NewCfnVPCEndpoint(s.Stack, jsii.String("InterfaceEndpoint"+pascal(e.Service)), &awsec2.CfnVPCEndpointProps{
			VpcId:             jsii.String(net.VPCID),
			ServiceName:       service,
			VpcEndpointType:   jsii.String("Interface"),
			SubnetIds:         anySlice([]string{net.SubnetID}),
			SecurityGroupIds:  anySlice([]string{sg}),
			PrivateDnsEnabled: jsii.Bool(true),
		})
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func anySlice(ss []string) *[]any {
	out := make([]any, len(ss))
	for i, v := range ss {
		out[i] = v
	}
	return &out
}
