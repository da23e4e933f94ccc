package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// ManageNetworkFunction is the folder of network.manage's handler.
const ManageNetworkFunction = stepcontract.ManageNetwork

// newManagedNetwork is network.manage: a custom resource whose handler
// (pkg/preflight, NetworkManager) runs the preflight network checks at
// deploy and creates only what they find missing: the self-referencing
// rule, the S3 route of the subnet's route table (a new gateway endpoint,
// or the table added to the VPC's existing one) and, without a NAT route,
// the interface endpoints of preflight.RequiredEndpoints whose domain the
// VPC does not already serve. CloudFormation itself creates no rule and no
// endpoint: EC2 refuses duplicates of what a manual build made. Deleting
// the stack (or turning network.manage off) removes what it created.
func newManagedNetwork(scope constructs.Construct, props *SourceProps) (StepFunction, awscdk.CustomResource) {
	net, stackName := props.Network, props.TestConnection.StackName
	if len(net.RouteTableIDs) > 0 {
		awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("lakeforge:network.routeTableIds"),
			jsii.String("network.routeTableIds is no longer used: network.manage finds the subnet's route table at deploy; remove the setting"), nil)
	}
	groups := securityGroupARNs(net)
	ownTags := map[string]any{
		"aws:ResourceTag/" + preflight.CreatedByTag: stackName,
		"aws:ResourceTag/" + preflight.ManagedByTag: preflight.ManagedByValue,
	}
	statements := append([]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DescribeNetwork"),
			Actions: jsii.Strings("ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups",
				"ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs", "route53:ListHostedZonesByVPC"),
			// Describe and list actions have no resource-level permissions.
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("RemoveOwnEndpoints"),
			Actions:    jsii.Strings("ec2:DeleteVpcEndpoints"),
			Resources:  jsii.Strings(arn("ec2", "vpc-endpoint/*")),
			Conditions: &map[string]any{"StringEquals": ownTags},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			// The rule it added is found by its tags; revoking is allowed
			// only on the connection's groups.
			Sid:       jsii.String("RemoveOwnRuleFromConnectionGroups"),
			Actions:   jsii.Strings("ec2:RevokeSecurityGroupIngress"),
			Resources: jsii.Strings(groups...),
		}),
	}, repairStatements(net, stackName)...)
	fn := newStep(scope, props.Steps, &StepFunctionProps{
		Name:        ManageNetworkFunction,
		Description: "lakeforge network.manage: at deploy, create what the Glue connection's network lacks (and nothing that exists); on delete, remove what it created",
		Environment: map[string]*string{stepcontract.EnvStackName: jsii.String(stackName)},
		Statements:  statements,
		Timeout:     awscdk.Duration_Minutes(jsii.Number(2)),
	})
	cr := awscdk.NewCustomResource(scope, jsii.String("ManagedNetwork"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function().FunctionArn(),
		ResourceType: jsii.String("Custom::LakeforgeNetwork"),
		Properties: &map[string]any{
			preflight.NetworkSubnetProperty:         net.SubnetID,
			preflight.NetworkZoneProperty:           net.AvailabilityZone,
			preflight.NetworkSecurityGroupsProperty: net.SecurityGroupIDs,
		},
		ServiceTimeout: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	// Its function, role and policy must outlive it, so its Delete can
	// remove what it created.
	cr.Node().AddDependency(fn.Role().Node().Scope())
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("EC2 Describe* and route53:ListHostedZonesByVPC have no resource-level permissions (Resource \"*\"); the rule and endpoints network.manage creates do not exist before, so their ARNs end in /* and are limited by conditions (the lakeforge:created-by request tag, the endpoint service names, the connection's VPC, subnet and groups); it deletes only endpoints carrying its own two tags."),
		AppliesTo: &[]any{
			"Resource::*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group-rule/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc-endpoint/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:route-table/*",
		},
	}}, jsii.Bool(true))
	return fn, cr
}
