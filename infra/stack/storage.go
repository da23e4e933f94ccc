package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
)

// addKey makes the customer managed key for the failure topic and Glue's
// logs and bookmarks. CloudWatch alarms and CloudWatch Logs may use it.
func (s *Stack) addKey() {
	s.Key = awskms.NewKey(s.Stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("lakeforge: failure topic, Glue logs and job bookmarks"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	s.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToEncryptedTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	s.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CloudWatchLogsEncryptGlueLogs"),
		// CloudWatch Logs' key policies name the regional principal
		// logs.<region>.amazonaws.com.
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*awscdk.Aws_REGION()+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": arn("logs", "*"),
			},
		},
	}), nil)
}

// addStorage makes the lake bucket (kept on teardown) or adopts an existing
// one, the Athena results bucket and the access-log bucket. All block
// public access, refuse plain HTTP and encrypt at rest with S3-managed
// keys, which Lake Formation's credential vending and Athena read without
// extra key grants.
//
// What `make destroy` keeps, on purpose: the lake bucket, the access-log
// bucket and the key (Retain). Their bucket policies are deleted with the
// stack. A kept lake bucket is adopted by the next deployment with
// lake.existingBucketName.
func (s *Stack) addStorage() {
	s.AccessLogsBucket = awss3.NewBucket(s.Stack, jsii.String("AccessLogsBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(365)),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s.AccessLogsBucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This is the access-log bucket itself; logging it into itself would loop."),
	}}, nil)

	if name := s.Config.Lake.ExistingBucketName; name != "" {
		s.adoptLakeBucket(name)
	} else {
		s.createLakeBucket()
	}

	s.ResultsBucket = awss3.NewBucket(s.Stack, jsii.String("AthenaResultsBucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		RemovalPolicy:          awscdk.RemovalPolicy_DESTROY,
		AutoDeleteObjects:      jsii.Bool(true),
		ServerAccessLogsBucket: s.AccessLogsBucket,
		ServerAccessLogsPrefix: jsii.String("athena-results/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-query-results"),
			Expiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
}

// createLakeBucket makes the lake bucket, named lake.bucketName or by
// CloudFormation.
func (s *Stack) createLakeBucket() {
	bucketName := (*string)(nil)
	if s.Config.Lake.BucketName != "" {
		bucketName = jsii.String(s.Config.Lake.BucketName)
	}
	s.LakeBucket = awss3.NewBucket(s.Stack, jsii.String("LakeBucket"), &awss3.BucketProps{
		BucketName:             bucketName,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: s.AccessLogsBucket,
		ServerAccessLogsPrefix: jsii.String("lake/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			// Snapshot imports rewrite every object daily: old versions would
			// otherwise pile up forever.
			Id:                                  jsii.String("expire-old-versions"),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
	})
}

// adoptLakeBucket uses an existing bucket, typically the one an earlier
// deployment kept on `make destroy`: its data, versioning, lifecycle and
// encryption stay as they are, and the database that points at it stays
// valid. An imported bucket takes no resource policy (addToResourcePolicy
// is a no-op on it), so the TLS-only statement goes into a BucketPolicy
// resource of this stack. That policy replaces any policy the bucket has.
func (s *Stack) adoptLakeBucket(name string) {
	s.LakeBucket = awss3.Bucket_FromBucketName(s.Stack, jsii.String("LakeBucket"), jsii.String(name))
	policy := awss3.NewBucketPolicy(s.Stack, jsii.String("LakeBucketPolicy"), &awss3.BucketPolicyProps{Bucket: s.LakeBucket})
	policy.Document().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:*"),
		Resources:  jsii.Strings(*s.LakeBucket.BucketArn(), *s.LakeBucket.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}))
}

// LakeBucketNagARN is the lake bucket's ARN as cdk-nag writes it in the
// findings that suppressions name: the created bucket's Fn::GetAtt, or the
// adopted bucket's literal ARN.
func (s *Stack) LakeBucketNagARN() string {
	if name := s.Config.Lake.ExistingBucketName; name != "" {
		return awsarn.S3("<AWS::Partition>", name, "")
	}
	return "<" + s.logicalID(s.LakeBucket) + ".Arn>"
}
