package lakeformation

// The emulator scenarios of EnsureDatabase (see steps_test.go).

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func createTag(t *testing.T, a *account, key string, values ...string) {
	t.Helper()
	if _, err := a.SeedLF.CreateLFTag(ctx(), &lf.CreateLFTagInput{TagKey: aws.String(key), TagValues: values}); err != nil {
		t.Fatal(err)
	}
}

func databaseStep(a *account) *EnsureDatabase {
	return &EnsureDatabase{Glue: a.Glue, LF: a.LF, Retry: fastRetry(), Name: database, LocationURI: locationURI, SourceName: sourceDatabase, Tag: workflowTag}
}

// tagsOf returns the LF-tags of database db.
func tagsOf(t *testing.T, a *account, db string) map[string][]string {
	t.Helper()
	out, err := a.SeedLF.GetResourceLFTags(ctx(), &lf.GetResourceLFTagsInput{Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(db)}}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, p := range out.LFTagOnDatabase {
		m[aws.ToString(p.TagKey)] = p.TagValues
	}
	return m
}

func databaseTags(t *testing.T, a *account) map[string][]string { return tagsOf(t, a, database) }

// seedDatabase creates db (at location, or without one when it is "") and,
// when tag is not empty, tags it, without recording the calls.
func seedDatabase(t *testing.T, a *account, db, location string, tag config.TagRef) {
	t.Helper()
	in := &gluetypes.DatabaseInput{Name: aws.String(db)}
	if location != "" {
		in.LocationUri = aws.String(location)
	}
	if _, err := a.SeedGlue.CreateDatabase(ctx(), &glue.CreateDatabaseInput{DatabaseInput: in}); err != nil {
		t.Fatal(err)
	}
	if tag.Key == "" {
		return
	}
	if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{
		Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(db)}},
		LFTags:   []types.LFTagPair{{TagKey: aws.String(tag.Key), TagValues: []string{tag.Value}}},
	}); err != nil {
		t.Fatal(err)
	}
}

// databaseExists says whether db is in the catalog.
func databaseExists(t *testing.T, a *account, db string) bool {
	t.Helper()
	_, err := a.SeedGlue.GetDatabase(ctx(), &glue.GetDatabaseInput{Name: aws.String(db)})
	var nf *gluetypes.EntityNotFoundException
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// untaggedReadsLF answers GetResourceLFTags on a database that never had an
// LF-tag as Lake Formation does (no tags) instead of moto's HTTP 500; once
// the step has tagged the database, reads go to moto again.
type untaggedReadsLF struct {
	*faultyLF
	untagged map[string]bool
}

func (c *untaggedReadsLF) GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, o ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error) {
	if in.Resource != nil && in.Resource.Database != nil && c.untagged[aws.ToString(in.Resource.Database.Name)] {
		return &lf.GetResourceLFTagsOutput{}, nil
	}
	return c.faultyLF.GetResourceLFTags(ctx, in, o...)
}

func (c *untaggedReadsLF) AddLFTagsToResource(ctx context.Context, in *lf.AddLFTagsToResourceInput, o ...func(*lf.Options)) (*lf.AddLFTagsToResourceOutput, error) {
	out, err := c.faultyLF.AddLFTagsToResource(ctx, in, o...)
	if err == nil && len(out.Failures) == 0 && in.Resource != nil && in.Resource.Database != nil {
		delete(c.untagged, aws.ToString(in.Resource.Database.Name))
	}
	return out, err
}

