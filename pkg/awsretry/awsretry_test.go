package awsretry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// fakeClock makes Policy.Do's sleeps advance a clock instead of waiting.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) policy() Policy {
	p := Default()
	p.Now = func() time.Time { return c.now }
	p.Sleep = func(_ context.Context, d time.Duration) error {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
		return nil
	}
	p.Rand = func() float64 { return 0.5 }
	return p
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

// conditionErrors are real-looking answers for each eventual-consistency condition.
var conditionErrors = map[string]error{
	"principal not yet visible":             apiErr("InvalidInputException", "Invalid principal arn:aws:iam::123456789012:role/x"),
	"grantee not yet visible":               apiErr("InvalidInputException", "Grantee has no permissions and no grantable permissions on resource"),
	"location registration not yet visible": apiErr("InvalidInputException", "Please register the S3 path first"),
	"concurrent modification":               apiErr("ConcurrentModificationException", "Another update is in progress"),
	"new administrator not yet authorized":  apiErr("AccessDeniedException", "Resource does not exist or requester is not authorized to access requested permissions."),
}

func TestEachConditionIsRetriedOnceThenSucceeds(t *testing.T) {
	if len(conditionErrors) != len(Conditions) {
		t.Fatalf("test covers %d conditions, package has %d", len(conditionErrors), len(Conditions))
	}
	for name, injected := range conditionErrors {
		t.Run(name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(0, 0)}
			calls := 0
			err := clock.policy().Do(context.Background(), "op", func(context.Context) error {
				calls++
				if calls == 1 {
					return injected
				}
				return nil
			})
			if err != nil || calls != 2 || len(clock.sleeps) != 1 {
				t.Fatalf("err=%v calls=%d sleeps=%v; want success after one retry", err, calls, clock.sleeps)
			}
			if got, ok := EventualConsistency(injected); !ok || got != name {
				t.Fatalf("EventualConsistency = %q, %v; want %q", got, ok, name)
			}
		})
	}
}

func TestBudgetExhaustedIsTransient(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	calls := 0
	err := clock.policy().Do(context.Background(), "lakeformation:GrantPermissions", func(context.Context) error {
		calls++
		return conditionErrors["concurrent modification"]
	})
	var te *steperr.TransientError
	if !errors.As(err, &te) || te.Op != "lakeformation:GrantPermissions" {
		t.Fatalf("err = %#v; want a TransientError for the op", err)
	}
	var total time.Duration
	for _, d := range clock.sleeps {
		total += d
		if d > Default().MaxDelay {
			t.Fatalf("delay %v above MaxDelay", d)
		}
	}
	if total > DefaultBudget || total < DefaultBudget/2 || calls < 5 {
		t.Fatalf("slept %v over %d calls; want most of the %v budget used", total, calls, DefaultBudget)
	}
}

func TestContextDeadlineShortensBudget(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	ctx, cancel := context.WithDeadline(context.Background(), clock.now.Add(30*time.Second))
	defer cancel()
	err := clock.policy().Do(ctx, "op", func(context.Context) error { return conditionErrors["concurrent modification"] })
	var te *steperr.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v; want TransientError", err)
	}
	if clock.now.Sub(time.Unix(0, 0)) > 20*time.Second {
		t.Fatalf("retried until %v, past the deadline minus its margin", clock.now.Sub(time.Unix(0, 0)))
	}
}

func TestNonRetryableReturnedUnchanged(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	want := apiErr("AccessDeniedException", "User is not authorized to perform: lakeformation:GrantPermissions")
	calls := 0
	err := clock.policy().Do(context.Background(), "op", func(context.Context) error { calls++; return want })
	if err != want || calls != 1 {
		t.Fatalf("err=%v calls=%d; want the error unchanged after one call", err, calls)
	}
}

func TestJitterStaysWithinBackoff(t *testing.T) {
	p := Default()
	for attempt := 0; attempt < 8; attempt++ {
		lo := p.delay(attempt, func() float64 { return 0 })
		hi := p.delay(attempt, func() float64 { return 0.999 })
		if lo <= 0 || hi > p.MaxDelay || lo >= hi {
			t.Fatalf("attempt %d: delays %v..%v", attempt, lo, hi)
		}
	}
}

func TestDoCheckedAsksOnceAfterTheConditionPersists(t *testing.T) {
	invalid := apiErr("InvalidInputException", "Invalid principal arn:aws:iam::123456789012:role/gone")
	t.Run("check ends the retries with its error", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(0, 0)}
		start := clock.now
		var askedAt []time.Duration
		gone := &steperr.ConfigError{Field: "personas.analysts.principalArns", Value: "arn:aws:iam::123456789012:role/gone", Fix: "does not exist"}
		calls := 0
		err := clock.policy().DoChecked(context.Background(), "op", func(context.Context) error { calls++; return invalid },
			func(_ context.Context, condition string, err error) error {
				askedAt = append(askedAt, clock.now.Sub(start))
				if condition != "principal not yet visible" || err != invalid {
					t.Errorf("check got %q, %v", condition, err)
				}
				return gone
			})
		var ce *steperr.ConfigError
		if !errors.As(err, &ce) || ce != gone {
			t.Fatalf("err = %v (%T); want the check's ConfigError", err, err)
		}
		if len(askedAt) != 1 || askedAt[0] < DefaultCheckAfter || askedAt[0] > DefaultBudget/2 {
			t.Fatalf("check asked at %v; want once, after %v and well before the %v budget", askedAt, DefaultCheckAfter, DefaultBudget)
		}
	})
	t.Run("nil from the check keeps retrying until the budget", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(0, 0)}
		asked := 0
		err := clock.policy().DoChecked(context.Background(), "op", func(context.Context) error { return invalid },
			func(context.Context, string, error) error { asked++; return nil })
		var te *steperr.TransientError
		if !errors.As(err, &te) || asked != 1 {
			t.Fatalf("err = %v, asked %d times; want TransientError after one check", err, asked)
		}
	})
	t.Run("a condition that clears quickly is never checked", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(0, 0)}
		calls := 0
		err := clock.policy().DoChecked(context.Background(), "op", func(context.Context) error {
			calls++
			if calls < 3 {
				return invalid
			}
			return nil
		}, func(context.Context, string, error) error {
			t.Fatal("checked a condition that cleared within seconds")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
