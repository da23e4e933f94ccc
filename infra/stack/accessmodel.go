package stack

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// AccessModelSteps are the Lake Formation access-model functions, in the
// order the state machine runs them.
var AccessModelSteps = []string{
	"configure-lake-formation",
	"ensure-lf-tags",
	"register-location",
	"ensure-database",
	"grant-tag-permissions",
	"tag-output",
}

// PermissionsOnBehalfOfCalls are IAM permissions a service checks on the
// caller when a handler makes a call, beyond the call's own action. They
// never appear as recorded SDK calls, so the IAM test adds them to a
// function's golden actions:
//   - RegisterResource with UseServiceLinkedRole creates Lake Formation's
//     service-linked role on first use and adds the location to its inline
//     policy (walkthrough step 2; RegisterResource API reference);
//   - AddLFTagsToResource needs glue:GetDatabase on the database (Lake
//     Formation guide, "Assigning LF-Tags to Data Catalog resources").
var PermissionsOnBehalfOfCalls = map[string][]string{
	"lakeformation:RegisterResource":    {"iam:CreateServiceLinkedRole", "iam:PutRolePolicy"},
	"lakeformation:AddLFTagsToResource": {"glue:GetDatabase"},
	// Tagging a new security group rule or VPC endpoint in the create call
	// (TagSpecifications) is authorized as ec2:CreateTags (test-connection
	// repair mode; EC2 guide, "Grant permission to tag resources during
	// creation").
	"ec2:AuthorizeSecurityGroupIngress": {"ec2:CreateTags"},
	"ec2:CreateVpcEndpoint":             {"ec2:CreateTags"},
}

// lfNoResourceLevel is the reason for the IAM5 suppression of the Lake
// Formation statements.
const lfNoResourceLevel = "Lake Formation actions have no resource-level permissions in IAM (the Service Authorization Reference lists no resource types for them): Lake Formation itself authorizes them, and the role is a data lake administrator only through the ConfigureLakeFormation step. Glue and IAM actions are scoped to the stack's catalog databases and Lake Formation's service-linked role."