var databaseScenarios = []scenario{
	{"fresh then converged: both databases created and tagged", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		a.markCalls()
		changes := mustRun(t, databaseStep(a))
		want := []string{
			"created database " + database + " at " + locationURI,
			"tagged database " + database + " maintenance=crawler",
			"created database " + sourceDatabase + " without a location",
			"tagged database " + sourceDatabase + " maintenance=crawler",
		}
		if !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want %q", changes, want)
		}
		got, err := a.SeedGlue.GetDatabase(ctx(), &glue.GetDatabaseInput{Name: aws.String(database)})
		if err != nil || aws.ToString(got.Database.LocationUri) != locationURI {
			t.Fatalf("lake database = %+v, %v", got, err)
		}
		src, err := a.SeedGlue.GetDatabase(ctx(), &glue.GetDatabaseInput{Name: aws.String(sourceDatabase)})
		if err != nil || src.Database.LocationUri != nil {
			t.Fatalf("source database = %+v, %v; want it without a location", src, err)
		}
		for _, db := range []string{database, sourceDatabase} {
			if tags := tagsOf(t, a, db); len(tags) != 1 || !slices.Equal(tags["maintenance"], []string{"crawler"}) {
				t.Fatalf("tags of %s = %v; want only maintenance=crawler", db, tags)
			}
		}
		converges(t, a, databaseStep(a))
	}},
	{"existing lake database at another location names both, touches nothing", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		seedDatabase(t, a, database, "s3://elsewhere/db", config.TagRef{})
		a.markCalls()
		_, err := databaseStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "s3://elsewhere/db", locationURI)
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls %v", m)
		}
		if databaseExists(t, a, sourceDatabase) {
			t.Fatal("source database created although the lake database is wrong")
		}
	}},
	{"lake database left by a destroyed deployment: the user is told exactly what to do", func(t *testing.T, a *account) {
		// issue 13: destroy keeps the bucket and the database; a redeploy
		// with a generated bucket name points the lake elsewhere.
		createTag(t, a, "maintenance", "crawler", "manual")
		old := "s3://lakeforge-lakebucket-old123/lake"
		if _, err := a.SeedGlue.CreateDatabase(ctx(), &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{
			Name: aws.String(database), LocationUri: aws.String(old), Description: aws.String("lakeforge: tables imported from the source database")}}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		_, err := databaseStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, old, locationURI)
		for _, want := range []string{`lake.existingBucketName to "lakeforge-lakebucket-old123"`, "aws glue delete-database --name " + database, "data stays in s3://lakeforge-lakebucket-old123"} {
			if !strings.Contains(pe.Fix, want) {
				t.Errorf("fix %q does not say %q", pe.Fix, want)
			}
		}
		if m := a.mutatingSince(); len(m) != 0 {
			t.Fatalf("mutating calls %v", m)
		}
	}},
	{"existing source database with a location is accepted and retagged", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		seedDatabase(t, a, database, locationURI, workflowTag)
		// Someone else's choices: a location, and another tag value.
		seedDatabase(t, a, sourceDatabase, "s3://elsewhere/source", config.TagRef{Key: "maintenance", Value: "manual"})
		a.markCalls()
		changes := mustRun(t, databaseStep(a))
		want := []string{"tagged database " + sourceDatabase + " maintenance=crawler (was maintenance=manual)"}
		if !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want %q", changes, want)
		}
		if slices.Contains(a.since(), "glue:CreateDatabase") {
			t.Fatalf("calls %v create an existing database", a.since())
		}
		src, err := a.SeedGlue.GetDatabase(ctx(), &glue.GetDatabaseInput{Name: aws.String(sourceDatabase)})
		if err != nil || aws.ToString(src.Database.LocationUri) != "s3://elsewhere/source" {
			t.Fatalf("source database = %+v, %v; want its location kept", src, err)
		}
		converges(t, a, databaseStep(a))
	}},
	{"untagged source database from an earlier release is tagged", func(t *testing.T, a *account) {
		// The CloudFormation-made source database of earlier releases has no
		// LF-tag. moto answers GetResourceLFTags on such a database with
		// HTTP 500, so untaggedReadsLF gives Lake Formation's answer (no
		// tags) until the step has tagged it; everything else is moto.
		createTag(t, a, "maintenance", "crawler", "manual")
		seedDatabase(t, a, database, locationURI, workflowTag)
		seedDatabase(t, a, sourceDatabase, "", config.TagRef{})
		step := databaseStep(a)
		step.LF = &untaggedReadsLF{faultyLF: a.LF, untagged: map[string]bool{sourceDatabase: true}}
		changes := mustRun(t, step)
		if want := []string{"tagged database " + sourceDatabase + " maintenance=crawler"}; !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want %q", changes, want)
		}
		if tags := tagsOf(t, a, sourceDatabase); !slices.Equal(tags["maintenance"], []string{"crawler"}) {
			t.Fatalf("source tags = %v", tags)
		}
		converges(t, a, step)
	}},
	{"removed tag is repaired, retryable conditions once", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		a.Glue.inject("CreateDatabase", apiErr("ConcurrentModificationException", "busy"), 1)
		mustRun(t, databaseStep(a))
		for _, db := range []string{database, sourceDatabase} {
			if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{
				Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(db)}},
				LFTags:   []types.LFTagPair{{TagKey: aws.String("maintenance"), TagValues: []string{"manual"}}},
			}); err != nil {
				t.Fatal(err)
			}
		}
		a.LF.inject("AddLFTagsToResource", apiErr("ConcurrentModificationException", "busy"), 1)
		a.markCalls()
		changes := mustRun(t, databaseStep(a))
		if len(changes) != 2 || !strings.Contains(changes[0], database+" maintenance=crawler (was maintenance=manual)") ||
			!strings.Contains(changes[1], sourceDatabase+" maintenance=crawler (was maintenance=manual)") {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, databaseStep(a))
	}},
	{"tag failures in a 200 answer are an error", func(t *testing.T, a *account) {
		// No LF-tag "maintenance" exists: moto, like Lake Formation, answers
		// AddLFTagsToResource with a per-tag failure.
		_, err := databaseStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "maintenance=crawler", "EntityNotFoundException")
	}},
	{"lake database named like the source database is a config error before any call", func(t *testing.T, a *account) {
		step := databaseStep(a)
		step.Name = sourceDatabase
		a.markCalls()
		_, err := step.Run(ctx())
		wantErr[*steperr.ConfigError](t, err, "database.name", sourceDatabase)
		if calls := a.since(); len(calls) != 0 {
			t.Fatalf("calls %v", calls)
		}
	}},
}
