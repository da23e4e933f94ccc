// Package steprun is the start-up every step Lambda shares: its logger, its
// environment, its AWS configuration, and the handler boundary that hands
// Step Functions only pkg/steperr types. A functions/<name>/main.go is one
// call, steprun.Main(<pkg>.<Step>Step): the Definition (in the step's
// package) names the step and its wiring, which reads its settings through
// Env, builds its clients from AWSConfig and returns the handler; when
// anything is missing Main answers that error instead.
package steprun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

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

// NewWithEnv is New reading the environment from env instead of the
// process: the template contract test starts a step's Wiring with exactly
// the variables the synthesized template gives the function.
func NewWithEnv(name string, env map[string]string) *Step {
	return &Step{Name: name, Log: steplog.New(name), Env: lambdaenv.FromMap(env)}
}

// AWSConfig reports the environment problems read so far, if any, then
// loads the SDK configuration with the project's retryer (throttling and 5xx
// are retried by the SDK; Lake Formation's eventual consistency by
// pkg/awsretry). Its error is a ConfigError.
func (s *Step) AWSConfig() (aws.Config, error) {
	if err := s.Env.Err(); err != nil {
		return aws.Config{}, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(awsretry.NewSDKRetryer),
		awsconfig.WithLogger(sdkLog{s.logger()}))
	if err != nil {
		return aws.Config{}, &steperr.ConfigError{
			Field: "AWS SDK configuration",
			Fix:   err.Error() + "; the Lambda runtime provides region and credentials: redeploy the function with `make deploy`",
		}
	}
	return cfg, nil
}

// sdkLog writes the SDK's own log lines (a skipped response checksum, a
// retry) into the step's JSON log: warnings at WARN, the rest at DEBUG,
// which the Lambda's default INFO level drops. Without it the SDK prints
// raw text lines on stderr, between the JSON records.
type sdkLog struct{ log *slog.Logger }

func (l sdkLog) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk-go-v2")
}

func (s *Step) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
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

// Handler is a step's Lambda handler as aws-lambda-go runs it: the raw
// event in (decoded by Decode, so a malformed event is an
// InvalidInputError), the step's output or a steperr type out.
type Handler func(ctx context.Context, event json.RawMessage) (any, error)

// Wiring builds a step's handler once at cold start: it reads the step's
// settings from s.Env, its AWS configuration from s.AWSConfig, and makes
// the clients.
type Wiring func(s *Step) (Handler, error)

// Definition is one step Lambda: its folder under functions/ (a
// pkg/stepcontract name) and its wiring, bound once in the step's package.
// functions/<Name>/main.go runs it with Main; the registry pkg/steps lists
// every Definition for the template contract test (infra/stack) and the
// demo, which start the same Wiring with the environment the template
// gives the function.
type Definition struct {
	Name string
	Wire Wiring
}

// Main starts the step Lambda d: it wires it and runs its handler, or,
// when wiring fails, answers the wiring's error to every invocation.
func Main(d Definition) {
	s := New(d.Name)
	h, err := d.Wire(s)
	if err != nil {
		s.Fail(err)
		return
	}
	lambda.Start(h)
}

// Typed turns a typed handler into a Handler: the event is decoded by
// Decode and every error is normalized to a steperr type.
func Typed[In, Out any](step string, handler func(context.Context, In) (Out, error)) Handler {
	b := Boundary(step, handler)
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		return b(ctx, event)
	}
}

// Boundary wraps handler so that it takes the raw event, decoded by Decode
// (a malformed event is an InvalidInputError naming the field), and every
// error it returns is a steperr type.
func Boundary[In, Out any](step string, handler func(context.Context, In) (Out, error)) func(context.Context, json.RawMessage) (Out, error) {
	return func(ctx context.Context, event json.RawMessage) (Out, error) {
		in, err := Decode[In](event)
		if err != nil {
			var zero Out
			return zero, err
		}
		out, err := handler(ctx, in)
		return out, steperr.Normalize(step, err)
	}
}
