package lakeformation

import (
	"context"
	"log/slog"
)

// StepInput is what the state machine passes an access-model step. The steps
// take their settings from the environment, so any JSON object is accepted
// and ignored ({} included).
type StepInput struct{}

// StepOutput is a step's summary: the changes it made, empty when the
// account had not drifted.
type StepOutput struct {
	Step    string   `json:"step"`
	Changes []string `json:"changes"`
}

// Runner is one converging step.
type Runner interface {
	Run(ctx context.Context) ([]string, error)
}

// Handler is the Lambda handler of a step: it runs r and logs the summary;
// the Lambda boundary (steprun.Typed) turns its errors into steperr types.
func Handler(step string, r Runner, log *slog.Logger) func(context.Context, StepInput) (StepOutput, error) {
	return func(ctx context.Context, _ StepInput) (StepOutput, error) {
		return finish(ctx, step, log, r.Run)
	}
}

func finish(ctx context.Context, step string, log *slog.Logger, run func(context.Context) ([]string, error)) (StepOutput, error) {
	changes, err := run(ctx)
	if changes == nil {
		changes = []string{}
	}
	out := StepOutput{Step: step, Changes: changes}
	if err != nil {
		log.ErrorContext(ctx, "step failed", "error", err.Error(), "changes", changes)
		return out, err
	}
	log.InfoContext(ctx, "step converged", "changed", len(changes) > 0, "changes", changes)
	return out, nil
}
