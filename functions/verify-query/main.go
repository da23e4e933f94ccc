// Command verify-query is the VerifyQuery step: as the analyst role, it
// counts every table the import wrote and compares with the job's counts.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steplog"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

func main() {
	log := steplog.New("verify-query")
	env := lambdaenv.New()
	v := &verify.Verifier{
		Bucket:      env.String("LAKE_BUCKET"),
		RunsPrefix:  env.String("RUNS_PREFIX"),
		Database:    env.String("DATABASE_NAME"),
		TablePrefix: env.Optional("TABLE_PREFIX", ""),
		Workgroup:   env.String("WORKGROUP"),
		AnalystRole: env.String("ANALYST_ROLE_ARN"),
		Namespace:   env.String("METRIC_NAMESPACE"),
		Tolerance:   env.Float("ROW_COUNT_TOLERANCE"),
		Log:         log,
	}
	if err := env.Err(); err != nil {
		// Every invocation answers ConfigError, which the state machine
		// reports, instead of a crash loop it could only call Unknown.
		log.Error("bad environment", "error", err)
		lambda.Start(func(context.Context, json.RawMessage) (struct{}, error) { return struct{}{}, err })
		return
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS configuration", "error", err)
		os.Exit(1)
	}
	// Athena runs as the analyst, so the check proves what analysts can do.
	analyst := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), v.AnalystRole, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "lakeforge-verify-query"
	}))
	v.S3 = s3.NewFromConfig(cfg)
	v.CloudWatch = cloudwatch.NewFromConfig(cfg)
	v.Athena = athena.NewFromConfig(cfg, func(o *athena.Options) { o.Credentials = analyst })
	lambda.Start(func(ctx context.Context, in verify.Input) (verify.Output, error) {
		out, err := v.Verify(ctx, in)
		return out, steperr.Normalize("verify-query", err)
	})
}
