package stack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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
//   - RegisterResource and UpdateResource with a RoleArn pass that role to
//     Lake Formation: "The data lake administrator who registers the
//     location must have the iam:PassRole permission on the role" (Lake
//     Formation guide, "Requirements for roles used to register locations");
//   - AddLFTagsToResource needs glue:GetDatabase on the database (Lake
//     Formation guide, "Assigning LF-Tags to Data Catalog resources").
var PermissionsOnBehalfOfCalls = map[string][]string{
	"lakeformation:RegisterResource":    {"iam:PassRole"},
	"lakeformation:UpdateResource":      {"iam:PassRole"},
	"lakeformation:AddLFTagsToResource": {"glue:GetDatabase"},
	// Tagging a new security group rule or VPC endpoint in the create call
	// (TagSpecifications) is authorized as ec2:CreateTags (test-connection
	// repair mode; EC2 guide, "Grant permission to tag resources during
	// creation").
	"ec2:AuthorizeSecurityGroupIngress": {"ec2:CreateTags"},
	"ec2:CreateVpcEndpoint":             {"ec2:CreateTags"},
}

// stepTimeout is the access-model functions' timeout: each retries
// eventual-consistency conditions for up to 2 minutes
// (awsretry.DefaultBudget), and the timeout leaves room for the calls.
var stepTimeout = awscdk.Duration_Minutes(jsii.Number(4))

// lfNoResourceLevel is the reason for the IAM5 suppression of the Lake
// Formation statements.
const lfNoResourceLevel = "Lake Formation actions have no resource-level permissions in IAM (the Service Authorization Reference lists no resource types for them): Lake Formation itself authorizes them, and the role is a data lake administrator only through the ConfigureLakeFormation step. Glue and IAM actions are scoped to the stack's catalog databases and its registration role."

