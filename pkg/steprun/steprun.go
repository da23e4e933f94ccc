// Package steprun is the start-up every step Lambda shares: its logger, its
// environment, its AWS configuration, and the handler boundary that hands
// Step Functions only pkg/steperr types. A functions/<name>/main.go reads
// its settings through Env, builds its clients from AWSConfig and calls
// Start; when anything is missing it calls Fail instead.
package steprun

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steplog"
)

// Step is one step Lambda being started.
type Step struct {
	Name string
	Log  *slog.Logger
	Env  *lambdaenv.Reader
}

// New sets up the step's JSON logger and its environment reader.
func New(name string) *Step {
	return &Step{Name: name, Log: steplog.New(name), Env: lambdaenv.New()}
}

// AWSConfig reports the environment problems read so far, if any, then
// loads the SDK configuration with the project's retryer (throttling and 5xx
// are retried by the SDK; Lake Formation's eventual consistency by
// pkg/awsretry). Its error is a ConfigError.
func (s *Step) AWSConfig() (aws.Config, error) {
	if err := s.Env.Err(); err != nil {
		return aws.Config{}, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(awsretry.NewSDKRetryer))
	if err != nil {
		return aws.Config{}, &steperr.ConfigError{
			Field: "AWS SDK configuration",
			Fix:   err.Error() + "; the Lambda runtime provides region and credentials: redeploy the function with `make deploy`",
		}
	}
	return cfg, nil
}

// Fail starts a Lambda that answers err to every invocation. The state
// machine then reports a ConfigError naming the problem, where a function
// that exits at cold start would only give it "Unknown" errors.
func (s *Step) Fail(err error) {
	err = steperr.Normalize(s.Name, err)
	s.Log.Error("cannot start", "error", err.Error())
	lambda.Start(func(ctx context.Context, _ json.RawMessage) (struct{}, error) {
		s.Log.ErrorContext(ctx, "cannot start", "error", err.Error())
		return struct{}{}, err
	})
}

// Start runs handler as the Lambda's handler. Its errors reach Step
// Functions as steperr types, whose names the ASL's Retry and Catch match.
func Start[In, Out any](s *Step, handler func(context.Context, In) (Out, error)) {
	lambda.Start(Boundary(s.Name, handler))
}

// Boundary wraps handler so every error it returns is a steperr type.
func Boundary[In, Out any](step string, handler func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := handler(ctx, in)
		return out, steperr.Normalize(step, err)
	}
}
