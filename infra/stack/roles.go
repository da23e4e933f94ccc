package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
)

// PersonasProps configures Personas.
type PersonasProps struct {
	// Admins and Analysts: a role to make (and a group whose members may
	// assume it), and existing principals that get the persona too.
	Admins, Analysts config.PersonaConfig
	// DatabaseName is the lake database the analysts read.
	DatabaseName string
	// WorkgroupName names the analysts' Athena workgroup, which cancels a
	// query at BytesScannedCutoffPerQuery and writes results under
	// athena/ in ResultsBucket.
	WorkgroupName              string
	BytesScannedCutoffPerQuery int64
	ResultsBucket              awss3.IBucket
}

// Personas are who uses the lake: the data lake administrator and analyst
// roles (Lake Formation grants to users and roles, never to groups), the
// IAM groups dl_admins and dl_users whose members may assume them, and
// the analysts' Athena workgroup.
type Personas struct {
	constructs.Construct
	// AdminRole and AnalystRole are nil when the configuration uses
	// existing principals only.
	AdminRole   awsiam.IRole
	AnalystRole awsiam.IRole
	// Workgroup is the Athena workgroup analysts query in.
	Workgroup awsathena.CfnWorkGroup

	props       PersonasProps
	analystRole awsiam.Role
}

// NewPersonas makes the persona roles and groups the props ask for, and
// the workgroup.
func NewPersonas(scope constructs.Construct, id string, props *PersonasProps) *Personas {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := &Personas{Construct: c, props: *props}
	if props.Admins.CreateRole {
		p.AdminRole = newAdminRole(c, props.Admins)
	}
	if props.Analysts.CreateRole {
		p.analystRole = newAnalystRole(c, props)
		p.AnalystRole = p.analystRole
	}
	p.Workgroup = newWorkgroup(c, props)
	return p
}

// AdminPrincipalARNs are the Lake Formation administrators: the admin role
// (if made) and the configured principals.
func (p *Personas) AdminPrincipalARNs() []*string {
	return principalARNs(p.AdminRole, p.props.Admins.PrincipalARNs)
}

// AnalystPrincipalARNs are the principals granted SELECT on analyst-tagged
// tables: the analyst role (if made) and the configured principals.
func (p *Personas) AnalystPrincipalARNs() []*string {
	return principalARNs(p.AnalystRole, p.props.Analysts.PrincipalARNs)
}

// TrustAsAnalyst lets role assume the analyst role, by name in its trust
// policy (sid), so the trust survives a narrowed account root. No-op when
// no analyst role was made.
func (p *Personas) TrustAsAnalyst(sid string, role awsiam.IRole) {
	if p.analystRole == nil {
		return
	}
	p.analystRole.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Actions:    jsii.Strings("sts:AssumeRole"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(role.RoleArn())},
	}))
}

// principalARNs returns the ARNs of a persona: its role (if any) and the
// configured existing principals.
func principalARNs(role awsiam.IRole, existing []string) []*string {
	var out []*string
	if role != nil {
		out = append(out, role.RoleArn())
	}
	for _, a := range existing {
		out = append(out, jsii.String(a))
	}
	return out
}

// newAdminRole makes the data lake administrator role with the policies of
// the walkthrough's step 2, and its group.
func newAdminRole(scope constructs.Construct, p config.PersonaConfig) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String("AdminRole"), &awsiam.RoleProps{
		AssumedBy:   personaTrust(p.PrincipalARNs),
		Description: jsii.String("lakeforge: data lake administrator (Lake Formation admin)"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AWSLakeFormationDataAdmin")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AWSLakeFormationCrossAccountManager")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AWSGlueConsoleFullAccess")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonAthenaFullAccess")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("CloudWatchLogsReadOnlyAccess")),
		},
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(4)),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("LakeFormationServiceLinkedRole"),
		Actions:   jsii.Strings("iam:CreateServiceLinkedRole"),
		Resources: jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"iam:AWSServiceName": "lakeformation.amazonaws.com"},
		},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("LakeFormationDataAccessRolePolicy"),
		Actions:   jsii.Strings("iam:PutRolePolicy"),
		Resources: jsii.Strings(lakeformation.ServiceLinkedRoleARN(*awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID())),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{
		{
			Id:     jsii.String("AwsSolutions-IAM4"),
			Reason: jsii.String("The data lake administrator persona uses the AWS-managed policies the Lake Formation documentation prescribes for it (walkthrough step 2)."),
			AppliesTo: &[]any{
				"Policy::arn:<AWS::Partition>:iam::aws:policy/AWSLakeFormationDataAdmin",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/AWSLakeFormationCrossAccountManager",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/AWSGlueConsoleFullAccess",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonAthenaFullAccess",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchLogsReadOnlyAccess",
			},
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("iam:CreateServiceLinkedRole is limited by the iam:AWSServiceName condition to Lake Formation's service-linked role."),
			AppliesTo: &[]any{"Resource::*"},
		},
	}, jsii.Bool(true))
	addGroup(scope, "AdminsGroup", p, role)
	return role
}

