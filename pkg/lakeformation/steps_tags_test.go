package lakeformation

// The emulator scenarios of EnsureLFTags (see steps_test.go).

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// ---- EnsureLFTags ----

func lfTagValues(t *testing.T, a *account, key string) []string {
	t.Helper()
	out, err := a.SeedLF.GetLFTag(ctx(), &lf.GetLFTagInput{TagKey: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return out.TagValues
}

func manyValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%03d", i)
	}
	return out
}

// The roles of the steps that assign and grant on LF-tags.
const (
	databaseStepRole  = "arn:aws:iam::" + acct + ":role/lakeforge-ensure-database"
	tagOutputStepRole = "arn:aws:iam::" + acct + ":role/lakeforge-tag-output"
	grantStepRole     = "arn:aws:iam::" + acct + ":role/lakeforge-grant-tag-permissions"
)

func tagsStep(a *account) *EnsureLFTags {
	return &EnsureLFTags{LF: a.LF, Principals: NewPrincipals(a.IAM, databaseStepRole), Retry: fastRetry(), Tags: map[string][]string{
		"maintenance": {"crawler", "manual"},
		"source":      {"product"},
		"many":        manyValues(120),
	}, Permissions: TagPermissionsFor(databaseStepRole, tagOutputStepRole, grantStepRole, workflowTag, analystTag)}
}

// lfTagGrants reads the LF-tag grants from moto (unfiltered: the one query
// moto accepts) as "principal key=values" -> sorted permissions.
func lfTagGrants(t *testing.T, a *account) map[string][]types.Permission {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]types.Permission{}
	for _, p := range out.PrincipalResourcePermissions {
		if p.Resource.LFTag == nil {
			continue
		}
		k := aws.ToString(p.Principal.DataLakePrincipalIdentifier) + " " + aws.ToString(p.Resource.LFTag.TagKey) + "=" + strings.Join(p.Resource.LFTag.TagValues, ",")
		m[k] = append(m[k], p.Permissions...)
		slices.Sort(m[k])
	}
	return m
}

// wantTagGrants is issue 8 defect 2: ASSOCIATE (and DESCRIBE) on the tag
// each tagging role assigns, DESCRIBE and GRANT_WITH_LF_TAG_EXPRESSION on
// both grant tags for the granting role.
var wantTagGrants = map[string][]types.Permission{
	databaseStepRole + " maintenance=crawler": {"ASSOCIATE", "DESCRIBE"},
	tagOutputStepRole + " source=product":     {"ASSOCIATE", "DESCRIBE"},
	grantStepRole + " maintenance=crawler":    {"DESCRIBE", "GRANT_WITH_LF_TAG_EXPRESSION"},
	grantStepRole + " source=product":         {"DESCRIBE", "GRANT_WITH_LF_TAG_EXPRESSION"},
}

