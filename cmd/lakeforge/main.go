// Command lakeforge operates a deployed lakeforge stack: run, status,
// doctor and preflight. The logic is in pkg/cli; main only wires the AWS
// SDK's default configuration (profiles, AWS_REGION, AWS_ENDPOINT_URL) and
// the process.
package main

import (
	"context"
	"os"
	"os/signal"

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

	"github.com/lakeforge/lakeforge/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(cli.Main(ctx, os.Args[1:], cli.Env{
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Terminal: isTerminal(os.Stdout),
		Clients:  clients,
	}))
}

// isTerminal says whether f is a character device (a terminal), not a
// pipe or a file.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func clients(ctx context.Context, opts cli.AWSOptions) (*cli.Clients, error) {
	var loads []func(*awsconfig.LoadOptions) error
	if opts.Profile != "" {
		loads = append(loads, awsconfig.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		loads = append(loads, awsconfig.WithRegion(opts.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, cli.ConfigLoadError(err)
	}
	if cfg.Region == "" {
		return nil, cli.NoRegionError()
	}
	e := ec2.NewFromConfig(cfg)
	g := glue.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// moto and other local endpoints serve path-style requests only.
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	})
	return &cli.Clients{
		Region:           cfg.Region,
		Stacks:           cloudformation.NewFromConfig(cfg),
		Executions:       sfn.NewFromConfig(cfg),
		Glue:             g,
		S3:               s3c,
		LF:               lf.NewFromConfig(cfg),
		IAM:              iam.NewFromConfig(cfg),
		Scheduler:        scheduler.NewFromConfig(cfg),
		Network:          e,
		PreflightEC2:     e,
		PreflightSecrets: secretsmanager.NewFromConfig(cfg),
		PreflightGlue:    g,
	}, nil
}
