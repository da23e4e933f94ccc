package stack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/config"

	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// AccessModelSteps are the Lake Formation access-model functions, in the
// order the state machine runs them.
var AccessModelSteps = []string{
	stepcontract.ConfigureLakeFormation,
	stepcontract.EnsureLFTags,
	stepcontract.RegisterLocation,
	stepcontract.EnsureDatabase,
	stepcontract.GrantTagPermissions,
	stepcontract.TagOutput,
}

// stepTimeout is the access-model functions' timeout: each retries
// eventual-consistency conditions for up to 2 minutes
// (awsretry.DefaultBudget), and the timeout leaves room for the calls.
var stepTimeout = awscdk.Duration_Minutes(jsii.Number(4))

// lfNoResourceLevel is the reason for the IAM5 suppression of the Lake
// Formation statements.
const lfNoResourceLevel = "Lake Formation actions have no resource-level permissions in IAM (the Service Authorization Reference lists no resource types for them): Lake Formation itself authorizes them, and the role is a data lake administrator only through the ConfigureLakeFormation step. Glue and IAM actions are scoped to the stack's catalog databases and its registration role."

// AccessModelProps configures AccessModel.
type AccessModelProps struct {
	Steps StepOptions
	// LakeBucket and LakePrefix are the lake location the steps register
	// and create the database at.
	LakeBucket awss3.IBucket
	LakePrefix string
	// RegistrationRole is the role Lake Formation registers the lake
	// location with; nil makes one that reads and writes the lake prefix.
	RegistrationRole awsiam.IRole
	// WorkflowRole runs the import job: it gets data location access and
	// the workflow tag's grants.
	WorkflowRole awsiam.IRole
	// AdminRole and AnalystRole are the persona roles of the lake (nil
	// when there are none); Admins and Analysts the configured existing
	// principals of each persona.
	AdminRole, AnalystRole awsiam.IRole
	Admins, Analysts       []string
	// OtherOwnRoles are the lake's roles that are no administrators and
	// that CloudFormation deletes with it (the workflow role it made, the
	// analyst role): the stack-delete cleanup revokes their grants.
	OtherOwnRoles []awsiam.IRole
	// DatabaseName is the lake database.
	DatabaseName string
	// AccountSettings is lakeFormation.accountSettings.
	AccountSettings string
	// LFTags is the configured LF-tag ontology and the two tags the grants
	// use; TagOntology is every tag EnsureLFTags makes (the configured ones
	// and, with governance, the column sensitivity tag).
	LFTags      config.LFTagsConfig
	TagOntology map[string][]string
	// Governance is the column governance the grants and TagOutput apply.
	Governance access.Governance
	// RunsPrefix is where the import's manifests are (under LakeBucket):
	// TagOutput writes each run's column probes beside them.
	RunsPrefix string
}

// AccessModel is the Lake Formation side of the lake: the registration
// role, the six access-model step Lambdas (each with a role that allows
// exactly the calls its handler makes) and the stack-delete cleanup.
type AccessModel struct {
	constructs.Construct
	// RegistrationRole is the role the lake location is registered with.
	RegistrationRole awsiam.IRole
	// Steps are the access-model functions and the cleanup, by name
	// (AccessModelSteps, CleanupFunction).
	Steps map[string]StepFunction
	// Cleanup is the custom resource whose deletion runs the cleanup.
	Cleanup awscdk.CustomResource
}

// PipelineSteps are the access-model steps the pipeline runs, in its order.
func (a *AccessModel) PipelineSteps() []StepFunction {
	out := make([]StepFunction, 0, len(AccessModelSteps))
	for _, name := range AccessModelSteps {
		out = append(out, a.Steps[name])
	}
	return out
}

// TagOutput is the step that tags the lake database for the analysts.
func (a *AccessModel) TagOutput() StepFunction { return a.Steps[stepcontract.TagOutput] }

