package lakeformation

// The emulator scenarios of EnsureDatabase (see steps_test.go).

import (
	"context"
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

// ---- EnsureDatabase ----

// createTag creates an LF-tag (unrecorded), in calls of at most 50 values
// as Lake Formation requires.
func createTag(t *testing.T, a *account, key string, values ...string) {
	t.Helper()
	first := values[:min(len(values), 50)]
	if _, err := a.SeedLF.CreateLFTag(ctx(), &lf.CreateLFTagInput{TagKey: aws.String(key), TagValues: first}); err != nil {
		t.Fatal(err)
	}
	for rest := values[len(first):]; len(rest) > 0; rest = rest[min(len(rest), 50):] {
		if _, err := a.SeedLF.UpdateLFTag(ctx(), &lf.UpdateLFTagInput{TagKey: aws.String(key), TagValuesToAdd: rest[:min(len(rest), 50)]}); err != nil {
			t.Fatal(err)
		}
	}
}

func databaseStep(a *account) *EnsureDatabase {
	return &EnsureDatabase{Glue: a.Glue, LF: a.LF, Principals: NewPrincipals(a.IAM, tagOutputStepRole), Retry: fastRetry(),
		Name: database, LocationURI: locationURI, Tag: workflowTag, TaggerRole: tagOutputStepRole}
}

// taggerGrantChange is EnsureDatabase's change when it grants TagOutput's
// role what assigning an LF-tag to the database requires.
const taggerGrantChange = "granted ALL with grant option on database " + database + " to " + tagOutputStepRole + " (it assigns the analyst tag)"

// taggerTablesGrantChange is EnsureDatabase's change when it grants
// TagOutput's role what assigning LF-tags to the lake's columns requires.
const taggerTablesGrantChange = "granted ALL with grant option on every table of database " + database + " to " + tagOutputStepRole + " (it assigns the sensitivity tags to their columns)"

// everyTable is the TableWildcard resource of the lake database's tables.
var everyTable = &types.Resource{Table: &types.TableResource{DatabaseName: aws.String(database), TableWildcard: &types.TableWildcard{}}}

// taggerTablesGrant reads (unrecorded, every grant: the listing the
// cleanup makes too) TagOutput's role's permissions on every table of the
// lake database, plain and with the grant option.
func taggerTablesGrant(t *testing.T, a *account) (perms, grantable []types.Permission) {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{ResourceType: types.DataLakeResourceTypeTable})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range out.PrincipalResourcePermissions {
		if aws.ToString(p.Principal.DataLakePrincipalIdentifier) == tagOutputStepRole && p.Resource.Table != nil &&
			aws.ToString(p.Resource.Table.DatabaseName) == database && p.Resource.Table.TableWildcard != nil {
			perms = append(perms, p.Permissions...)
			grantable = append(grantable, p.PermissionsWithGrantOption...)
		}
	}
	return perms, grantable
}

// allTablesListingLF lists a grant on every table as Lake Formation does:
// the TableWildcard resource also named ALL_TABLES (terraform-provider-aws,
// internal/service/lakeformation/filter.go); moto and the fake answer the
// resource as granted.
type allTablesListingLF struct{ *faultyLF }

