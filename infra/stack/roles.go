package stack

import (
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
)

// addWorkflowRole makes the role the Glue crawlers and the import job run
// as: the post's AWSGlueServiceRoleDefaultDataLakeDataAccess, without
// AmazonS3ReadOnlyAccess (it reads and writes only the lake prefix).
func (s *Stack) addWorkflowRole() {
	s.WorkflowRole = awsiam.NewRole(s.Stack, jsii.String("WorkflowRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
		Description: jsii.String("lakeforge: runs the Glue crawlers and the import job"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSGlueServiceRole")),
		},
	})
	lakeObjects := *s.LakeBucket.BucketArn() + "/" + s.Config.Lake.Prefix + "*"
	s.WorkflowRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("LakeFormationVendsCatalogTableData"),
		Actions:   jsii.Strings("lakeformation:GetDataAccess"),
		Resources: jsii.Strings("*"),
	}))
	s.WorkflowRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadWriteLakePrefix"),
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
		Resources: jsii.Strings(lakeObjects),
	}))
	s.WorkflowRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListLakePrefix"),
		Actions:   jsii.Strings("s3:ListBucket", "s3:GetBucketLocation"),
		Resources: jsii.Strings(*s.LakeBucket.BucketArn()),
	}))
	s.WorkflowRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadSourceSecret"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
		Resources: jsii.Strings(s.Config.Source.SecretARN),
	}))
	adoptObjects := s.addAdoptLocationsRead()
	s.Key.GrantEncryptDecrypt(s.WorkflowRole)
	// The security configuration encrypts the job's CloudWatch logs: Glue
	// associates the key with the /aws-glue log groups it creates as the
	// job's role.
	s.WorkflowRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptGlueLogGroups"),
		Actions:   jsii.Strings("logs:AssociateKmsKey"),
		Resources: jsii.Strings(arn("logs", "log-group:/aws-glue/*")),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(s.WorkflowRole, &[]*cdknag.NagPackSuppression{
		{
			Id:        jsii.String("AwsSolutions-IAM4"),
			Reason:    jsii.String("AWSGlueServiceRole is the AWS-maintained policy Glue documents for crawler and job roles; it covers the VPC network-interface lifecycle of JDBC connections, which changes as Glue evolves."),
			AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSGlueServiceRole"},
		},
		{
			Id:     jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("lakeformation:GetDataAccess has no resource-level permissions (Lake Formation authorizes per table); S3 access is limited to objects under the lake prefix; logs:AssociateKmsKey is limited to the /aws-glue log groups Glue creates for the job; kms wildcards are the action groups CDK grants for encrypt/decrypt on the stack's own key."),
			AppliesTo: &[]any{
				"Resource::*",
				"Resource::" + s.LakeBucketNagARN() + "/" + s.Config.Lake.Prefix + "*",
				"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/*",
				"Action::kms:ReEncrypt*",
				"Action::kms:GenerateDataKey*",
			},
		},
	}, jsii.Bool(true))
	if len(adoptObjects) > 0 {
		cdknag.NagSuppressions_AddResourceSuppressions(s.WorkflowRole, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("import.adoptLocations: read-only access to the Parquet files under the prefixes a Lake Formation blueprint wrote, which the import converts in place once (docs/migration.md)."),
			AppliesTo: &adoptObjects,
		}}, jsii.Bool(true))
	}
}

// addAdoptLocationsRead lets the import job read the Parquet tables a
// blueprint wrote under import.adoptLocations (read only), and returns the
// object ARNs for the nag suppression. A converted table's files are read
// once; with full table access such a data source read falls back to the
// job role's IAM permissions.
func (s *Stack) addAdoptLocationsRead() []any {
	locs := s.Config.Import.AdoptLocations
	if len(locs) == 0 {
		return nil
	}
	var objects, buckets []string
	var suppress []any
	for _, loc := range locs {
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(loc, "s3://"), "/")
		objects = append(objects, awsarn.S3(*awscdk.Aws_PARTITION(), bucket, prefix+"*"))
		suppress = append(suppress, "Resource::arn:<AWS::Partition>:s3:::"+bucket+"/"+prefix+"*")
		if b := awsarn.S3(*awscdk.Aws_PARTITION(), bucket, ""); !slices.Contains(buckets, b) {
			buckets = append(buckets, b)
		}
	}
	s.WorkflowRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadAdoptedParquet"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(objects...),
	}))
	s.WorkflowRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListAdoptedParquet"),
		Actions:   jsii.Strings("s3:ListBucket", "s3:GetBucketLocation"),
		Resources: jsii.Strings(buckets...),
	}))
	return suppress
}

// principalARNs returns the ARNs of a persona: the role the stack made (if
// any) and the configured existing principals.
func principalARNs(role awsiam.Role, existing []string) []*string {
	var out []*string
	if role != nil {
		out = append(out, role.RoleArn())
	}
	for _, a := range existing {
		out = append(out, jsii.String(a))
	}
	return out
}

// AdminPrincipalARNs are the Lake Formation administrators from the config.
func (s *Stack) AdminPrincipalARNs() []*string {
	return principalARNs(s.AdminRole, s.Config.Personas.Admins.PrincipalARNs)
}

