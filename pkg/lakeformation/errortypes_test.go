package lakeformation

// The error type a step returns is its contract with the state machine: the
// ASL retries only TransientError (statemachine/pipeline.asl.json), so a
// principal that does not exist, a deleted stack role or a permanent AWS
// answer must reach Step Functions as another type. These tests run each
// step through its Lambda handler (which normalizes the error as aws-lambda-go
// reports it) and compare the exact type, not errors.As: a ConfigError
// wrapped in a TransientError is reported as "TransientError" and retried.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/statemachine"
)

// errorTypeCase is one failure of one step and the type it must reach Step
// Functions as, with the words the message must carry.
type errorTypeCase struct {
	name  string
	setup func(t *testing.T, a *account) Runner
	want  error // only its type counts
	words []string
}

func invalidPrincipal(who string) error {
	return apiErr("InvalidInputException", "Invalid principal: "+who)
}

var (
	throttled    = apiErr("ThrottlingException", "Rate exceeded")
	accessDenied = apiErr("AccessDeniedException", "User is not authorized to perform this action")
)

var errorTypeCases = map[string][]errorTypeCase{
	"configure-lake-formation": {
		{"missing configured administrator", func(t *testing.T, a *account) Runner {
			createPrincipals(t, a, stepRole) // configuredAdmin does not exist
			a.LF.inject("PutDataLakeSettings", invalidPrincipal(configuredAdmin), 1000)
			return configureStep(a)
		}, &steperr.ConfigError{}, []string{configuredAdmin, AdminsSetting}},
		{"deleted own role", func(t *testing.T, a *account) Runner {
			createPrincipals(t, a, configuredAdmin) // stepRole was deleted
			a.LF.inject("PutDataLakeSettings", invalidPrincipal(stepRole), 1000)
			return configureStep(a)
		}, &steperr.PermanentError{}, []string{stepRole, "redeploy"}},
		{"permanent AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("GetDataLakeSettings", accessDenied, 1)
			return configureStep(a)
		}, &steperr.PermanentError{}, []string{"GetDataLakeSettings"}},
		{"transient AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("GetDataLakeSettings", throttled, 1)
			return configureStep(a)
		}, &steperr.TransientError{}, []string{"GetDataLakeSettings"}},
	},
	"ensure-lf-tags": {
		{"deleted own role", func(t *testing.T, a *account) Runner {
			// No role exists: the first grant names the ensure-database role.
			a.LF.inject("GrantPermissions", invalidPrincipal(databaseStepRole), 1000)
			return tagsStep(a)
		}, &steperr.PermanentError{}, []string{databaseStepRole, "EnsureDatabase", "redeploy"}},
		{"permanent AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("GetLFTag", accessDenied, 1)
			return tagsStep(a)
		}, &steperr.PermanentError{}, []string{"GetLFTag"}},
		{"transient AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("GetLFTag", throttled, 1)
			return tagsStep(a)
		}, &steperr.TransientError{}, []string{"GetLFTag"}},
	},
	"register-location": {
		{"deleted own role", func(t *testing.T, a *account) Runner {
			// The workflow role was deleted: issue 17 found this step
			// retrying "Invalid principal" for 2 minutes, then TransientError.
			a.LF.inject("GrantPermissions", invalidPrincipal(workflowRole), 1000)
			return locationStep(a)
		}, &steperr.PermanentError{}, []string{workflowRole, "WorkflowRole", "redeploy"}},
		{"permanent AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("DescribeResource", accessDenied, 1)
			return locationStep(a)
		}, &steperr.PermanentError{}, []string{"DescribeResource"}},
		{"transient AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("DescribeResource", apiErr("InternalServiceException", "Internal error"), 1)
			return locationStep(a)
		}, &steperr.TransientError{}, []string{"DescribeResource"}},
	},
	"ensure-database": {
		{"deleted own role", func(t *testing.T, a *account) Runner {
			// TagOutput's role, to which the step grants on the database.
			a.LF.inject("GrantPermissions", invalidPrincipal(tagOutputStepRole), 1000)
			createTag(t, a, "maintenance", "crawler")
			return databaseStep(a)
		}, &steperr.PermanentError{}, []string{tagOutputStepRole, "TagOutput", "redeploy"}},
		{"permanent AWS error", func(t *testing.T, a *account) Runner {
			a.Glue.inject("GetDatabase", apiErr("AccessDeniedException", "not authorized"), 1)
			return databaseStep(a)
		}, &steperr.PermanentError{}, []string{"GetDatabase"}},
		{"transient AWS error", func(t *testing.T, a *account) Runner {
			a.Glue.inject("GetDatabase", throttled, 1)
			return databaseStep(a)
		}, &steperr.TransientError{}, []string{"GetDatabase"}},
	},
	"grant-tag-permissions": {
		{"missing configured analyst", func(t *testing.T, a *account) Runner {
			createPrincipals(t, a, workflowRole, analystRole) // otherAnalyst does not exist
			step := grantStep(a)
			step.LF = &invalidPrincipalLF{faultyLF: a.LF, principal: otherAnalyst}
			return step
		}, &steperr.ConfigError{}, []string{otherAnalyst, AnalystsSetting}},
		{"deleted own role", func(t *testing.T, a *account) Runner {
			createPrincipals(t, a, workflowRole, otherAnalyst) // the stack's analyst role was deleted
			step := grantStep(a)
			step.LF = &invalidPrincipalLF{faultyLF: a.LF, principal: analystRole}
			return step
		}, &steperr.PermanentError{}, []string{analystRole, "AnalystRole", "redeploy"}},
		{"permanent AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("ListPermissions", accessDenied, 1)
			return grantStep(a)
		}, &steperr.PermanentError{}, []string{"ListPermissions"}},
		{"transient AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("ListPermissions", throttled, 1)
			return grantStep(a)
		}, &steperr.TransientError{}, []string{"ListPermissions"}},
	},
	"tag-output": {
		{"permanent AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("GetResourceLFTags", accessDenied, 1)
			return tagOutputStep(a)
		}, &steperr.PermanentError{}, []string{"GetResourceLFTags"}},
		{"transient AWS error", func(t *testing.T, a *account) Runner {
			a.LF.inject("GetResourceLFTags", throttled, 1)
			return tagOutputStep(a)
		}, &steperr.TransientError{}, []string{"GetResourceLFTags"}},
	},
}

