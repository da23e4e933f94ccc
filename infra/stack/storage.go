package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
)

// StorageProps configures Storage.
type StorageProps struct {
	// LakeBucket is an existing bucket for the lake: one an earlier
	// deployment kept, or the team's own. Its data, versioning, lifecycle
	// and encryption stay as they are; Storage only makes it refuse plain
	// HTTP. Nil makes a new lake bucket.
	LakeBucket awss3.IBucket
	// LakeBucketName names the lake bucket Storage makes; empty lets
	// CloudFormation name it. Unused with LakeBucket.
	LakeBucketName string
	// LakePrefix is the key prefix of the lake in the bucket ("lake/").
	LakePrefix string
}

// Storage is what the lake keeps: the lake bucket, the Athena results
// bucket, the access-log bucket, and the customer managed key of the
// failure topic and Glue's logs and bookmarks. The buckets block public
// access, refuse plain HTTP and encrypt at rest with S3-managed keys,
// which Lake Formation's credential vending and Athena read without extra
// key grants.
//
// What `make destroy` keeps, on purpose: the lake bucket, the access-log
// bucket and the key (Retain). Their bucket policies are deleted with the
// stack. A kept lake bucket is adopted by the next deployment with
// lake.existingBucketName.
type Storage struct {
	constructs.Construct
	// Key encrypts the failure topic and Glue's logs and bookmarks.
	Key awskms.IKey
	// LakeBucket holds the imported data under Lake.Prefix.
	LakeBucket awss3.IBucket
	// ResultsBucket holds Athena query results.
	ResultsBucket awss3.IBucket
	// AccessLogsBucket receives server access logs of the other buckets.
	AccessLogsBucket awss3.IBucket
	// Lake is the lake location: LakeBucket and the prefix.
	Lake awsarn.Lake
}

// NewStorage makes the key and the buckets, or adopts props.LakeBucket.
func NewStorage(scope constructs.Construct, id string, props *StorageProps) *Storage {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Storage{Construct: c, Key: newKey(c)}
	accessLogs := awss3.NewBucket(c, jsii.String("AccessLogsBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(365)),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(accessLogs, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This is the access-log bucket itself; logging it into itself would loop."),
	}}, nil)
	s.AccessLogsBucket = accessLogs

	if props.LakeBucket != nil {
		s.LakeBucket = props.LakeBucket
		refusePlainHTTP(c, props.LakeBucket)
	} else {
		s.LakeBucket = newLakeBucket(c, props.LakeBucketName, accessLogs)
	}
	s.Lake = awsarn.Lake{Bucket: *s.LakeBucket.BucketName(), Prefix: props.LakePrefix}

	s.ResultsBucket = awss3.NewBucket(c, jsii.String("AthenaResultsBucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		RemovalPolicy:          awscdk.RemovalPolicy_DESTROY,
		AutoDeleteObjects:      jsii.Bool(true),
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("athena-results/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-query-results"),
			Expiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	return s
}

// newKey makes the customer managed key for the failure topic and Glue's
// logs and bookmarks. CloudWatch alarms and CloudWatch Logs may use it.
func newKey(scope constructs.Construct) awskms.Key {
	key := awskms.NewKey(scope, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("lakeforge: failure topic, Glue logs and job bookmarks"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToEncryptedTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
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
	return key
}

// newLakeBucket makes the lake bucket, named name or by CloudFormation.
func newLakeBucket(scope constructs.Construct, name string, accessLogs awss3.IBucket) awss3.Bucket {
	bucketName := (*string)(nil)
	if name != "" {
		bucketName = jsii.String(name)
	}
	return awss3.NewBucket(scope, jsii.String("LakeBucket"), &awss3.BucketProps{
		BucketName:             bucketName,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: accessLogs,
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

// refusePlainHTTP denies requests to an existing bucket without TLS. A
// bucket of the same app takes the statement into its own policy; an
// imported one takes none (addToResourcePolicy is a no-op on it), so the
// statement goes into a BucketPolicy resource here, which replaces any
// policy the bucket has.
func refusePlainHTTP(scope constructs.Construct, bucket awss3.IBucket) {
	statement := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:*"),
		Resources:  jsii.Strings(*bucket.BucketArn(), *bucket.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	})
	if added := bucket.AddToResourcePolicy(statement); added != nil && added.StatementAdded != nil && *added.StatementAdded {
		return
	}
	policy := awss3.NewBucketPolicy(scope, jsii.String("LakeBucketPolicy"), &awss3.BucketPolicyProps{Bucket: bucket})
	policy.Document().AddStatements(statement)
}

// nagBucketARN is a bucket's ARN as cdk-nag writes it in the findings that
// suppressions name: a bucket of the app as its Fn::GetAtt, an imported
// one as its literal ARN.
func nagBucketARN(bucket awss3.IBucket) string {
	if child := bucket.Node().DefaultChild(); child != nil {
		if _, ok := child.(awscdk.CfnElement); ok {
			return "<" + logicalID(bucket) + ".Arn>"
		}
	}
	return awsarn.S3("<AWS::Partition>", *bucket.BucketName(), "")
}