func (c *allTablesListingLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	out, err := c.faultyLF.ListPermissions(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for _, p := range out.PrincipalResourcePermissions {
		if p.Resource != nil && p.Resource.Table != nil && p.Resource.Table.TableWildcard != nil {
			p.Resource.Table.Name = aws.String("ALL_TABLES")
		}
	}
	return out, nil
}

// taggerGrant reads (unrecorded) TagOutput's role's permissions on the lake
// database: plain and with the grant option.
func taggerGrant(t *testing.T, a *account) (perms, grantable []types.Permission) {
	t.Helper()
	out, err := a.SeedLF.ListPermissions(ctx(), &lf.ListPermissionsInput{
		Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(tagOutputStepRole)},
		Resource:  &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range out.PrincipalResourcePermissions {
		if p.Resource.Database != nil && aws.ToString(p.Resource.Database.Name) == database && aws.ToString(p.Principal.DataLakePrincipalIdentifier) == tagOutputStepRole {
			perms = append(perms, p.Permissions...)
			grantable = append(grantable, p.PermissionsWithGrantOption...)
		}
	}
	return perms, grantable
}

// revokeTagger revokes (unrecorded) part of TagOutput's role's grant.
func revokeTagger(t *testing.T, a *account, perms, grantable []types.Permission) {
	t.Helper()
	if _, err := a.SeedLF.RevokePermissions(ctx(), &lf.RevokePermissionsInput{
		Principal:                  &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(tagOutputStepRole)},
		Resource:                   &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}},
		Permissions:                perms,
		PermissionsWithGrantOption: grantable,
	}); err != nil {
		t.Fatal(err)
	}
	a.markCalls()
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
	{"fresh then converged: the lake database created and tagged, no other", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		a.markCalls()
		changes := mustRun(t, databaseStep(a))
		want := []string{
			"created database " + database + " at " + locationURI,
			"tagged database " + database + " maintenance=crawler",
			taggerGrantChange,
			taggerTablesGrantChange,
		}
		if !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want %q", changes, want)
		}
		got, err := a.SeedGlue.GetDatabase(ctx(), &glue.GetDatabaseInput{Name: aws.String(database)})
		if err != nil || aws.ToString(got.Database.LocationUri) != locationURI {
			t.Fatalf("lake database = %+v, %v", got, err)
		}
		// Created with an empty default-table-permission list (sent as []),
		// so its tables never get the account's IAM_ALLOWED_PRINCIPALS default.
		if p := got.Database.CreateTableDefaultPermissions; p == nil || len(p) != 0 {
			t.Fatalf("lake database default table permissions = %+v; want an empty list", p)
		}
		// The job discovers the source tables over JDBC: no source catalog
		// database.
		all, err := a.SeedGlue.GetDatabases(ctx(), &glue.GetDatabasesInput{})
		if err != nil || len(all.DatabaseList) != 1 {
			t.Fatalf("databases = %+v, %v; want only %s", all, err, database)
		}
		if tags := tagsOf(t, a, database); len(tags) != 1 || !slices.Equal(tags["maintenance"], []string{"crawler"}) {
			t.Fatalf("tags of %s = %v; want only maintenance=crawler", database, tags)
		}
		// issue 17 item 4: TagOutput's role holds ALL with grant option.
		if perms, grantable := taggerGrant(t, a); !slices.Contains(perms, types.PermissionAll) || !slices.Contains(grantable, types.PermissionAll) {
			t.Fatalf("TagOutput's role holds %v (grantable %v) on %s; want ALL with grant option", perms, grantable, database)
		}
		// Tagging columns needs Super with the grant option on their
		// tables, which the import job's role creates: every table.
		if perms, grantable := taggerTablesGrant(t, a); !slices.Equal(perms, superWithGrant) || !slices.Equal(grantable, superWithGrant) {
			t.Fatalf("TagOutput's role holds %v (grantable %v) on every table of %s; want ALL with grant option", perms, grantable, database)
		}
		converges(t, a, databaseStep(a))
	}},
	{"TagOutput's grant on every table, listed as Lake Formation lists it, is held", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		mustRun(t, databaseStep(a))
		step := databaseStep(a)
		step.LF = &allTablesListingLF{faultyLF: a.LF}
		converges(t, a, step)
	}},
	{"TagOutput's grant on every table revoked by hand is repaired", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		mustRun(t, databaseStep(a))
		if _, err := a.SeedLF.RevokePermissions(ctx(), &lf.RevokePermissionsInput{
			Principal: &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(tagOutputStepRole)},
			Resource:  everyTable, Permissions: []types.Permission{}, PermissionsWithGrantOption: superWithGrant,
		}); err != nil {
			t.Fatal(err)
		}
		a.markCalls()
		if perms, grantable := taggerTablesGrant(t, a); !slices.Equal(perms, superWithGrant) || len(grantable) != 0 {
			t.Fatalf("after revoking the grant option: %v, grantable %v", perms, grantable)
		}
		if changes := mustRun(t, databaseStep(a)); !slices.Equal(changes, []string{taggerTablesGrantChange}) {
			t.Fatalf("changes = %q; want the grant on every table repaired", changes)
		}
		if _, grantable := taggerTablesGrant(t, a); !slices.Equal(grantable, superWithGrant) {
			t.Fatalf("grant option not repaired: %v", grantable)
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
	{"untagged lake database from a manual build is adopted and tagged", func(t *testing.T, a *account) {
		// The blog's console build makes the database with no LF-tag. moto
		// answers GetResourceLFTags on such a database with HTTP 500, so
		// untaggedReadsLF gives Lake Formation's answer (no tags) until the
		// step has tagged it; everything else is moto.
		createTag(t, a, "maintenance", "crawler", "manual")
		seedDatabase(t, a, database, locationURI, config.TagRef{})
		step := databaseStep(a)
		step.LF = &untaggedReadsLF{faultyLF: a.LF, untagged: map[string]bool{database: true}}
		changes := mustRun(t, step)
		if want := []string{"tagged database " + database + " maintenance=crawler", taggerGrantChange, taggerTablesGrantChange}; !slices.Equal(changes, want) {
			t.Fatalf("changes = %q; want %q", changes, want)
		}
		if tags := tagsOf(t, a, database); !slices.Equal(tags["maintenance"], []string{"crawler"}) {
			t.Fatalf("tags = %v", tags)
		}
		converges(t, a, step)
	}},
	{"removed tag is repaired, retryable conditions once", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		a.Glue.inject("CreateDatabase", apiErr("ConcurrentModificationException", "busy"), 1)
		mustRun(t, databaseStep(a))
		if _, err := a.SeedLF.AddLFTagsToResource(ctx(), &lf.AddLFTagsToResourceInput{
			Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}},
			LFTags:   []types.LFTagPair{{TagKey: aws.String("maintenance"), TagValues: []string{"manual"}}},
		}); err != nil {
			t.Fatal(err)
		}
		a.LF.inject("AddLFTagsToResource", apiErr("ConcurrentModificationException", "busy"), 1)
		a.markCalls()
		changes := mustRun(t, databaseStep(a))
		if len(changes) != 1 || !strings.Contains(changes[0], database+" maintenance=crawler (was maintenance=manual)") {
			t.Fatalf("changes = %q", changes)
		}
		converges(t, a, databaseStep(a))
	}},
	{"TagOutput's grant revoked by hand is repaired", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		mustRun(t, databaseStep(a))
		revokeTagger(t, a, []types.Permission{types.PermissionAll}, []types.Permission{types.PermissionAll})
		if perms, _ := taggerGrant(t, a); len(perms) != 0 {
			t.Fatalf("revoke left %v", perms)
		}
		if changes := mustRun(t, databaseStep(a)); !slices.Equal(changes, []string{taggerGrantChange}) {
			t.Fatalf("changes = %q; want the grant repaired", changes)
		}
		converges(t, a, databaseStep(a))
	}},
	{"TagOutput's grant option revoked by hand is repaired", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		mustRun(t, databaseStep(a))
		revokeTagger(t, a, []types.Permission{}, []types.Permission{types.PermissionAll})
		if perms, grantable := taggerGrant(t, a); !slices.Contains(perms, types.PermissionAll) || slices.Contains(grantable, types.PermissionAll) {
			t.Fatalf("after revoking the grant option: %v, grantable %v", perms, grantable)
		}
		if changes := mustRun(t, databaseStep(a)); !slices.Equal(changes, []string{taggerGrantChange}) {
			t.Fatalf("changes = %q; want the grant option repaired", changes)
		}
		if _, grantable := taggerGrant(t, a); !slices.Contains(grantable, types.PermissionAll) {
			t.Fatalf("grant option not repaired: %v", grantable)
		}
	}},
	{"TagOutput's role deleted outside CloudFormation: redeploy, not retried", func(t *testing.T, a *account) {
		createTag(t, a, "maintenance", "crawler", "manual")
		a.LF.inject("GrantPermissions", apiErr("InvalidInputException", "Invalid principal: "+tagOutputStepRole), 1000)
		_, err := databaseStep(a).Run(ctx())
		pe := wantErr[*steperr.PermanentError](t, err, tagOutputStepRole, "TagOutput")
		if !strings.Contains(pe.Fix, "redeploy") {
			t.Fatalf("fix %q", pe.Fix)
		}
	}},
	{"tag failures in a 200 answer are an error", func(t *testing.T, a *account) {
		// No LF-tag "maintenance" exists: moto, like Lake Formation, answers
		// AddLFTagsToResource with a per-tag failure.
		_, err := databaseStep(a).Run(ctx())
		wantErr[*steperr.PermanentError](t, err, "maintenance=crawler", "EntityNotFoundException")
	}},
}
