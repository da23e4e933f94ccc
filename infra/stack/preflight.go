package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// PreflightFunction is the folder of the test-connection step.
const PreflightFunction = stepcontract.TestConnection

// newTestConnection makes the test-connection step: a Lambda outside the
// VPC (inside a private subnet it could not reach the EC2, Glue and Secrets
// Manager APIs without extra endpoints) that checks the deployed Glue
// connection, and with repair adds the missing self-referencing rule and
// endpoints. Its role allows exactly the calls the checks make
// (functions/test-connection/testdata/iam-actions.txt), and the repair
// calls only when repair is on.
func newTestConnection(scope constructs.Construct, props *SourceProps) StepFunction {
	src, tc := props.Database, props.TestConnection
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DescribeNetwork"),
			Actions: jsii.Strings(
				"ec2:DescribeSubnets",
				"ec2:DescribeRouteTables",
				"ec2:DescribeSecurityGroups",
				"ec2:DescribeVpcEndpoints",
				"ec2:DescribeVpcAttribute",
				// The VPC's private hosted zones: a service domain one of
				// them serves needs no endpoint. Route 53 checks
				// ec2:DescribeVpcs on the caller's behalf.
				"route53:ListHostedZonesByVPC",
				"ec2:DescribeVpcs",
			),
			// EC2 Describe and Route 53 list actions support no
			// resource-level permissions.
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadSourceSecret"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
			Resources: jsii.Strings(src.SecretARN),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("TestGlueConnection"),
			Actions: jsii.Strings("glue:GetConnection", "glue:TestConnection"),
			Resources: jsii.Strings(
				arn("glue", "catalog"),
				arn("glue", "connection/"+props.ConnectionName),
			),
		}),
	}
	statements = append(statements, testConnectionNetworkInterfaceStatements(props.Network)...)
	if st := secretKeyDecrypt(src.SecretKMSKeyARN); st != nil {
		statements = append(statements, st)
	}
	if tc.Repair {
		statements = append(statements, repairStatements(props.Network, tc.StackName)...)
	}
	env := map[string]*string{
		stepcontract.EnvConnectionName:  jsii.String(props.ConnectionName),
		stepcontract.EnvStackName:       jsii.String(tc.StackName),
		stepcontract.EnvRequiredFreeIPs: jsii.String(strconv.Itoa(tc.RequiredFreeIPs)),
		stepcontract.EnvRepair:          jsii.String(strconv.FormatBool(tc.Repair)),
	}
	if key := src.SecretKMSKeyARN; key != "" {
		// The key preflight compares with the secret's (DescribeSecret).
		env[stepcontract.EnvSecretKMSKeyARN] = jsii.String(key)
	}
	f := newStep(scope, props.Steps, &StepFunctionProps{
		Name:        PreflightFunction,
		Description: "lakeforge: check that the Glue connection can reach the source database (secret, network, glue:TestConnection)",
		Environment: env,
		Statements:  statements,
		// glue:TestConnection starts a network interface in the VPC and
		// can take a few minutes.
		Timeout: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	reason := "EC2 Describe* actions have no resource-level permissions, so they need Resource \"*\"; they only read. glue:TestConnection takes no role: Glue places the test's network interface in the connection's subnet as the caller, whose ids are not known before: ec2:CreateNetworkInterface, ec2:DeleteNetworkInterface and the tagging of Glue's aws-glue-service-resource key are allowed on network-interface/* only in the connection's subnet (ec2:Subnet) and for that tag key."
	appliesTo := []any{"Resource::*", "Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*"}
	if tc.Repair {
		reason += " Repair mode creates a security group rule and VPC endpoints whose ids do not exist yet, and adds a route table to an existing S3 gateway endpoint whose id it learns at run time: those ARNs end in /* and are limited by conditions (the lakeforge:created-by request tag, the endpoint service names of RequiredEndpoints, the connection's VPC, tagging only on creation)."
		appliesTo = append(appliesTo,
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group-rule/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc-endpoint/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:route-table/*",
		)
	}
	// On the step's construct: its inline Policy is a sibling of its Role.
	cdknag.NagSuppressions_AddResourceSuppressions(f.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String(reason),
			AppliesTo: &appliesTo,
		},
	}, jsii.Bool(true))
	return f
}

// GlueTestConnectionNetworkActions are the EC2 actions glue:TestConnection
// needs of its caller: it takes no role, so Glue creates (and deletes) the
// test's network interface in the connection's subnet with the caller's
// permissions, tagged aws-glue-service-resource, as AWSGlueServiceRole
// allows a Glue role (docs/aws-behaviour.md).
var GlueTestConnectionNetworkActions = []string{"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:CreateTags"}

// glueServiceResourceTag is the tag key Glue puts on the network
// interfaces it creates.
const glueServiceResourceTag = "aws-glue-service-resource"

// testConnectionNetworkInterfaceStatements allow what Glue does as the
// caller of glue:TestConnection, as tightly as EC2 allows: the interface
// only in the connection's subnet with its security groups, deleted only
// there, tagged only with Glue's own key. DescribeNetworkInterfaces has no
// resource-level permissions.
func testConnectionNetworkInterfaceStatements(net config.NetworkConfig) []awsiam.PolicyStatement {
	subnet := arn("ec2", "subnet/"+net.SubnetID)
	inSubnet := &map[string]any{"ArnEquals": map[string]any{"ec2:Subnet": subnet}}
	groups := securityGroupARNs(net)
	eni := arn("ec2", "network-interface/*")
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("GlueTestConnectionInterfaceInConnectionSubnet"),
			Actions:   jsii.Strings("ec2:CreateNetworkInterface"),
			Resources: jsii.Strings(append([]string{subnet}, groups...)...),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("GlueTestConnectionInterface"),
			Actions:    jsii.Strings("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"),
			Resources:  jsii.Strings(eni),
			Conditions: inSubnet,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("GlueTestConnectionTagInterface"),
			Actions:   jsii.Strings("ec2:CreateTags"),
			Resources: jsii.Strings(eni),
			Conditions: &map[string]any{
				"ArnEquals":                 map[string]any{"ec2:Subnet": subnet},
				"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{glueServiceResourceTag}},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("GlueTestConnectionDescribeInterfaces"),
			Actions:   jsii.Strings("ec2:DescribeNetworkInterfaces"),
			Resources: jsii.Strings("*"),
		}),
	}
}

// PreflightRepairActions are the calls the test-connection handler makes
// only in repair mode; its role allows them only when preflight.repair is
// on (least privilege: a role that never repairs cannot change the
// network). ec2:CreateTags is not among them: it is authorized on behalf
// of the tag-on-create of both create calls.
var PreflightRepairActions = []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint"}

// endpointServiceNames are the service names of RequiredEndpoints in the
// stack's region, for the repair statements' conditions.
func endpointServiceNames() []string {
	var out []string
	for _, e := range preflight.RequiredEndpoints {
		out = append(out, preflight.ServiceName(*awscdk.Aws_REGION(), e.Service))
	}
	return out
}

// repairStatements allow adding the self-referencing rule to the
// connection's own security groups, the endpoints of RequiredEndpoints in
// its VPC (only when tagged as created by this stack), and the subnet's
// route table to an existing S3 gateway endpoint.
func repairStatements(net config.NetworkConfig, stackName string) []awsiam.PolicyStatement {
	groups := securityGroupARNs(net)
	vpcARN := arn("ec2", "vpc/"+net.VPCID)
	createdBy := map[string]any{"aws:RequestTag/" + preflight.CreatedByTag: stackName}
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RepairSelfReferencingRuleOnConnectionGroups"),
			Actions:   jsii.Strings("ec2:AuthorizeSecurityGroupIngress"),
			Resources: jsii.Strings(groups...),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("RepairSelfReferencingRuleTagged"),
			Actions:    jsii.Strings("ec2:AuthorizeSecurityGroupIngress"),
			Resources:  jsii.Strings(arn("ec2", "security-group-rule/*")),
			Conditions: &map[string]any{"StringEquals": createdBy},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RepairVpcEndpointsTagged"),
			Actions:   jsii.Strings("ec2:CreateVpcEndpoint"),
			Resources: jsii.Strings(arn("ec2", "vpc-endpoint/*")),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"aws:RequestTag/" + preflight.CreatedByTag: stackName,
				"ec2:VpceServiceName":                      endpointServiceNames(),
			}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RepairVpcEndpointsInConnectionVpc"),
			Actions:   jsii.Strings("ec2:CreateVpcEndpoint"),
			Resources: jsii.Strings(vpcARN),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			// Interface endpoints go into the connection's subnet with its
			// first security group.
			Sid:       jsii.String("RepairInterfaceEndpointsInConnectionSubnet"),
			Actions:   jsii.Strings("ec2:CreateVpcEndpoint"),
			Resources: jsii.Strings(append([]string{arn("ec2", "subnet/"+net.SubnetID)}, groups...)...),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("RepairS3GatewayEndpointRouteTables"),
			Actions:    jsii.Strings("ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint"),
			Resources:  jsii.Strings(arn("ec2", "route-table/*")),
			Conditions: &map[string]any{"ArnEquals": map[string]any{"ec2:Vpc": vpcARN}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			// The existing S3 gateway endpoint gets the subnet's route table.
			Sid:       jsii.String("RepairAddRouteTableToS3GatewayEndpoint"),
			Actions:   jsii.Strings("ec2:ModifyVpcEndpoint"),
			Resources: jsii.Strings(arn("ec2", "vpc-endpoint/*")),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"ec2:VpceServiceName": preflight.ServiceName(*awscdk.Aws_REGION(), "s3"),
			}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("TagRepairsOnCreation"),
			Actions: jsii.Strings("ec2:CreateTags"),
			Resources: jsii.Strings(
				arn("ec2", "security-group-rule/*"),
				arn("ec2", "vpc-endpoint/*"),
			),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"ec2:CreateAction": []string{"AuthorizeSecurityGroupIngress", "CreateVpcEndpoint"},
			}},
		}),
	}
}