// AnalystPrincipalARNs are the principals granted SELECT on analyst-tagged tables.
func (s *Stack) AnalystPrincipalARNs() []*string {
	return principalARNs(s.AnalystRole, s.Config.Personas.Analysts.PrincipalARNs)
}

// addPersonas makes the admin and analyst roles (Lake Formation grants to
// users and roles, never to groups) and the IAM groups dl_admins and
// dl_users whose members may assume them.
func (s *Stack) addPersonas() {
	if p := s.Config.Personas.Admins; p.CreateRole {
		s.AdminRole = awsiam.NewRole(s.Stack, jsii.String("AdminRole"), &awsiam.RoleProps{
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
		s.AdminRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LakeFormationServiceLinkedRole"),
			Actions:   jsii.Strings("iam:CreateServiceLinkedRole"),
			Resources: jsii.Strings("*"),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"iam:AWSServiceName": "lakeformation.amazonaws.com"},
			},
		}))
		s.AdminRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LakeFormationDataAccessRolePolicy"),
			Actions:   jsii.Strings("iam:PutRolePolicy"),
			Resources: jsii.Strings(lakeformation.ServiceLinkedRoleARN(*awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID())),
		}))
		cdknag.NagSuppressions_AddResourceSuppressions(s.AdminRole, &[]*cdknag.NagPackSuppression{
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
		s.addGroup("AdminsGroup", p, s.AdminRole)
	}
	if p := s.Config.Personas.Analysts; p.CreateRole {
		s.AnalystRole = awsiam.NewRole(s.Stack, jsii.String("AnalystRole"), &awsiam.RoleProps{
			AssumedBy:          personaTrust(p.PrincipalARNs),
			Description:        jsii.String("lakeforge: analyst; queries lake tables through Athena, data access vended by Lake Formation"),
			MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(4)),
		})
		for _, st := range s.analystStatements() {
			s.AnalystRole.AddToPolicy(st)
		}
		cdknag.NagSuppressions_AddResourceSuppressions(s.AnalystRole, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("Lake Formation data access and LF-tag reads have no resource-level permissions (Lake Formation authorizes per table); Glue reads are limited to the lake database's tables; S3 access is limited to the Athena results prefix, never the lake bucket."),
			AppliesTo: &[]any{
				"Resource::*",
				"Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/" + s.Config.Database.Name + "/*",
				"Resource::<" + s.logicalID(s.ResultsBucket) + ".Arn>/athena/*",
			},
		}}, jsii.Bool(true))
		s.addGroup("AnalystsGroup", p, s.AnalystRole)
	}
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
func (s *Stack) analystStatements() []awsiam.PolicyStatement {
	db := s.Config.Database.Name
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("QueryInLakeforgeWorkgroup"),
			Actions:   jsii.Strings("athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup", "athena:ListQueryExecutions"),
			Resources: jsii.Strings(s.WorkgroupARN()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadLakeCatalog"),
			Actions:   jsii.Strings("glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:SearchTables"),
			Resources: jsii.Strings(arn("glue", "catalog"), arn("glue", "database/"+db), arn("glue", "table/"+db+"/*")),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LakeFormationDataAccessAndTagReads"),
			Actions:   jsii.Strings("lakeformation:GetDataAccess", "lakeformation:GetResourceLFTags", "lakeformation:ListLFTags", "lakeformation:GetLFTag", "lakeformation:SearchTablesByLFTags", "lakeformation:SearchDatabasesByLFTags"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AthenaResultsBucket"),
			Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
			Resources: jsii.Strings(*s.ResultsBucket.BucketArn() + "/athena/*"),
		}),
		// Athena writes results with multipart uploads as the caller:
		// AmazonAthenaFullAccess grants these on its results buckets.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AthenaResultsBucketList"),
			Actions:   jsii.Strings("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"),
			Resources: jsii.Strings(*s.ResultsBucket.BucketArn()),
		}),
	}
}

// addGroup makes an IAM group whose members may assume role. Lake Formation
// itself never sees the group. With adoptGroup the group exists already
// (the blog's manual build): the stack attaches the same statement to it
// as an inline policy of its own (AWS::IAM::Policy with Groups), which a
// stack delete removes again, and never creates or deletes the group.
func (s *Stack) addGroup(id string, p config.PersonaConfig, role awsiam.Role) {
	if p.GroupName == "" {
		return
	}
	assume := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumePersonaRole"),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings(*role.RoleArn()),
	})
	if p.AdoptGroup {
		existing := awsiam.Group_FromGroupName(s.Stack, jsii.String(id), jsii.String(p.GroupName))
		awsiam.NewPolicy(s.Stack, jsii.String(id+"AssumeRolePolicy"), &awsiam.PolicyProps{
			Groups:     &[]awsiam.IGroup{existing},
			Statements: &[]awsiam.PolicyStatement{assume},
		})
		return
	}
	g := awsiam.NewGroup(s.Stack, jsii.String(id), &awsiam.GroupProps{GroupName: jsii.String(p.GroupName)})
	g.AddToPolicy(assume)
}
