package lakeformation

// The emulator scenarios of TagOutput (see steps_test.go).

import (
	"context"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// ---- TagOutput ----

func tagOutputStep(a *account) *TagOutput {
	return &TagOutput{LF: a.LF, Retry: fastRetry(), Database: database, Tag: analystTag}
}

// seedOutputDatabase is the state after EnsureDatabase: the database exists
// and carries the workflow tag.
func seedOutputDatabase(t *testing.T, a *account, createAnalystTag bool) {
	t.Helper()
	createTag(t, a, "maintenance", "crawler")
	if createAnalystTag {
		createTag(t, a, "source", "product")
	}
	if _, err := a.SeedGlue.CreateDatabase(ctx(), &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(database), LocationUri: aws.String(locationURI)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{
		Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}},
		LFTags:   []types.LFTagPair{{TagKey: aws.String(workflowTag.Key), TagValues: []string{workflowTag.Value}}},
	}); err != nil {
		t.Fatal(err)
	}
}

var tagOutputScenarios = []scenario{
	{"state machine input then converged", func(t *testing.T, a *account) {
		seedOutputDatabase(t, a, true)
		h := Handler("tag-output", tagOutputStep(a), quietLog)
		out, err := h(ctx(), StepInput{})
		if err != nil || len(out.Changes) != 1 {
			t.Fatalf("out = %+v, err = %v", out, err)
		}
		if tags := databaseTags(t, a); !slices.Equal(tags["source"], []string{"product"}) {
			t.Fatalf("tags = %v", tags)
		}
		converges(t, a, tagOutputStep(a))
	}},
	{"tag failures in a 200 answer are an error", func(t *testing.T, a *account) {
		seedOutputDatabase(t, a, false)
		_, err := tagOutputStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "source=product", "not assigned")
	}},
	{"after EnsureDatabase, the lake database gets the analyst tag", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		createTag(t, a, "source", "product")
		// EnsureDatabase through the unrecorded clients: its calls are not
		// tag-output's.
		ensure := databaseStep(a)
		ensure.Glue, ensure.LF = a.SeedGlue, a.SeedLF
		mustRun(t, ensure)
		mustRun(t, tagOutputStep(a))
		tags := tagsOf(t, a, database)
		if !slices.Equal(tags["source"], []string{"product"}) {
			t.Fatalf("lake database tags = %v; want source=product", tags)
		}
		// Lake Formation keeps the workflow tag; moto's AddLFTagsToResource
		// replaces the database's other tags (see the file comment), so this
		// holds on the fake only (parityExclusions).
		if a.Backend == fakeBackend && !slices.Equal(tags["maintenance"], []string{"crawler"}) {
			t.Fatalf("lake database tags = %v; the workflow tag maintenance=crawler must stay", tags)
		}
	}},
	{"no ASSOCIATE on the tag: the fix names the step that grants it", func(t *testing.T, a *account) {
		// Lake Formation refuses the assignment of a tag the caller did not
		// create and holds no ASSOCIATE on; moto never checks: injected.
		seedOutputDatabase(t, a, true)
		a.LF.inject("AddLFTagsToResource", apiErr("AccessDeniedException", "Insufficient Lake Formation permission(s): Required Associate on source"), 1)
		_, err := tagOutputStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, "AddLFTagsToResource")
		if !strings.Contains(pe.Fix, "ASSOCIATE") || !strings.Contains(pe.Fix, "EnsureLFTags") {
			t.Fatalf("fix %q", pe.Fix)
		}
	}},
	{"database missing is permanent and names it", func(t *testing.T, a *account) {
		a.LF.inject("GetResourceLFTags", apiErr("EntityNotFoundException", "Database kthr01 not found"), 1)
		_, err := tagOutputStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "database kthr01")
	}},
}

// deniedFor answers GetRole for one role name with AccessDenied, as IAM does
// for a caller without iam:GetRole on it.
type deniedFor struct {
	*faultyIAM
	role string
}

func (d *deniedFor) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if aws.ToString(in.RoleName) == d.role {
		return nil, apiErr("AccessDenied", "User is not authorized to perform: iam:GetRole")
	}
	return d.faultyIAM.GetRole(ctx, in, o...)
}
