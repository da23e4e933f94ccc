package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// newRegistrationRole makes the user-defined role the lake location is
// registered with: Lake Formation assumes it to vend credentials for the
// lake's data (Glue 5.0 full table access, Athena). The Lake Formation
// guide ("Requirements for roles used to register locations") requires a
// user-defined role rather than the service-linked one for EMR, whose
// full-table-access mechanism Glue 5.0 shares; the role trusts
// lakeformation.amazonaws.com and glue.amazonaws.com with sts:AssumeRole
// and sts:SetContext, and reads and writes only the lake prefix. The lake
// bucket is encrypted with S3-managed keys, so no KMS permission is needed.
func newRegistrationRole(scope constructs.Construct, lakeBucket awss3.IBucket, lakePrefix string) awsiam.Role {
	trust := awsiam.NewCompositePrincipal(
		awsiam.NewServicePrincipal(jsii.String("lakeformation.amazonaws.com"), nil),
		awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
	)
	role := awsiam.NewRole(scope, jsii.String("LakeLocationRegistrationRole"), &awsiam.RoleProps{
		AssumedBy:   trust,
		Description: jsii.String("lakeforge: Lake Formation registration role of the lake prefix (credential vending)"),
	})
	// SetContext carries an IAM Identity Center user's context into
	// CloudTrail when the account turns that on (same guide page).
	role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("sts:SetContext"),
		Principals: &[]awsiam.IPrincipal{trust},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadWriteLakePrefix"),
		Actions:   jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
		Resources: jsii.Strings(*lakeBucket.BucketArn() + "/" + lakePrefix + "*"),
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListLakeBucket"),
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: jsii.Strings(*lakeBucket.BucketArn()),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Lake Formation vends credentials for any object under the lake prefix it registers, so the role reads and writes every object under it and nothing else."),
		AppliesTo: &[]any{"Resource::" + nagBucketARN(lakeBucket) + "/" + lakePrefix + "*"},
	}}, jsii.Bool(true))
	return role
}
