// Command embed is a team's own CDK app that puts lakeforge into a stack
// it already has: the lake keeps its data in the team's bucket and the
// import job runs as the team's Glue role. Everything else (the personas,
// the access model, the pipeline, monitoring) comes from the lakeforge
// configuration, the "lakeforge" object of this app's cdk.json.
//
//	make build                    # the step Lambdas, into ../../dist
//	cd examples/embed && npx cdk synth
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/infra/stack"
	"github.com/lakeforge/lakeforge/pkg/config"
)

func main() {
	app := awscdk.NewApp(nil)
	cfg, err := config.FromContext(app.Node().TryGetContext(jsii.String(config.ContextKey)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(1)
	}
	NewAnalyticsStack(app, "TeamAnalytics", cfg, "../../dist")
	app.Synth(nil)
	jsii.Close()
}

// AnalyticsStack is the team's stack: its data bucket and its Glue role
// existed before lakeforge, and the lake is one construct among its own.
type AnalyticsStack struct {
	awscdk.Stack
	DataBucket awss3.Bucket
	GlueRole   awsiam.Role
	Lake       *stack.Lake
}

// NewAnalyticsStack makes the team's resources and embeds the lake, built
// from cfg (validated here) with the step binaries under assetDir.
func NewAnalyticsStack(scope awscdk.App, id string, cfg config.Config, assetDir string) *AnalyticsStack {
	s := &AnalyticsStack{Stack: awscdk.NewStack(scope, jsii.String(id), nil)}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}

	// What the team had: a versioned, encrypted, private bucket, and the
	// role its Glue jobs run as.
	s.DataBucket = awss3.NewBucket(s.Stack, jsii.String("DataBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	s.GlueRole = awsiam.NewRole(s.Stack, jsii.String("GlueJobRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSGlueServiceRole")),
		},
	})

	// The lake in that stack, on that bucket (under lake.prefix) and with
	// that role: lakeforge adds only the statements the import needs.
	s.Lake = stack.NewLake(s.Stack, "Lakeforge", &stack.LakeProps{
		Config:       cfg,
		AssetDir:     assetDir,
		LakeBucket:   s.DataBucket,
		WorkflowRole: s.GlueRole,
	})
	return s
}
