package lakeformation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// EnsureDatabase converges the Glue database the import job writes its
// tables to, at the lake prefix. It is created when missing and tagged with
// the workflow tag, which gives the workflow role its Lake Formation grants
// on it and on its tables (tables inherit database tags). It is created
// here, as a data lake administrator, rather than by CloudFormation: once
// Lake Formation is configured, CloudFormation's role has no
// CREATE_DATABASE, and a database created without IAM_ALLOWED_PRINCIPALS
// gives the job no permission.
//
// A database of that name at another location is an error. (The job
// discovers the source tables over JDBC, so no source catalog database is
// needed.)
//
// It also grants TaggerRole (TagOutput's role) ALL with the grant option on
// the database and on every table of it (a TableWildcard grant):
// "Assigning LF-Tags to Data Catalog resources" requires the caller to own
// the resource or hold Super (ALL) on it with the grant option, and
// TagOutput's role created neither the database nor its tables (the import
// job's role creates those). The grants converge like every other: read,
// granted only when missing.
type EnsureDatabase struct {
	Glue DatabaseAPI
	LF   DatabaseLFAPI
	// Principals tells a deleted TaggerRole from a new one.
	Principals *Principals
	Retry      awsretry.Policy
	// Name is the lake database.
	Name string
	// LocationURI is "s3://bucket/prefix", the lake database's location.
	LocationURI string
	Tag         stepcontract.TagRef
	// TaggerRole is the role that assigns the analyst tag to the database
	// (TagOutput's); "" grants nothing.
	TaggerRole string
}

// DatabaseLFAPI is the Lake Formation side of EnsureDatabase.
type DatabaseLFAPI interface {
	ResourceTagsAPI
	GrantAPI
}

// descriptionPrefix starts the description of every database lakeforge
// creates: the record that an earlier deployment made it.
const descriptionPrefix = "lakeforge: "

// s3Bucket is the bucket of an s3:// URI.
func s3Bucket(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", false
	}
	bucket, _, _ := strings.Cut(rest, "/")
	return bucket, bucket != ""
}

// catalogDatabase is one database EnsureDatabase converges.
type catalogDatabase struct {
	name string
	// location is where to create the database and where an existing one
	// must point.
	location    string
	description string
}

func (d *EnsureDatabase) Run(ctx context.Context) ([]string, error) {
	return d.ensure(ctx, catalogDatabase{name: d.Name, location: d.LocationURI, description: descriptionPrefix + "tables imported from the source database"})
}

// ensure creates db when it is missing, checks the location of an existing
// one, and tags it.
func (d *EnsureDatabase) ensure(ctx context.Context, db catalogDatabase) ([]string, error) {
	var changes []string
	created := false
	got, err := d.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(db.name)})
	switch {
	case awsretry.IsCode(err, "EntityNotFoundException"):
		// No default table permissions: without the field, Glue applies
		// the account's default (ALL to IAM_ALLOWED_PRINCIPALS on a fresh
		// account, or with accountSettings "leave"), and the new tables
		// would not be governed by the LF-tag grants.
		input := &gluetypes.DatabaseInput{Name: aws.String(db.name), Description: aws.String(db.description), LocationUri: aws.String(db.location),
			CreateTableDefaultPermissions: []gluetypes.PrincipalPermissions{}}
		err := d.Retry.Do(ctx, "glue:CreateDatabase", func(ctx context.Context) error {
			_, err := d.Glue.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: input})
			return err
		})
		if awsretry.IsCode(err, "AlreadyExistsException") {
			// Created since the read: check it like any existing database.
			if got, err = d.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(db.name)}); err != nil {
				return nil, fail("glue:GetDatabase", "database "+db.name, err)
			}
			if err := checkLocation(db, got.Database); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fail("glue:CreateDatabase", "database "+db.name, err)
		} else {
			created = true
			changes = append(changes, "created database "+db.name+" at "+db.location)
		}
	case err != nil:
		return nil, fail("glue:GetDatabase", "database "+db.name, err)
	default:
		if err := checkLocation(db, got.Database); err != nil {
			return nil, err
		}
	}
	change, err := tagDatabase(ctx, d.LF, d.Retry, db.name, d.Tag, created)
	if change != "" {
		changes = append(changes, change)
	}
	if err != nil || d.TaggerRole == "" {
		return changes, err
	}
	granted, err := d.grantTagger(ctx, db.name)
	return append(changes, granted...), err
}

// superWithGrant is what the tagging role must hold on the database and on
// its tables.
var superWithGrant = []types.Permission{types.PermissionAll}

// AllTablesName is the table name Lake Formation lists a grant on every
// table of a database under (a TableWildcard grant), beside the
// TableWildcard itself; its SELECT may be listed apart, on TableWithColumns
// of that name with a ColumnWildcard (terraform-provider-aws,
// internal/service/lakeformation/filter.go).
const AllTablesName = "ALL_TABLES"

// IsAllTables says whether a listed grant's resource is every table of
// database: a Table with TableWildcard (or named ALL_TABLES), or the
// TableWithColumns row ALL_TABLES with a ColumnWildcard.
func IsAllTables(r *types.Resource, database string) bool {
	switch {
	case r == nil:
		return false
	case r.Table != nil:
		return aws.ToString(r.Table.DatabaseName) == database && (r.Table.TableWildcard != nil || aws.ToString(r.Table.Name) == AllTablesName)
	case r.TableWithColumns != nil:
		return aws.ToString(r.TableWithColumns.DatabaseName) == database && aws.ToString(r.TableWithColumns.Name) == AllTablesName && r.TableWithColumns.ColumnWildcard != nil
	}
	return false
}

