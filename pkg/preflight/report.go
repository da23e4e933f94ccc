// Package preflight checks that the Glue connection can reach the source
// database before the import starts, says exactly what to change when it
// cannot, and optionally repairs the two causes the original build hit: a
// missing self-referencing security group rule and a missing S3 gateway
// endpoint. The same checks run in the test-connection Lambda (against the
// deployed connection) and in `make preflight` (against cdk.json, from an
// operator's machine, plus a direct database handshake).
package preflight

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Status is the outcome of one check.
type Status string

const (
	// Pass: the condition holds.
	Pass Status = "pass"
	// Fail: the condition does not hold; Fix says what to change.
	Fail Status = "fail"
	// NotRun: the check needs something an earlier check could not find
	// (for example the subnet); Evidence says which.
	NotRun Status = "not-run"
	// NotDeployed: the Glue connection does not exist yet (operator CLI
	// before the first deploy), so glue:TestConnection cannot run.
	NotDeployed Status = "not-deployed"
	// NotReachable: this machine cannot open a connection to the database
	// (operator CLI only; expected for a private database).
	NotReachable Status = "not-reachable"
)

// Check names, in the order they run.
const (
	CheckSecret         = "secret"
	CheckSubnet         = "subnet"
	CheckSecurityGroups = "security-groups"
	CheckS3Route        = "s3-route"
	CheckEndpoints      = "aws-endpoints"
	CheckDNSAndIPs      = "dns-and-free-ips"
	CheckGlueTest       = "glue-test-connection"
	CheckHandshake      = "direct-handshake"
	// CheckConnection is reported alone when the deployed Glue connection
	// cannot be read at all.
	CheckConnection = "glue-connection"
)

// Check is one line of the report.
type Check struct {
	Name     string   `json:"name"`
	Status   Status   `json:"status"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
	Fix      string   `json:"fix,omitempty"`
	// Transient marks a failure AWS may clear by itself (throttling, a
	// service error): the step then returns a TransientError so the state
	// machine retries instead of stopping.
	Transient bool `json:"transient,omitempty"`
}

// Report is the ordered result of a preflight run.
type Report struct {
	Connection string  `json:"connection"`
	Target     string  `json:"target"`
	Checks     []Check `json:"checks"`
	// Repairs lists what repair mode changed, with resource ids.
	Repairs []string `json:"repairs,omitempty"`
	Passed  bool     `json:"passed"`
}

// Get returns the named check, or nil.
func (r *Report) Get(name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// FailedNames lists the checks that failed, in order.
func (r *Report) FailedNames() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.Name)
		}
	}
	return out
}

func (r *Report) finish() {
	r.Passed = len(r.FailedNames()) == 0
}

// String renders the report for people: one block per check.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lakeforge preflight of Glue connection %s (%s)\n", r.Connection, r.Target)
	for i, c := range r.Checks {
		fmt.Fprintf(&b, "%d. [%s] %s: %s\n", i+1, strings.ToUpper(string(c.Status)), c.Name, c.Summary)
		for _, e := range c.Evidence {
			fmt.Fprintf(&b, "     evidence: %s\n", e)
		}
		if c.Fix != "" {
			fmt.Fprintf(&b, "     fix: %s\n", c.Fix)
		}
	}
	for _, rep := range r.Repairs {
		fmt.Fprintf(&b, "repaired: %s\n", rep)
	}
	if r.Passed {
		b.WriteString("result: PASSED\n")
	} else {
		fmt.Fprintf(&b, "result: FAILED (%s)\n", strings.Join(r.FailedNames(), ", "))
	}
	return b.String()
}

// Error returns the step error for a failed report: a TransientError when
// every failure may clear by itself, else a PreflightError carrying the
// report. Both carry every failed check with its evidence (the underlying
// AWS message) and the repairs this run made, so a failure after a repair
// says what was already changed. It returns nil for a passing report.
func (r *Report) Error() error {
	if r.Passed {
		return nil
	}
	transient := true
	var failed []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			transient = transient && c.Transient
			line := c.Name + ": " + c.Summary
			if len(c.Evidence) > 0 {
				line += " [" + strings.Join(c.Evidence, "; ") + "]"
			}
			failed = append(failed, line)
		}
	}
	if transient {
		detail := strings.Join(failed, "; ")
		if len(r.Repairs) > 0 {
			detail += "; repairs made in this run: " + strings.Join(r.Repairs, "; ")
		}
		return &steperr.TransientError{Op: "preflight", Err: errors.New(detail)}
	}
	return &steperr.PreflightError{Failed: r.FailedNames(), Report: r.String()}
}
