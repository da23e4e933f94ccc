// Command verify-query is the VerifyQuery step: as the analyst role, it
// counts every table the import wrote and compares with the job's counts.
package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

func main() {
	step := steprun.New("verify-query")
	env := step.Env
	v := &verify.Verifier{
		Bucket:      env.String("LAKE_BUCKET"),
		RunsPrefix:  env.String("RUNS_PREFIX"),
		Database:    env.String("DATABASE_NAME"),
		TablePrefix: env.Optional("TABLE_PREFIX", ""),
		Workgroup:   env.String("WORKGROUP"),
		AnalystRole: env.String("ANALYST_ROLE_ARN"),
		Namespace:   env.String("METRIC_NAMESPACE"),
		Tolerance:   env.Float("ROW_COUNT_TOLERANCE"),
		Log:         step.Log,
	}
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	// Athena runs as the analyst, so the check proves what analysts can do.
	analyst := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), v.AnalystRole, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "lakeforge-verify-query"
	}))
	v.S3 = s3.NewFromConfig(cfg)
	v.CloudWatch = cloudwatch.NewFromConfig(cfg)
	v.Athena = athena.NewFromConfig(cfg, func(o *athena.Options) { o.Credentials = analyst })
	steprun.Start(step, v.Verify)
}