func TestStepErrorTypes(t *testing.T) {
	for step, cases := range errorTypeCases {
		for _, c := range cases {
			t.Run(step+"/"+c.name, func(t *testing.T) {
				a := newAccount(t)
				runner := c.setup(t, a)
				_, err := Handler(step, runner, quietLog)(ctx(), StepInput{})
				if got, want := fmt.Sprintf("%T", err), fmt.Sprintf("%T", c.want); got != want {
					t.Fatalf("error type %s; want %s (the name Step Functions matches): %v", got, want, err)
				}
				for _, w := range c.words {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err.Error(), w)
					}
				}
			})
		}
	}
}

// TestOnlyTransientErrorIsRetried reads the ASL's Retry lists: the types the
// cases above expect for a missing principal, a deleted role and a
// permanent answer must not be retried, the transient one must.
func TestOnlyTransientErrorIsRetried(t *testing.T) {
	var def struct {
		States map[string]struct {
			Retry []struct{ ErrorEquals []string }
		}
	}
	if err := json.Unmarshal([]byte(statemachine.Pipeline), &def); err != nil {
		t.Fatal(err)
	}
	for step, cases := range errorTypeCases {
		state := map[string]string{
			"configure-lake-formation": "ConfigureLakeFormation", "ensure-lf-tags": "EnsureLFTags",
			"register-location": "RegisterLocation", "ensure-database": "EnsureDatabase",
			"grant-tag-permissions": "GrantTagPermissions", "tag-output": "TagOutput",
		}[step]
		var retried []string
		for _, r := range def.States[state].Retry {
			retried = append(retried, r.ErrorEquals...)
		}
		if len(def.States[state].Retry) == 0 {
			t.Fatalf("state %s (of %s) has no Retry", state, step)
		}
		for _, c := range cases {
			name := strings.TrimPrefix(fmt.Sprintf("%T", c.want), "*steperr.")
			_, transient := c.want.(*steperr.TransientError)
			if slices.Contains(retried, name) != transient || slices.Contains(retried, "States.ALL") {
				t.Errorf("state %s retries %v; %s (%s) must be retried only if it is TransientError", state, retried, name, c.name)
			}
		}
	}
}
