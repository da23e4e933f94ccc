// Package awsretry classifies AWS SDK errors and retries the conditions that
// clear by themselves (eventual consistency after IAM and Lake Formation
// changes) inside a stated time budget.
//
// Two layers retry, each for its own kind of failure:
//   - the SDK's standard retryer (NewSDKRetryer, set in each function's main)
//     handles throttling, 5xx answers and network errors, per call;
//   - Policy.Do retries the named eventual-consistency conditions of
//     EventualConsistency with exponential backoff and jitter for up to
//     Policy.Budget (2 minutes by default, never past the Lambda's deadline),
//     then returns a *steperr.TransientError so the state machine retries the
//     whole step later.
//
// Everything else is returned unchanged; the caller asks Classify (or
// Transient) whether it is worth a TransientError, and otherwise turns it
// into a steperr.PermanentError with a fix. classify.go holds every list of
// conditions, so steps and preflight decide alike.
package awsretry

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// DefaultBudget is how long Policy.Do keeps retrying eventual-consistency
// conditions; the Terraform AWS provider waits about as long for the same
// Lake Formation conditions.
const DefaultBudget = 2 * time.Minute

// Policy is a retry budget with exponential backoff and jitter. The zero
// values of Sleep, Now and Rand use the real clock and math/rand, so tests
// inject fakes and never sleep.
type Policy struct {
	// Budget bounds the time spent retrying one call.
	Budget time.Duration
	// BaseDelay is the first backoff; each retry doubles it up to MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// DeadlineMargin is kept free before the context's deadline, so a
	// Lambda still returns its TransientError before it times out.
	DeadlineMargin time.Duration
	// CheckAfter is how long a condition must persist before DoChecked asks
	// its check whether the condition can still clear (a principal that
	// does not exist answers "Invalid principal" forever).
	CheckAfter time.Duration

	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// Rand returns a number in [0, 1) for the jitter.
	Rand func() float64
	// Log receives one record per retry; nil uses slog.Default().
	Log *slog.Logger
}

// Default is the policy the step Lambdas use: 1 s doubling to 15 s, with
// equal jitter, for up to DefaultBudget.
func Default() Policy {
	return Policy{Budget: DefaultBudget, BaseDelay: time.Second, MaxDelay: 15 * time.Second, DeadlineMargin: 10 * time.Second, CheckAfter: DefaultCheckAfter}
}

// DefaultCheckAfter is how long Default waits before DoChecked's check: IAM
// changes usually reach Lake Formation within seconds, and the check itself
// (an IAM read) is cheap.
const DefaultCheckAfter = 15 * time.Second

// Check is asked, once, whether a condition that persisted for CheckAfter
// can still clear: it returns nil to keep retrying, or the error to end with
// (typically a *steperr.ConfigError naming a principal that does not exist).
type Check func(ctx context.Context, condition string, err error) error

// Do calls call until it succeeds, fails with something other than an
// eventual-consistency condition (returned unchanged), or the budget runs out
// (a *steperr.TransientError for op that wraps the last error).
func (p Policy) Do(ctx context.Context, op string, call func(context.Context) error) error {
	return p.DoChecked(ctx, op, call, nil)
}

// DoChecked is Do that calls check once when an eventual-consistency
// condition has persisted for CheckAfter (or when the budget runs out
// first); a non-nil answer from check ends the retries with that error.
func (p Policy) DoChecked(ctx context.Context, op string, call func(context.Context) error, check Check) error {
	now, sleep, rnd, log := p.Now, p.Sleep, p.Rand, p.Log
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepContext
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	if log == nil {
		log = slog.Default()
	}
	start := now()
	deadline := start.Add(p.Budget)
	if d, ok := ctx.Deadline(); ok && d.Add(-p.DeadlineMargin).Before(deadline) {
		deadline = d.Add(-p.DeadlineMargin)
	}
	for attempt := 0; ; attempt++ {
		err := call(ctx)
		if err == nil {
			return nil
		}
		condition, retryable := EventualConsistency(err)
		if !retryable {
			return err
		}
		delay := p.delay(attempt, rnd)
		waited := now().Sub(start)
		outOfTime := now().Add(delay).After(deadline)
		if check != nil && (waited >= p.CheckAfter || outOfTime) {
			if cerr := check(ctx, condition, err); cerr != nil {
				return cerr
			}
			check = nil
		}
		if outOfTime {
			return &steperr.TransientError{Op: op, Err: err, Waited: waited.Round(time.Second).String()}
		}
		log.Info("retrying after an eventual-consistency condition", "op", op, "condition", condition, "attempt", attempt+1, "delay", delay.String(), "error", err.Error())
		if serr := sleep(ctx, delay); serr != nil {
			return &steperr.TransientError{Op: op, Err: err, Waited: now().Sub(start).Round(time.Second).String()}
		}
	}
}

// delay is equal jitter: half the exponential backoff plus a random share
// of the other half, so concurrent callers spread out but never retry at once.
func (p Policy) delay(attempt int, rnd func() float64) time.Duration {
	d := p.BaseDelay
	for i := 0; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	half := d / 2
	return half + time.Duration(rnd()*float64(d-half))
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NewSDKRetryer is the SDK retryer the step Lambdas use: the standard one
// (throttling, 5xx, network errors, with jittered backoff and a retry quota)
// with more attempts, because a step runs once a day and would rather wait.
func NewSDKRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 6
		o.MaxBackoff = 10 * time.Second
	})
}