// addAccessModel deploys the six access-model step Lambdas, each with a
// role that allows exactly the calls its handler makes.
func (s *Stack) addAccessModel() {
	cfg := s.Config
	lfStatement := func(sid string, actions ...string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: jsii.Strings("*"),
		})
	}
	databaseRead := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadLakeDatabase"),
		Actions:   jsii.Strings("glue:GetDatabase"),
		Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+cfg.Database.Name)),
	})
	// Lake Formation answers "Invalid principal" both for a principal
	// created moments ago and for one that is gone; the steps ask IAM which
	// (and ConfigureLakeFormation drops administrators IAM says are gone).
	readPrincipals := func(users bool) awsiam.PolicyStatement {
		actions, resources := []string{"iam:GetRole"}, []string{arn("iam", "role/*")}
		if users {
			actions, resources = append(actions, "iam:GetUser"), append(resources, arn("iam", "user/*"))
		}
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("AskIAMWhetherPrincipalsExist"), Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...),
		})
	}
	timeout := stepTimeout
	workflowTag, analystTag := mustJSON(cfg.LFTags.Workflow), mustJSON(cfg.LFTags.Analyst)

	configure := s.addStep(&StepFunctionProps{
		Name:        "configure-lake-formation",
		Description: "lakeforge: data lake admins (stale ones dropped); with lakeFormation.accountSettings manage, empty default permissions and no CREATE_DATABASE for IAM_ALLOWED_PRINCIPALS",
		Environment: map[string]*string{
			lakeformation.EnvAdmins:          jsii.String(stepcontract.Encode(nonNil(cfg.Personas.Admins.PrincipalARNs))),
			lakeformation.EnvAccountSettings: jsii.String(cfg.LakeFormation.AccountSettings),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeDataLakeSettings", "lakeformation:GetDataLakeSettings", "lakeformation:PutDataLakeSettings", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"),
			readPrincipals(true),
		},
		Timeout: timeout,
	})
	ensureTags := s.addStep(&StepFunctionProps{
		Name:        "ensure-lf-tags",
		Description: "lakeforge: create missing LF-tag keys and values (never deletes); ASSOCIATE for the roles that assign them",
		Environment: map[string]*string{lakeformation.EnvTags: jsii.String(mustJSON(cfg.LFTags.Tags))},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeLFTags", "lakeformation:GetLFTag", "lakeformation:CreateLFTag", "lakeformation:UpdateLFTag", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			readPrincipals(false),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "register-location",
		Description: "lakeforge: register the lake prefix and grant the workflow role data location access",
		Environment: map[string]*string{
			lakeformation.EnvLocationARN:     jsii.String(s.LakeLocationARN()),
			lakeformation.EnvLocationRoleARN: s.RegistrationRole.RoleArn(),
			lakeformation.EnvWorkflowRoleARN: s.WorkflowRole.RoleArn(),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeLakeLocation", "lakeformation:DescribeResource", "lakeformation:RegisterResource", "lakeformation:UpdateResource", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			readPrincipals(false),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("PassRegistrationRoleToLakeFormation"),
				Actions:   jsii.Strings("iam:PassRole"),
				Resources: jsii.Strings(*s.RegistrationRole.RoleArn()),
			}),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "ensure-database",
		Description: "lakeforge: create the lake database at the lake prefix and tag it for the workflow role",
		Environment: map[string]*string{
			lakeformation.EnvDatabaseName:     jsii.String(cfg.Database.Name),
			lakeformation.EnvDatabaseLocation: jsii.String(s.Lake().URI()),
			lakeformation.EnvWorkflowTag:      jsii.String(workflowTag),
		},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ConvergeLakeDatabase"),
				Actions:   jsii.Strings("glue:GetDatabase", "glue:CreateDatabase"),
				Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+cfg.Database.Name)),
			}),
			lfStatement("TagLakeDatabase", "lakeformation:GetResourceLFTags", "lakeformation:AddLFTagsToResource"),
			// TagOutput's role gets ALL with grant option on the database,
			// which assigning an LF-tag to it requires.
			lfStatement("GrantTaggerOnLakeDatabase", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			readPrincipals(false),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "grant-tag-permissions",
		Description: "lakeforge: LF-tag grants for the workflow role and the analysts",
		Environment: map[string]*string{
			lakeformation.EnvWorkflowRoleARN:       s.WorkflowRole.RoleArn(),
			lakeformation.EnvAnalystARNs:           jsii.String(stepcontract.Encode(derefAll(s.AnalystPrincipalARNs()))),
			lakeformation.EnvConfiguredAnalystARNs: jsii.String(stepcontract.Encode(nonNil(cfg.Personas.Analysts.PrincipalARNs))),
			lakeformation.EnvWorkflowTag:           jsii.String(workflowTag),
			lakeformation.EnvAnalystTag:            jsii.String(analystTag),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeTagGrants", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			readPrincipals(true),
		},
		Timeout: timeout,
	})
	s.addStep(&StepFunctionProps{
		Name:        "tag-output",
		Description: "lakeforge: tag the output database for the analysts (state machine, and import-events for runs started outside it)",
		Environment: map[string]*string{
			lakeformation.EnvDatabaseName: jsii.String(cfg.Database.Name),
			lakeformation.EnvAnalystTag:   jsii.String(analystTag),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("TagOutputDatabase", "lakeformation:GetResourceLFTags", "lakeformation:AddLFTagsToResource"),
			databaseRead,
		},
		Timeout: timeout,
	})

	// On stack delete, the cleanup revokes the stack's roles' grants and
	// removes them from the administrators (it is one itself: revoking
	// needs admin rights).
	s.addStep(&StepFunctionProps{
		Name:        CleanupFunction,
		Description: "lakeforge: on stack delete, revoke the Lake Formation grants of the stack's roles and remove them from the data lake administrators",
		Environment: map[string]*string{},
		Statements: []awsiam.PolicyStatement{
			lfStatement("CleanUpOnStackDelete", "lakeformation:GetDataLakeSettings", "lakeformation:PutDataLakeSettings", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"),
			// The grants on the lake database's tables are listed per table.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:     jsii.String("ListLakeTables"),
				Actions: jsii.Strings("glue:GetTables"),
				Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+cfg.Database.Name),
					arn("glue", "table/"+cfg.Database.Name+"/*")),
			}),
		},
		Timeout: timeout,
	})

	// The configured admins and every access-model role become data lake
	// administrators: they grant, tag, register and create the database.
	// The stack's own roles are listed apart: never dropped, and removed
	// from the administrators when the stack is deleted.
	configure.Function().AddEnvironment(jsii.String(lakeformation.EnvOwnAdmins), jsii.String(stepcontract.Encode(s.OwnAdminARNs())), nil)
	// The tagging roles need ASSOCIATE on tags they did not create, the
	// granting role GRANT_WITH_LF_TAG_EXPRESSION.
	tagPermissions := lakeformation.TagPermissionsFor(*s.Steps["ensure-database"].Role().RoleArn(), *s.Steps["tag-output"].Role().RoleArn(),
		*s.Steps["grant-tag-permissions"].Role().RoleArn(), cfg.LFTags.Workflow, cfg.LFTags.Analyst)
	ensureTags.Function().AddEnvironment(jsii.String(lakeformation.EnvTagPermissions), jsii.String(mustJSON(tagPermissions)), nil)
	s.Steps["ensure-database"].Function().AddEnvironment(jsii.String(lakeformation.EnvTagOutputRoleARN), s.Steps["tag-output"].Role().RoleArn(), nil)
	s.addLakeFormationCleanup()
	cdknag.NagSuppressions_AddResourceSuppressions(s.Steps[CleanupFunction].Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("glue:GetTables lists the tables of the one lake database, whose names the import job chooses at run time; read-only, to revoke the stack's roles' grants on them at stack deletion."),
		AppliesTo: &[]any{"Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/" + cfg.Database.Name + "/*"},
	}}, jsii.Bool(true))

	// The suppressions go on the step's construct: its inline Policy is a
	// sibling of its Role.
	for _, name := range append(slices.Clone(AccessModelSteps), CleanupFunction) {
		cdknag.NagSuppressions_AddResourceSuppressions(s.Steps[name].Role().Node().Scope(), &[]*cdknag.NagPackSuppression{
			{
				Id:        jsii.String("AwsSolutions-IAM5"),
				Reason:    jsii.String(lfNoResourceLevel),
				AppliesTo: &[]any{"Resource::*"},
			},
			{
				Id:        jsii.String("AwsSolutions-IAM5"),
				Reason:    jsii.String("iam:GetRole and iam:GetUser read any role or user of the account: the principals the step asks about (administrators and analysts configured or found in the Lake Formation settings) are not known at synth. Read-only, and only to tell a deleted principal from a new one."),
				AppliesTo: &[]any{"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*", "Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*"},
			},
		}, jsii.Bool(true))
	}
}