// newAnalystRole makes the analyst role and its group.
func newAnalystRole(scope constructs.Construct, props *PersonasProps) awsiam.Role {
	p := props.Analysts
	role := awsiam.NewRole(scope, jsii.String("AnalystRole"), &awsiam.RoleProps{
		AssumedBy:          personaTrust(p.PrincipalARNs),
		Description:        jsii.String("lakeforge: analyst; queries lake tables through Athena, data access vended by Lake Formation"),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(4)),
	})
	for _, st := range analystStatements(props) {
		role.AddToPolicy(st)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Lake Formation data access and LF-tag reads have no resource-level permissions (Lake Formation authorizes per table); Glue reads are limited to the lake database's tables; S3 access is limited to the Athena results prefix, never the lake bucket."),
		AppliesTo: &[]any{
			"Resource::*",
			"Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/" + props.DatabaseName + "/*",
			"Resource::" + nagBucketARN(props.ResultsBucket) + "/athena/*",
		},
	}}, jsii.Bool(true))
	addGroup(scope, "AnalystsGroup", p, role)
	return role
}

// PersonaUsersPattern matches the IAM users of the stack's account: the
// members of dl_admins and dl_users are IAM users.
func PersonaUsersPattern() string {
	return arn("iam", "user/*")
}

// personaTrust is who may assume a persona role. An IAM group cannot be a
// principal in a trust policy (IAM user guide, "IAM user groups"), so the
// role trusts its own account, which delegates the choice to identity
// policies (the group's policy grants sts:AssumeRole on the role), narrowed
// by aws:PrincipalArn to IAM users (the groups' members) and the
// configured principals. A role or service of the account whose policy
// allows sts:AssumeRole on "*" can no longer assume it. The condition,
// unlike a principal ARN, does not need the configured principals to exist
// at deploy time. Principals of other accounts are not trusted.
func personaTrust(configured []string) awsiam.IPrincipal {
	allowed := append([]string{PersonaUsersPattern()}, configured...)
	return awsiam.NewPrincipalWithConditions(awsiam.NewAccountRootPrincipal(), &map[string]any{
		"ArnLike": map[string]any{"aws:PrincipalArn": allowed},
	})
}

// analystStatements is the analyst persona without AmazonS3FullAccess: no S3
// access to the lake bucket at all (Lake Formation vends it per table), only
// the Athena workgroup and its results bucket.
func analystStatements(props *PersonasProps) []awsiam.PolicyStatement {
	db := props.DatabaseName
	results := *props.ResultsBucket.BucketArn()
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("QueryInLakeforgeWorkgroup"),
			Actions:   jsii.Strings("athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup", "athena:ListQueryExecutions"),
			Resources: jsii.Strings(arn("athena", "workgroup/"+props.WorkgroupName)),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadLakeCatalog"),
			Actions:   jsii.Strings("glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:SearchTables"),
			Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+db), arn("glue", "table/"+db+"/*")),
		}),
		// Athena resolves a query without a database context (VerifyQuery's,
		// the console's first) in `default` and reads it with the caller's
		// credentials; its definition only, none of its tables.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AthenaDefaultDatabase"),
			Actions:   jsii.Strings("glue:GetDatabase"),
			Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/default")),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LakeFormationDataAccessAndTagReads"),
			Actions:   jsii.Strings("lakeformation:GetDataAccess", "lakeformation:GetResourceLFTags", "lakeformation:ListLFTags", "lakeformation:GetLFTag", "lakeformation:SearchTablesByLFTags", "lakeformation:SearchDatabasesByLFTags"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AthenaResultsBucket"),
			Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
			Resources: jsii.Strings(results + "/athena/*"),
		}),
		// Athena writes results with multipart uploads as the caller:
		// AmazonAthenaFullAccess grants these on its results buckets.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AthenaResultsBucketList"),
			Actions:   jsii.Strings("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"),
			Resources: jsii.Strings(results),
		}),
	}
}

// addGroup makes an IAM group whose members may assume role. Lake Formation
// itself never sees the group. With adoptGroup the group exists already
// (the blog's manual build): the stack attaches the same statement to it
// as an inline policy of its own (AWS::IAM::Policy with Groups), which a
// stack delete removes again, and never creates or deletes the group.
func addGroup(scope constructs.Construct, id string, p config.PersonaConfig, role awsiam.IRole) {
	if p.GroupName == "" {
		return
	}
	assume := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumePersonaRole"),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings(*role.RoleArn()),
	})
	if p.AdoptGroup {
		existing := awsiam.Group_FromGroupName(scope, jsii.String(id), jsii.String(p.GroupName))
		awsiam.NewPolicy(scope, jsii.String(id+"AssumeRolePolicy"), &awsiam.PolicyProps{
			Groups:     &[]awsiam.IGroup{existing},
			Statements: &[]awsiam.PolicyStatement{assume},
		})
		return
	}
	g := awsiam.NewGroup(scope, jsii.String(id), &awsiam.GroupProps{GroupName: jsii.String(p.GroupName)})
	g.AddToPolicy(assume)
}

// newWorkgroup makes the analysts' workgroup. Its settings are enforced, so
// a client cannot send results elsewhere or unencrypted, and a runaway
// query is cancelled at the bytes-scanned cutoff.
func newWorkgroup(scope constructs.Construct, props *PersonasProps) awsathena.CfnWorkGroup {
	return awsathena.NewCfnWorkGroup(scope, jsii.String("Workgroup"), &awsathena.CfnWorkGroupProps{
		Name:                  jsii.String(props.WorkgroupName),
		Description:           jsii.String("lakeforge: analyst queries on the data lake"),
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			BytesScannedCutoffPerQuery:      jsii.Number(float64(props.BytesScannedCutoffPerQuery)),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("AUTO"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *props.ResultsBucket.BucketName() + "/athena/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_S3"),
				},
			},
		},
	})
}
