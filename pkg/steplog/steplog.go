// Package steplog gives every step Lambda the same structured JSON logger.
package steplog

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// New returns the JSON logger that aws-lambda-go sets up for the Lambda
// runtime (request id on every record), with a "step" attribute, and makes it
// the default so libraries that log through slog carry the step too.
func New(step string) *slog.Logger {
	l := lambdacontext.NewLogger().With("step", step)
	slog.SetDefault(l)
	return l
}