// OwnAdminARNs are the stack's own roles among the data lake administrators:
// the admin role (when the stack creates it) and the access-model roles.
func (s *Stack) OwnAdminARNs() []string {
	var own []string
	if s.AdminRole != nil {
		own = append(own, *s.AdminRole.RoleArn())
	}
	for _, name := range append(slices.Clone(AccessModelSteps), CleanupFunction) {
		own = append(own, *s.Steps[name].Role().RoleArn())
	}
	return own
}

// CleanupFunction is the stack-delete cleanup of Lake Formation.
const CleanupFunction = stepcontract.CleanupLakeFormation

// CleanupServiceTimeout bounds how long CloudFormation waits for the
// cleanup's answer (1 to 3600 s; default 3600): longer than the function's
// own timeout (stepTimeout), so a cleanup that runs answers in time.
var CleanupServiceTimeout = awscdk.Duration_Minutes(jsii.Number(6))

// addLakeFormationCleanup adds the custom resource whose deletion (with the
// stack, before the roles it names: it refers to them) runs the cleanup.
// The roles of the access model, the cleanup itself, the workflow role and
// the personas' roles are the stack's: CloudFormation deletes them, and
// Lake Formation would keep their grants and admin entries as stale ones.
func (s *Stack) addLakeFormationCleanup() {
	roles := s.OwnAdminARNs()
	roles = append(roles, *s.WorkflowRole.RoleArn())
	if s.AnalystRole != nil {
		roles = append(roles, *s.AnalystRole.RoleArn())
	}
	cfg := s.Config
	kept := fmt.Sprintf("catalog database %s, LF-tags %s, the registration of %s, and grants to principals the stack does not own",
		cfg.Database.Name, strings.Join(cfg.LFTags.Keys(), ", "), s.LakeLocationARN())
	fn := s.Steps[CleanupFunction]
	cr := awscdk.NewCustomResource(s.Stack, jsii.String("LakeFormationCleanup"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function().FunctionArn(),
		ResourceType: jsii.String("Custom::LakeFormationCleanup"),
		Properties: &map[string]any{
			lakeformation.CleanupRoleARNsProperty: roles,
			lakeformation.CleanupKeptProperty:     kept,
			lakeformation.CleanupDatabaseProperty: cfg.Database.Name,
		},
		// A cleanup that crashed before answering would otherwise hold the
		// stack's deletion for CloudFormation's default hour; the function
		// itself times out well before this.
		ServiceTimeout: CleanupServiceTimeout,
	})
	// Its function, role, policy and log group must outlive it: the policy
	// is not referenced, so say so.
	cr.Node().AddDependency(fn.Role().Node().Scope())
}

// nonNil is list, or an empty list: it encodes as [], never null.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
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
