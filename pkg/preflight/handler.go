package preflight

import (
	"context"
	"log/slog"
)

// Input is the state machine's input to the TestConnection state. The step
// needs nothing from earlier states: it checks the deployed connection.
type Input struct{}

// Output carries the report of a passing run to later states and to the
// execution history.
type Output struct {
	Report Report `json:"report"`
}

// Handler is the test-connection step.
type Handler struct {
	Checker        *Checker
	ConnectionName string
}

// Handle checks the deployed connection. A failed check returns
// *steperr.PreflightError carrying the report (or a TransientError when
// every failure is temporary), so the state machine stops before the
// import and the failure notice carries the report.
func (h *Handler) Handle(ctx context.Context, _ Input) (Output, error) {
	rep := h.Checker.RunDeployed(ctx, h.ConnectionName)
	h.Checker.logger().InfoContext(ctx, "preflight finished", "passed", rep.Passed, "failed", rep.FailedNames(), "repairs", rep.Repairs)
	if err := rep.Error(); err != nil {
		return Output{}, err
	}
	return Output{Report: rep}, nil
}

func (c *Checker) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}
