// Package stack is the lakeforge CloudFormation stack: one file per concern,
// each a constructor that adds its resources to the Stack.
package stack

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// Props configures the stack.
type Props struct {
	awscdk.StackProps
	Config config.Config
	// AssetDir holds dist/<function>/bootstrap, as `make build` writes them.
	AssetDir string
}

// Stack holds the resources that several concerns share.
type Stack struct {
	awscdk.Stack
	Config   config.Config
	assetDir string

	// Key encrypts the failure topic and Glue's logs and bookmarks.
	Key awskms.Key
	// LakeBucket holds the imported data under Config.Lake.Prefix: a bucket
	// of the stack, or the adopted lake.existingBucketName (then no
	// CloudFormation resource; see addStorage).
	LakeBucket awss3.IBucket
	// ResultsBucket holds Athena query results.
	ResultsBucket awss3.Bucket
	// AccessLogsBucket receives server access logs of the other buckets.
	AccessLogsBucket awss3.Bucket
	// WorkflowRole runs the Glue crawlers and the import job.
	WorkflowRole awsiam.Role
	// RegistrationRole is the role the lake location is registered with.
	RegistrationRole awsiam.Role
	// AdminRole and AnalystRole are nil when the config uses existing principals.
	AdminRole   awsiam.Role
	AnalystRole awsiam.Role
	// Connection is the Glue JDBC connection to the source database.
	Connection awsglue.CfnConnection
	// WorkgroupName is the Athena workgroup analysts use.
	Workgroup awsathena.CfnWorkGroup
	// FailureTopic receives failure notices and alarms.
	FailureTopic awssns.Topic

	// StateMachine is the daily pipeline.
	StateMachine awsstepfunctions.StateMachine

	// Steps are the step Lambdas by function name (functions/<name>).
	Steps map[string]StepFunction
}

// New builds the whole stack. The order matters only where one concern uses
// another's resources.
func New(scope constructs.Construct, id string, props *Props) *Stack {
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("lakeforge: a Lake Formation data lake fed daily from an RDS database")
	}
	s := &Stack{
		Stack:    awscdk.NewStack(scope, jsii.String(id), &sp),
		Config:   props.Config,
		assetDir: props.AssetDir,
		Steps:    map[string]StepFunction{},
	}
	awscdk.Tags_Of(s.Stack).Add(jsii.String("lakeforge:stack"), jsii.String(id), &awscdk.TagProps{
		// Tags on AWS::Glue::Connection are newer than the resource schema
		// cfn-lint (and some regions) know; the connection is named after
		// the stack instead.
		ExcludeResourceTypes: jsii.Strings("AWS::Glue::Connection"),
	})

	s.addKey()
	s.addStorage()
	s.addAlerts()
	s.addWorkflowRole()
	s.addRegistrationRole()
	s.addPersonas()
	s.addConnection()
	s.addAthena()
	s.addAccessModel()
	s.addPreflight()
	s.addPipeline()
	s.addOutputs()
	return s
}

// asset returns the directory of a function's bootstrap binary.
func (s *Stack) asset(name string) string {
	return filepath.Join(s.assetDir, name)
}

// Lake is the lake location: the lake bucket and lake.prefix, for its URI
// (the database location), directory (the import job) and ARN (Lake
// Formation's registered location).
func (s *Stack) Lake() awsarn.Lake {
	return awsarn.Lake{Bucket: *s.LakeBucket.BucketName(), Prefix: s.Config.Lake.Prefix}
}

// LakeLocationARN is the S3 ARN of the lake prefix, as Lake Formation
// registers it.
func (s *Stack) LakeLocationARN() string { return s.Lake().ARN(*awscdk.Aws_PARTITION()) }

// arn is the ARN of a resource of the stack's account, in the stack's
// region; IAM is global, so its ARNs have no region.
func arn(service, resource string) string {
	region := *awscdk.Aws_REGION()
	if service == "iam" {
		region = ""
	}
	return awsarn.ARN(*awscdk.Aws_PARTITION(), service, region, *awscdk.Aws_ACCOUNT_ID(), resource)
}

// logicalID is the template's logical id of a construct's CloudFormation
// resource, as cdk-nag names it in "Resource::<id.Arn>" findings.
func (s *Stack) logicalID(c constructs.IConstruct) string {
	return *s.Stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}
