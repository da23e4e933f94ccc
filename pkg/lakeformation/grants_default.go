package lakeformation

import (
	"context"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// DefaultDatabase is the database Athena resolves a query without a
// database context in (the console starts there).
const DefaultDatabase = "default"

// AthenaReader is a principal that queries the lake through Athena, which
// needs Lake Formation DESCRIBE on the default database ("so that Lake
// Formation can view it", Athena's considerations for Lake Formation).
type AthenaReader struct {
	Principal string
	// Origin is where the principal comes from; errors about it name it.
	Origin Origin
}

// AthenaReaders are the principals of grants that read the lake's tables
// on the analyst tag: the analysts (the stack's role and the configured
// ones) and, with governance, each reader persona. The workflow role reads
// through Glue, not Athena, and gets nothing on default.
func AthenaReaders(grants []TagGrant, analystTag stepcontract.TagRef) []AthenaReader {
	var out []AthenaReader
	for _, g := range grants {
		if g.ResourceType != types.ResourceTypeTable || g.Tag != analystTag || !slices.Contains(g.Permissions, types.PermissionSelect) {
			continue
		}
		if !slices.ContainsFunc(out, func(r AthenaReader) bool { return r.Principal == g.Principal }) {
			out = append(out, AthenaReader{Principal: g.Principal, Origin: g.Origin})
		}
	}
	return out
}

// describeDefault grants each of AthenaReaders DESCRIBE (no grant option,
// nothing on its tables) on the default database when a listing of its
// grants there shows neither DESCRIBE nor ALL. An account without a
// default database gets nothing and the run goes on: Lake Formation
// answers EntityNotFoundException, the step logs it, and a later run
// grants once the database exists.
func (g *GrantTagPermissions) describeDefault(ctx context.Context) ([]string, error) {
	var changes []string
	resource := &types.Resource{Database: &types.DatabaseResource{Name: aws.String(DefaultDatabase)}}
	describe := []types.Permission{types.PermissionDescribe}
	for _, reader := range g.AthenaReaders {
		principal := &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(reader.Principal)}
		var perms []types.PrincipalResourcePermissions
		err := g.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
			var err error
			perms, err = listPermissions(ctx, g.LF, &lf.ListPermissionsInput{Principal: principal, Resource: resource})
			return err
		})
		if awsretry.IsCode(err, "EntityNotFoundException") {
			g.noDefault(ctx, err)
			return changes, nil
		}
		if err != nil {
			return changes, fail("lakeformation:ListPermissions", "the permissions of "+reader.Principal+" on database "+DefaultDatabase, err)
		}
		var have []types.Permission
		for _, p := range perms {
			if p.Principal != nil && aws.ToString(p.Principal.DataLakePrincipalIdentifier) == reader.Principal &&
				p.Resource != nil && p.Resource.Database != nil && aws.ToString(p.Resource.Database.Name) == DefaultDatabase {
				have = append(have, p.Permissions...)
			}
		}
		if len(missingPermissions(describe, have)) == 0 {
			continue
		}
		err = g.Retry.DoChecked(ctx, "lakeformation:GrantPermissions", func(ctx context.Context) error {
			_, err := g.LF.GrantPermissions(ctx, &lf.GrantPermissionsInput{Principal: principal, Resource: resource, Permissions: describe})
			return err
		}, principalCheck(g.Principals, map[string]Origin{reader.Principal: reader.Origin}))
		if awsretry.IsCode(err, "EntityNotFoundException") {
			g.noDefault(ctx, err)
			return changes, nil
		}
		if err != nil {
			return changes, fail("lakeformation:GrantPermissions", "DESCRIBE on database "+DefaultDatabase+" to "+reader.Principal, err)
		}
		changes = append(changes, "granted DESCRIBE on database "+DefaultDatabase+" to "+reader.Principal+" (Athena requires it)")
	}
	return changes, nil
}

// noDefault logs that the account has no default database.
func (g *GrantTagPermissions) noDefault(ctx context.Context, err error) {
	log := g.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "the account has no database "+DefaultDatabase+": DESCRIBE on it granted to no one (a later run grants it once the database exists)",
		"answer", awsretry.Message(err))
}
