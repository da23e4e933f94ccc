package verify

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// AnalystSessionName is the role session name VerifyQuery uses as the
// analyst; it appears in CloudTrail and in Lake Formation's audit.
const AnalystSessionName = "lakeforge-verify-query"

// WireVerifyQuery wires verify-query: what its main.go runs at cold start
// and what the template contract test starts with the template's
// environment.
func WireVerifyQuery(s *steprun.Step) (steprun.Handler, error) {
	env := s.Env
	v := &Verifier{
		Bucket:      env.String(stepcontract.EnvLakeBucket),
		RunsPrefix:  env.String(stepcontract.EnvRunsPrefix),
		Database:    env.String(stepcontract.EnvDatabaseName),
		TablePrefix: env.Optional(stepcontract.EnvTablePrefix, ""),
		Workgroup:   env.String(stepcontract.EnvWorkgroup),
		AnalystRole: env.String(stepcontract.EnvAnalystRoleARN),
		Namespace:   env.String(stepcontract.EnvMetricNamespace),
		Tolerance:   env.Float(stepcontract.EnvRowCountTolerance),
		Log:         s.Log,
	}
	var gov access.Governance
	env.JSON(stepcontract.EnvGovernance, &gov)
	v.ColumnSecurity, v.SensitivityKey = gov.Enabled, gov.Sensitivity.Key
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	// Athena runs as the analyst, so the check proves what analysts can do.
	analyst := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), v.AnalystRole, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = AnalystSessionName
	}))
	v.S3 = s3.NewFromConfig(cfg)
	v.CloudWatch = cloudwatch.NewFromConfig(cfg)
	v.Athena = athena.NewFromConfig(cfg, func(o *athena.Options) { o.Credentials = analyst })
	return steprun.Typed(s.Name, v.Verify), nil
}

// The SDK clients WireVerifyQuery builds satisfy the step's interfaces.
var (
	_ S3API         = (*s3.Client)(nil)
	_ AthenaAPI     = (*athena.Client)(nil)
	_ CloudWatchAPI = (*cloudwatch.Client)(nil)
)