// addAccessModel deploys the six access-model step Lambdas, each with a
// role that allows exactly the calls its handler makes.
func (s *Stack) addAccessModel() {
	cfg := s.Config
	slr := lakeformation.ServiceLinkedRoleARN(*awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID())
	lfStatement := func(sid string, actions ...string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: jsii.Strings("*"),
		})
	}
	databaseRead := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadLakeDatabase"),
		Actions:   jsii.Strings("glue:GetDatabase"),
		Resources: jsii.Strings(glueARN("catalog"), glueARN("database/"+cfg.Database.Name)),
	})
	// Each step retries eventual-consistency conditions for up to 2 minutes
	// (awsretry.DefaultBudget); the timeout leaves room for the calls.
	timeout := awscdk.Duration_Minutes(jsii.Number(4))
	workflowTag, analystTag := mustJSON(cfg.LFTags.Workflow), mustJSON(cfg.LFTags.Analyst)

	configure := s.addStep(&StepFunctionProps{
		Name:        "configure-lake-formation",
		Description: "lakeforge: data lake admins, empty default permissions, no CREATE_DATABASE for IAM_ALLOWED_PRINCIPALS",
		Environment: map[string]*string{},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeDataLakeSettings", "lakeformation:GetDataLakeSettings", "lakeformation:PutDataLakeSettings", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "ensure-lf-tags",
		Description: "lakeforge: create missing LF-tag keys and values (never deletes)",
		Environment: map[string]*string{lakeformation.EnvTags: jsii.String(mustJSON(cfg.LFTags.Tags))},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeLFTags", "lakeformation:GetLFTag", "lakeformation:CreateLFTag", "lakeformation:UpdateLFTag"),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "register-location",
		Description: "lakeforge: register the lake prefix and grant the workflow role data location access",
		Environment: map[string]*string{
			lakeformation.EnvLocationARN:     s.LakeLocationARN(),
			lakeformation.EnvLocationRoleARN: jsii.String(slr),
			lakeformation.EnvWorkflowRoleARN: s.WorkflowRole.RoleArn(),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeLakeLocation", "lakeformation:DescribeResource", "lakeformation:RegisterResource", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("CreateLakeFormationServiceLinkedRole"),
				Actions:   jsii.Strings("iam:CreateServiceLinkedRole"),
				Resources: jsii.Strings(slr),
				Conditions: &map[string]any{
					"StringEquals": map[string]any{"iam:AWSServiceName": "lakeformation.amazonaws.com"},
				},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("AddLocationToServiceLinkedRolePolicy"),
				Actions:   jsii.Strings("iam:PutRolePolicy"),
				Resources: jsii.Strings(slr),
			}),
		},
		Timeout: timeout,
	})
	// The source crawler's database is made here too, not by CloudFormation:
	// see importworkflow.go.
	sourceDatabase := cfg.Names().SourceDatabase
	s.addStep(&StepFunctionProps{
		Name:        "ensure-database",
		Description: "lakeforge: create the lake database (at the lake prefix) and the source crawler's database, and tag both for the workflow role",
		Environment: map[string]*string{
			lakeformation.EnvDatabaseName:       jsii.String(cfg.Database.Name),
			lakeformation.EnvDatabaseLocation:   jsii.String(cfg.LakeLocation(*s.LakeBucket.BucketName())),
			lakeformation.EnvSourceDatabaseName: jsii.String(sourceDatabase),
			lakeformation.EnvWorkflowTag:        jsii.String(workflowTag),
		},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ConvergeCatalogDatabases"),
				Actions:   jsii.Strings("glue:GetDatabase", "glue:CreateDatabase"),
				Resources: jsii.Strings(glueARN("catalog"), glueARN("database/"+cfg.Database.Name), glueARN("database/"+sourceDatabase)),
			}),
			lfStatement("TagCatalogDatabases", "lakeformation:GetResourceLFTags", "lakeformation:AddLFTagsToResource"),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "grant-tag-permissions",
		Description: "lakeforge: LF-tag grants for the workflow role and the analysts",
		Environment: map[string]*string{
			lakeformation.EnvWorkflowRoleARN: s.WorkflowRole.RoleArn(),
			lakeformation.EnvAnalystARNs:     jsii.String(stepcontract.Encode(derefAll(s.AnalystPrincipalARNs()))),
			lakeformation.EnvWorkflowTag:     jsii.String(workflowTag),
			lakeformation.EnvAnalystTag:      jsii.String(analystTag),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeTagGrants", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "tag-output",
		Description: "lakeforge: tag the output database for the analysts (state machine and crawler-success events)",
		Environment: map[string]*string{
			lakeformation.EnvDatabaseName:  jsii.String(cfg.Database.Name),
			lakeformation.EnvAnalystTag:    jsii.String(analystTag),
			lakeformation.EnvOutputCrawler: jsii.String(cfg.Names().OutputCrawler),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("TagOutputDatabase", "lakeformation:GetResourceLFTags", "lakeformation:AddLFTagsToResource"),
			databaseRead,
		},
		Timeout: timeout,
	})

	// The configured admins and every access-model role become data lake
	// administrators: they grant, tag, register and create the database.
	admins := derefAll(s.AdminPrincipalARNs())
	for _, name := range AccessModelSteps {
		admins = append(admins, *s.Steps[name].Role().RoleArn())
	}
	configure.Function().AddEnvironment(jsii.String(lakeformation.EnvAdmins), jsii.String(stepcontract.Encode(admins)), nil)

	// The suppressions go on the step's construct: its inline Policy is a
	// sibling of its Role.
	for _, name := range AccessModelSteps {
		cdknag.NagSuppressions_AddResourceSuppressions(s.Steps[name].Role().Node().Scope(), &[]*cdknag.NagPackSuppression{
			{
				Id:        jsii.String("AwsSolutions-IAM5"),
				Reason:    jsii.String(lfNoResourceLevel),
				AppliesTo: &[]any{"Resource::*"},
			},
			{
				Id:        jsii.String("AwsSolutions-IAM5"),
				Reason:    jsii.String("The function writes log streams (named by the Lambda service) only in its own log group."),
				AppliesTo: &[]any{map[string]any{"regex": "/^Resource::<Step" + pascal(name) + "Logs[0-9A-F]+\\.Arn>:\\*$/"}},
			},
		}, jsii.Bool(true))
	}
}

func derefAll(in []*string) []string {
	out := make([]string, 0, len(in))
	for _, p := range in {
		out = append(out, *p)
	}
	return out
}

func mustJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain config values always marshal
	}
	return string(raw)
}