// allTables is the resource of every table of database, as GrantPermissions
// and RevokePermissions take it.
func allTables(catalogID *string, database string) *types.Resource {
	return &types.Resource{Table: &types.TableResource{CatalogId: catalogID, DatabaseName: aws.String(database), TableWildcard: &types.TableWildcard{}}}
}

// grantTagger grants TaggerRole ALL with the grant option on database and
// on every table of it (TableWildcard, which covers tables the import job
// creates later), each when a listing of the role's grants on it does not
// show both.
func (d *EnsureDatabase) grantTagger(ctx context.Context, database string) ([]string, error) {
	var changes []string
	dbResource := &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}}
	onDatabase := func(r *types.Resource) bool {
		return r != nil && r.Database != nil && aws.ToString(r.Database.Name) == database
	}
	for _, target := range []struct {
		resource *types.Resource
		listed   func(*types.Resource) bool
		what     string
		why      string
	}{
		{dbResource, onDatabase, "database " + database, "it assigns the analyst tag"},
		// Tagging columns requires Super with the grant option on their
		// table (TBAC-assigning-tags); the import job's role creates the
		// tables, and the documents disagree on whether a data lake
		// administrator is exempt.
		{allTables(nil, database), func(r *types.Resource) bool { return IsAllTables(r, database) }, "every table of database " + database, "it assigns the sensitivity tags to their columns"},
	} {
		change, err := d.grantSuper(ctx, target.resource, target.listed, target.what, target.why)
		if change != "" {
			changes = append(changes, change)
		}
		if err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// grantSuper grants TaggerRole ALL with the grant option on resource unless
// the rows listed for it (those listed accepts) already hold both.
func (d *EnsureDatabase) grantSuper(ctx context.Context, resource *types.Resource, listed func(*types.Resource) bool, what, why string) (string, error) {
	principal := &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(d.TaggerRole)}
	var perms []types.PrincipalResourcePermissions
	err := d.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
		var err error
		perms, err = listPermissions(ctx, d.LF, &lf.ListPermissionsInput{Principal: principal, Resource: resource})
		return err
	})
	if err != nil {
		return "", fail("lakeformation:ListPermissions", "the permissions of "+d.TaggerRole+" on "+what, err)
	}
	var have, haveGrantable []types.Permission
	for _, p := range perms {
		if p.Principal == nil || aws.ToString(p.Principal.DataLakePrincipalIdentifier) != d.TaggerRole || !listed(p.Resource) {
			continue
		}
		have = append(have, p.Permissions...)
		haveGrantable = append(haveGrantable, p.PermissionsWithGrantOption...)
	}
	if slices.Contains(have, types.PermissionAll) && slices.Contains(haveGrantable, types.PermissionAll) {
		return "", nil
	}
	err = d.Retry.DoChecked(ctx, "lakeformation:GrantPermissions", func(ctx context.Context) error {
		_, err := d.LF.GrantPermissions(ctx, &lf.GrantPermissionsInput{
			Principal:                  principal,
			Resource:                   resource,
			Permissions:                superWithGrant,
			PermissionsWithGrantOption: superWithGrant,
		})
		return err
	}, principalCheck(d.Principals, map[string]Origin{d.TaggerRole: StackRole(FunctionRoleResource(stepcontract.TagOutput))}))
	if err != nil {
		return "", fail("lakeformation:GrantPermissions", "ALL with grant option on "+what+" to "+d.TaggerRole, err)
	}
	return "granted ALL with grant option on " + what + " to " + d.TaggerRole + " (" + why + ")", nil
}

func checkLocation(want catalogDatabase, db *gluetypes.Database) error {
	var have string
	if db != nil {
		have = aws.ToString(db.LocationUri)
	}
	if strings.TrimSuffix(have, "/") == strings.TrimSuffix(want.location, "/") {
		return nil
	}
	if have == "" {
		have = "(no location)"
	}
	if db != nil && strings.HasPrefix(aws.ToString(db.Description), descriptionPrefix) {
		if bucket, ok := s3Bucket(have); ok {
			// A destroyed deployment kept its bucket and this database;
			// the new deployment has another bucket. Moving the database
			// would leave its tables pointing at the old bucket, so the
			// user chooses.
			return permanent("glue:GetDatabase",
				fmt.Errorf("database %s was created by an earlier lakeforge deployment at %s (the lake bucket %s that `make destroy` kept), but this deployment's lake is %s", want.name, have, bucket, want.location),
				fmt.Sprintf("to keep the imported data, set lake.existingBucketName to %q (and remove lake.bucketName) in the configuration and `make deploy`, so the stack adopts the kept bucket; to start over instead, remove only the catalog entry (the data stays in s3://%s): `aws glue delete-database --name %s`, then start the state machine again", bucket, bucket, want.name))
		}
	}
	return permanent("glue:GetDatabase",
		fmt.Errorf("database %s exists at %s, but lakeforge keeps it at %s", want.name, have, want.location),
		fmt.Sprintf("set database.name in cdk.json to a database lakeforge may own, or move the existing database's location to %s (aws glue update-database) if its tables belong in the lake", want.location))
}