// NewAccessModel makes the registration role (unless given), the steps and
// the cleanup.
func NewAccessModel(scope constructs.Construct, id string, props *AccessModelProps) *AccessModel {
	c := constructs.NewConstruct(scope, jsii.String(id))
	lake := awsarn.Lake{Bucket: *props.LakeBucket.BucketName(), Prefix: props.LakePrefix}
	registration := props.RegistrationRole
	if registration == nil {
		registration = newRegistrationRole(c, props.LakeBucket, props.LakePrefix)
	}
	a := &AccessModel{Construct: c, RegistrationRole: registration, Steps: map[string]StepFunction{}}
	step := func(p *StepFunctionProps) StepFunction {
		f := newStep(c, props.Steps, p)
		a.Steps[p.Name] = f
		return f
	}
	db := props.DatabaseName
	lfStatement := func(sid string, actions ...string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: jsii.Strings("*"),
		})
	}
	databaseRead := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadLakeDatabase"),
		Actions:   jsii.Strings("glue:GetDatabase"),
		Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+db)),
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
	workflowTag, analystTag := stepcontract.Encode(props.LFTags.Workflow), stepcontract.Encode(props.LFTags.Analyst)
	governance := stepcontract.Encode(props.Governance)
	analysts := derefAll(principalARNs(props.AnalystRole, props.Analysts))

	configure := step(&StepFunctionProps{
		Name:        stepcontract.ConfigureLakeFormation,
		Description: "lakeforge: data lake admins (stale ones dropped); with lakeFormation.accountSettings manage, empty default permissions and no CREATE_DATABASE for IAM_ALLOWED_PRINCIPALS",
		Environment: map[string]*string{
			stepcontract.EnvAdmins:          jsii.String(stepcontract.Encode(nonNil(props.Admins))),
			stepcontract.EnvAccountSettings: jsii.String(props.AccountSettings),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeDataLakeSettings", "lakeformation:GetDataLakeSettings", "lakeformation:PutDataLakeSettings", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"),
			readPrincipals(true),
		},
		Timeout: timeout,
	})
	ensureTags := step(&StepFunctionProps{
		Name:        stepcontract.EnsureLFTags,
		Description: "lakeforge: create missing LF-tag keys and values (never deletes); ASSOCIATE for the roles that assign them",
		Environment: map[string]*string{stepcontract.EnvTags: jsii.String(stepcontract.Encode(props.TagOntology))},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeLFTags", "lakeformation:GetLFTag", "lakeformation:CreateLFTag", "lakeformation:UpdateLFTag", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			readPrincipals(false),
		},
		Timeout: timeout,
	})
	step(&StepFunctionProps{
		Name:        stepcontract.RegisterLocation,
		Description: "lakeforge: register the lake prefix and grant the workflow role data location access",
		Environment: map[string]*string{
			stepcontract.EnvLocationARN:     jsii.String(lake.ARN(*awscdk.Aws_PARTITION())),
			stepcontract.EnvLocationRoleARN: registration.RoleArn(),
			stepcontract.EnvWorkflowRoleARN: props.WorkflowRole.RoleArn(),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("ConvergeLakeLocation", "lakeformation:DescribeResource", "lakeformation:RegisterResource", "lakeformation:UpdateResource", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			readPrincipals(false),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("PassRegistrationRoleToLakeFormation"),
				Actions:   jsii.Strings("iam:PassRole"),
				Resources: jsii.Strings(*registration.RoleArn()),
			}),
		},
		Timeout: timeout,
	})
	ensureDatabase := step(&StepFunctionProps{
		Name:        stepcontract.EnsureDatabase,
		Description: "lakeforge: create the lake database at the lake prefix and tag it for the workflow role",
		Environment: map[string]*string{
			stepcontract.EnvDatabaseName:     jsii.String(db),
			stepcontract.EnvDatabaseLocation: jsii.String(lake.URI()),
			stepcontract.EnvWorkflowTag:      jsii.String(workflowTag),
		},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ConvergeLakeDatabase"),
				Actions:   jsii.Strings("glue:GetDatabase", "glue:CreateDatabase"),
				Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+db)),
			}),
			lfStatement("TagLakeDatabase", "lakeformation:GetResourceLFTags", "lakeformation:AddLFTagsToResource"),
			// TagOutput's role gets ALL with grant option on the database,
			// which assigning an LF-tag to it requires.
			lfStatement("GrantTaggerOnLakeDatabase", "lakeformation:ListPermissions", "lakeformation:GrantPermissions"),
			readPrincipals(false),
		},
		Timeout: timeout,
	})
	grant := step(&StepFunctionProps{
		Name:        stepcontract.GrantTagPermissions,
		Description: "lakeforge: LF-tag grants for the workflow role and the analysts",
		Environment: map[string]*string{
			stepcontract.EnvWorkflowRoleARN:       props.WorkflowRole.RoleArn(),
			stepcontract.EnvAnalystARNs:           jsii.String(stepcontract.Encode(analysts)),
			stepcontract.EnvConfiguredAnalystARNs: jsii.String(stepcontract.Encode(nonNil(props.Analysts))),
			stepcontract.EnvWorkflowTag:           jsii.String(workflowTag),
			stepcontract.EnvAnalystTag:            jsii.String(analystTag),
			stepcontract.EnvGovernance:            jsii.String(governance),
		},
		Statements: []awsiam.PolicyStatement{
			// RevokePermissions: with governance, the analysts' grant on
			// every column, superseded by the narrowed one.
			lfStatement("ConvergeTagGrants", "lakeformation:ListPermissions", "lakeformation:GrantPermissions", "lakeformation:RevokePermissions"),
			readPrincipals(true),
		},
		Timeout: timeout,
	})
	tagOutput := step(&StepFunctionProps{
		Name:        stepcontract.TagOutput,
		Description: "lakeforge: tag the output database for the analysts (state machine, and import-events for runs started outside it)",
		Environment: map[string]*string{
			stepcontract.EnvDatabaseName:    jsii.String(db),
			stepcontract.EnvAnalystTag:      jsii.String(analystTag),
			stepcontract.EnvGovernance:      jsii.String(governance),
			stepcontract.EnvMetricNamespace: jsii.String(MetricNamespace),
			stepcontract.EnvLakeBucket:      props.LakeBucket.BucketName(),
			stepcontract.EnvRunsPrefix:      jsii.String(props.RunsPrefix),
		},
		Statements: []awsiam.PolicyStatement{
			lfStatement("TagOutputDatabase", "lakeformation:GetResourceLFTags", "lakeformation:AddLFTagsToResource"),
			databaseRead,
			// Governance: the lake's columns (Glue GetTables) and the
			// number of unclassified ones (UnclassifiedColumns).
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ListLakeTables"),
				Actions:   jsii.Strings("glue:GetTables"),
				Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+db), arn("glue", "table/"+db+"/*")),
			}),
			// Governance: the columns VerifyQuery probes, beside the
			// run's manifest.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("RecordColumnProbes"),
				Actions:   jsii.Strings("s3:PutObject"),
				Resources: jsii.Strings(*props.LakeBucket.BucketArn() + "/" + props.RunsPrefix + "*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("PublishUnclassifiedColumns"),
				Actions:    jsii.Strings("cloudwatch:PutMetricData"),
				Resources:  jsii.Strings("*"),
				Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": MetricNamespace}},
			}),
		},
		Timeout: timeout,
	})

	// On stack delete, the cleanup revokes the stack's roles' grants and
	// removes them from the administrators (it is one itself: revoking
	// needs admin rights).
	cleanup := step(&StepFunctionProps{
		Name:        CleanupFunction,
		Description: "lakeforge: on stack delete, revoke the Lake Formation grants of the stack's roles and remove them from the data lake administrators",
		Environment: map[string]*string{},
		Statements: []awsiam.PolicyStatement{
			lfStatement("CleanUpOnStackDelete", "lakeformation:GetDataLakeSettings", "lakeformation:PutDataLakeSettings", "lakeformation:ListPermissions", "lakeformation:RevokePermissions"),
			// The grants on the lake database's tables are listed per table.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ListLakeTables"),
				Actions:   jsii.Strings("glue:GetTables"),
				Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+db), arn("glue", "table/"+db+"/*")),
			}),
		},
		Timeout: timeout,
	})

	// The configured admins and every access-model role become data lake
	// administrators: they grant, tag, register and create the database.
	// The stack's own roles are listed apart: never dropped, and removed
	// from the administrators when the stack is deleted.
	ownAdmins := a.ownAdminARNs(props.AdminRole)
	configure.Function().AddEnvironment(jsii.String(stepcontract.EnvOwnAdmins), jsii.String(stepcontract.Encode(ownAdmins)), nil)
	// The tagging roles need ASSOCIATE on tags they did not create, the
	// granting role GRANT_WITH_LF_TAG_EXPRESSION.
	tagPermissions := lakeformation.TagPermissionsFor(*ensureDatabase.Role().RoleArn(), *tagOutput.Role().RoleArn(),
		*grant.Role().RoleArn(), props.LFTags.Workflow, props.LFTags.Analyst)
	tagPermissions = append(tagPermissions, lakeformation.GovernanceTagPermissions(*tagOutput.Role().RoleArn(), *grant.Role().RoleArn(), props.Governance)...)
	// TagOutput's glue:GetTables on every table of the lake database and
	// its column probes under the runs prefix.
	cdknag.NagSuppressions_AddResourceSuppressions(tagOutput.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("glue:GetTables lists every table of the lake database (governance classifies each column): the import names the tables at run time from the source tables, so they are not known at synth. Read-only, and only in the one lake database."),
		AppliesTo: &[]any{"Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/" + db + "/*"},
	}, {
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("TagOutput writes one columns.json per workflow run under the runs prefix, beside the import's manifest; the run ids are Glue's, not known at synth."),
		AppliesTo: &[]any{"Resource::" + nagBucketARN(props.LakeBucket) + "/" + props.RunsPrefix + "*"},
	}}, jsii.Bool(true))
	ensureTags.Function().AddEnvironment(jsii.String(stepcontract.EnvTagPermissions), jsii.String(stepcontract.Encode(tagPermissions)), nil)
	ensureDatabase.Function().AddEnvironment(jsii.String(stepcontract.EnvTagOutputRoleARN), tagOutput.Role().RoleArn(), nil)

	roles := ownAdmins
	for _, r := range props.OtherOwnRoles {
		roles = append(roles, *r.RoleArn())
	}
	a.Cleanup = newLakeFormationCleanup(c, cleanup, roles, fmt.Sprintf("catalog database %s, LF-tags %s, the registration of %s, and grants to principals the stack does not own",
		db, strings.Join(props.LFTags.Keys(), ", "), lake.ARN(*awscdk.Aws_PARTITION())), db)
	cdknag.NagSuppressions_AddResourceSuppressions(cleanup.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("glue:GetTables lists the tables of the one lake database, whose names the import job chooses at run time; read-only, to revoke the stack's roles' grants on them at stack deletion."),
		AppliesTo: &[]any{"Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/" + db + "/*"},
	}}, jsii.Bool(true))

	// The suppressions go on the step's construct: its inline Policy is a
	// sibling of its Role.
	for _, name := range append(slices.Clone(AccessModelSteps), CleanupFunction) {
		cdknag.NagSuppressions_AddResourceSuppressions(a.Steps[name].Role().Node().Scope(), &[]*cdknag.NagPackSuppression{
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
	return a
}

// ownAdminARNs are the lake's own roles among the data lake
// administrators: the admin role (if any) and the access-model roles.
func (a *AccessModel) ownAdminARNs(adminRole awsiam.IRole) []string {
	var own []string
	if adminRole != nil {
		own = append(own, *adminRole.RoleArn())
	}
	for _, name := range append(slices.Clone(AccessModelSteps), CleanupFunction) {
		own = append(own, *a.Steps[name].Role().RoleArn())
	}
	return own
}

// CleanupFunction is the stack-delete cleanup of Lake Formation.
const CleanupFunction = stepcontract.CleanupLakeFormation

// CleanupServiceTimeout bounds how long CloudFormation waits for the
// cleanup's answer (1 to 3600 s; default 3600): longer than the function's
// own timeout (stepTimeout), so a cleanup that runs answers in time.
var CleanupServiceTimeout = awscdk.Duration_Minutes(jsii.Number(6))

// newLakeFormationCleanup adds the custom resource whose deletion (with
// the stack, before the roles it names: it refers to them) runs the
// cleanup on roles, the lake's own: CloudFormation deletes them, and Lake
// Formation would keep their grants and admin entries as stale ones. kept
// says what the cleanup leaves.
func newLakeFormationCleanup(scope constructs.Construct, fn StepFunction, roles []string, kept, database string) awscdk.CustomResource {
	cr := awscdk.NewCustomResource(scope, jsii.String("LakeFormationCleanup"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function().FunctionArn(),
		ResourceType: jsii.String("Custom::LakeFormationCleanup"),
		Properties: &map[string]any{
			lakeformation.CleanupRoleARNsProperty: roles,
			lakeformation.CleanupKeptProperty:     kept,
			lakeformation.CleanupDatabaseProperty: database,
		},
		// A cleanup that crashed before answering would otherwise hold the
		// stack's deletion for CloudFormation's default hour; the function
		// itself times out well before this.
		ServiceTimeout: CleanupServiceTimeout,
	})
	// Its function, role, policy and log group must outlive it: the policy
	// is not referenced, so say so.
	cr.Node().AddDependency(fn.Role().Node().Scope())
	return cr
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