var tagScenarios = []scenario{
	{"fresh keys, added values, existing values kept, then converged", func(t *testing.T, a *account) {
		if _, err := a.SeedLF.CreateLFTag(ctx(), &lf.CreateLFTagInput{TagKey: aws.String("maintenance"), TagValues: []string{"legacy"}}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		mustRun(t, tagsStep(a))
		calls := a.since()
		creates, updates := 0, 0
		for _, c := range calls {
			switch c {
			case "lakeformation:CreateLFTag":
				creates++
			case "lakeformation:UpdateLFTag":
				updates++
			}
		}
		// many: create with 50, then 50 and 20; maintenance: one update; source: create.
		if creates != 2 || updates != 3 {
			t.Fatalf("calls %v; want 2 CreateLFTag and 3 UpdateLFTag (batches of 50)", calls)
		}
		if got := lfTagValues(t, a, "maintenance"); !slices.Equal(got, []string{"legacy", "crawler", "manual"}) {
			t.Fatalf("maintenance = %v; the existing value must survive", got)
		}
		if got := lfTagValues(t, a, "many"); len(got) != 120 {
			t.Fatalf("many has %d values", len(got))
		}
		if got := lfTagValues(t, a, "source"); !slices.Equal(got, []string{"product"}) {
			t.Fatalf("source = %v", got)
		}
		if got := lfTagGrants(t, a); fmt.Sprint(got) != fmt.Sprint(wantTagGrants) {
			t.Fatalf("LF-tag grants:\n got %v\nwant %v", got, wantTagGrants)
		}
		// One read of every LF-tag grant, by resource type only.
		if want := []lf.ListPermissionsInput{{ResourceType: types.DataLakeResourceTypeLfTag}}; fmt.Sprintf("%+v", a.LF.listed) != fmt.Sprintf("%+v", want) {
			t.Fatalf("ListPermissions requests %+v; want exactly %+v", a.LF.listed, want)
		}
		converges(t, a, tagsStep(a))
	}},
	{"tags from a manual build: the tagging roles get ASSOCIATE", func(t *testing.T, a *account) {
		// The tags exist, created by someone else: a data lake
		// administrator must be granted ASSOCIATE before it can assign them.
		createTag(t, a, "maintenance", "crawler", "manual")
		createTag(t, a, "source", "product")
		createTag(t, a, "many", manyValues(120)...)
		a.markCalls()
		changes := mustRun(t, tagsStep(a))
		if len(changes) != 4 {
			t.Fatalf("changes = %q; want the 4 LF-tag grants only", changes)
		}
		if !slices.Contains(changes, "granted ASSOCIATE+DESCRIBE on LF-tag maintenance=crawler to "+databaseStepRole) {
			t.Fatalf("changes = %q", changes)
		}
		if got := lfTagGrants(t, a); fmt.Sprint(got) != fmt.Sprint(wantTagGrants) {
			t.Fatalf("LF-tag grants:\n got %v\nwant %v", got, wantTagGrants)
		}
		converges(t, a, tagsStep(a))
	}},
	{"a tagging role deleted outside CloudFormation: redeploy, not retried for minutes", func(t *testing.T, a *account) {
		createPrincipals(t, a, tagOutputStepRole, grantStepRole) // databaseStepRole is gone
		step := tagsStep(a)
		step.LF = &invalidPrincipalLF{faultyLF: a.LF, principal: databaseStepRole}
		_, err := step.Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, databaseStepRole)
		if !strings.Contains(pe.Fix, "redeploy") {
			t.Fatalf("fix %q", pe.Fix)
		}
	}},
	{"a partial LF-tag grant gets only what is missing", func(t *testing.T, a *account) {
		if _, err := a.SeedLF.GrantPermissions(ctx(), &lf.GrantPermissionsInput{
			Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(tagOutputStepRole)},
			Resource:    &types.Resource{LFTag: &types.LFTagKeyResource{TagKey: aws.String("source"), TagValues: []string{"product", "other"}}},
			Permissions: []types.Permission{types.PermissionDescribe},
		}); err != nil {
			t.Fatal(err)
		}
		changes := mustRun(t, tagsStep(a))
		if !slices.Contains(changes, "granted ASSOCIATE on LF-tag source=product to "+tagOutputStepRole) {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, tagsStep(a))
	}},
	{"missing key answered EntityNotFound as Lake Formation does", func(t *testing.T, a *account) {
		a.LF.inject("GetLFTag", apiErr("EntityNotFoundException", "Tag key does not exist"), 1)
		step := &EnsureLFTags{LF: a.LF, Retry: fastRetry(), Tags: map[string][]string{"source": {"product"}}}
		if len(step.Permissions) != 0 {
			t.Fatal("this scenario converges tags only")
		}
		if changes := mustRun(t, step); len(changes) != 1 || !strings.Contains(changes[0], "created LF-tag source") {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, step)
	}},
	{"concurrent modification once on create, update and grant", func(t *testing.T, a *account) {
		a.LF.inject("CreateLFTag", apiErr("ConcurrentModificationException", "busy"), 1)
		a.LF.inject("UpdateLFTag", apiErr("ConcurrentModificationException", "busy"), 1)
		a.LF.inject("GrantPermissions", apiErr("ConcurrentModificationException", "busy"), 1)
		mustRun(t, tagsStep(a))
		converges(t, a, tagsStep(a))
	}},
	{"validation error is permanent", func(t *testing.T, a *account) {
		a.LF.inject("CreateLFTag", apiErr("InvalidInputException", "Tag value is invalid"), 1)
		_, err := tagsStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "CreateLFTag", "cdk.json")
	}},
}

// TestMotoRejectsListPermissionsByLFTagResourceType sends moto the exact
// requests EnsureLFTags and GrantTagPermissions send to read LF-tag grants,
// and expects moto 5.2.5's rejection. When it fails, moto has learnt them:
// drop motoGapsLF.listByLFTagResourceType and let the requests reach moto.
func TestMotoRejectsListPermissionsByLFTagResourceType(t *testing.T) {
	a := newAccount(t)
	for _, rt := range lfTagResourceTypes {
		_, err := a.motoLF.ListPermissions(ctx(), &lf.ListPermissionsInput{ResourceType: rt})
		if err == nil || !strings.Contains(err.Error(), "not a valid RessourceType") && !strings.Contains(err.Error(), "500") {
			t.Errorf("moto answered ListPermissions{ResourceType: %s} with %v; want its rejection", rt, err)
		}
	}
	// The old GrantTagPermissions query, and the principal-filtered one
	// without a resource, are rejected too (by Lake Formation as well).
	for name, in := range map[string]*lf.ListPermissionsInput{
		"principal and LF-tag policy": {Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(analystRole)}, Resource: TagGrant{ResourceType: types.ResourceTypeTable, Tag: analystTag}.resource()},
		"principal without resource":  {Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(analystRole)}, ResourceType: types.DataLakeResourceTypeLfTagPolicyTable},
	} {
		if _, err := a.motoLF.ListPermissions(ctx(), in); err == nil || !strings.Contains(err.Error(), "InvalidInputException") {
			t.Errorf("%s: moto answered %v; want InvalidInputException", name, err)
		}
	}
}
