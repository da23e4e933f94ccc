package verify

import (
	"context"
	"errors"
	"strings"
	"time"
)

// The count of a table tagged moments ago: TagOutput runs right before
// VerifyQuery, and until Lake Formation has applied the tag Athena answers
// as if the table were missing or not permitted.

// DefaultSettleFor is how long VerifyQuery waits for a table tagged moments
// ago to be visible to the analyst: TagOutput runs right before it, and
// Lake Formation applies new tags and grants within about a minute.
const DefaultSettleFor = time.Minute

// analystQueryError is a count query Athena ran and failed for a reason
// the analyst would see; reason is Athena's StateChangeReason.
type analystQueryError struct {
	msg    string
	reason string
}

func (e *analystQueryError) Error() string { return e.msg }

// notYetVisible says whether a failed query's reason is what a table
// tagged moments ago answers until Lake Formation has applied the tag:
// not found, or not permitted.
func notYetVisible(err error) bool {
	var qe *analystQueryError
	if !errors.As(err, &qe) {
		return false
	}
	r := strings.ToLower(qe.reason)
	for _, symptom := range []string{"table_not_found", "not found", "does not exist", "insufficient lake formation permission", "permission"} {
		if strings.Contains(r, symptom) {
			return true
		}
	}
	return false
}

// settledCount is count, retried with backoff for up to SettleFor while
// the table answers as one tagged moments ago.
func (v *Verifier) settledCount(ctx context.Context, table string) (int64, error) {
	now, sleep := v.Now, v.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
				return nil
			}
		}
	}
	settle := v.SettleFor
	if settle == 0 {
		settle = DefaultSettleFor
	}
	start, delay := now(), 5*time.Second
	for attempt := 1; ; attempt++ {
		n, err := v.count(ctx, table)
		if err == nil || !notYetVisible(err) || now().Add(delay).Sub(start) > settle {
			return n, err
		}
		v.log().Info("the analyst cannot see the table yet; retrying (a table tagged moments ago takes up to a minute)", "table", table, "attempt", attempt, "delay", delay.String(), "error", err.Error())
		if sleep(ctx, delay) != nil {
			return n, err
		}
		delay = min(2*delay, 20*time.Second)
	}
}
