package cli

import (
	"context"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/pkg/adopt"
)

// loadOptions are --profile and --region as the SDK's configuration
// options; what they leave out comes from AWS_PROFILE, AWS_REGION and the
// shared files.
func (opts AWSOptions) loadOptions() []func(*awsconfig.LoadOptions) error {
	var loads []func(*awsconfig.LoadOptions) error
	if opts.Profile != "" {
		loads = append(loads, awsconfig.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		loads = append(loads, awsconfig.WithRegion(opts.Region))
	}
	return loads
}

// DefaultClients builds the clients from the SDK's default configuration,
// as the AWS CLI does: --profile / AWS_PROFILE, --region / AWS_REGION, the
// shared files, and AWS_ENDPOINT_URL[_<SERVICE>] for local endpoints.
func DefaultClients(ctx context.Context, opts AWSOptions) (*Clients, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts.loadOptions()...)
	if err != nil {
		return nil, ConfigLoadError(err)
	}
	if cfg.Region == "" {
		return nil, NoRegionError()
	}
	e := ec2.NewFromConfig(cfg)
	g := glue.NewFromConfig(cfg)
	cf, im, lfc := cloudformation.NewFromConfig(cfg), iam.NewFromConfig(cfg), lf.NewFromConfig(cfg)
	return &Clients{
		Region:     cfg.Region,
		Stacks:     cf,
		Executions: sfn.NewFromConfig(cfg),
		Glue:       g,
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			// Local endpoints (moto) serve path-style requests only.
			o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
			// Manifests are read whole; a response without a checksum is
			// not worth a log line on the operator's terminal.
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
		LF:               lfc,
		IAM:              im,
		Adopt:            adopt.Clients{IAM: im, Stacks: cf, Glue: g, LF: lfc},
		Scheduler:        scheduler.NewFromConfig(cfg),
		Network:          e,
		PreflightEC2:     e,
		PreflightSecrets: secretsmanager.NewFromConfig(cfg),
		PreflightGlue:    g,
	}, nil
}
