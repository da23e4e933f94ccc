package lakeformation

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Properties of the stack-delete cleanup custom resource.
const (
	// CleanupRoleARNsProperty lists the stack's roles: they leave the data
	// lake administrators, and their Lake Formation grants are revoked.
	CleanupRoleARNsProperty = "StackRoleArns"
	// CleanupKeptProperty describes what the cleanup keeps, for its log:
	// the databases, LF-tags and the registered location.
	CleanupKeptProperty = "Kept"
	// CleanupDatabaseProperty names the lake database: the grants of the
	// stack's roles on it and on its tables (each named table and every
	// table, TableWildcard) are revoked (it and they stay).
	CleanupDatabaseProperty = "LakeDatabase"
	// CleanupPhysicalID is the resource's one physical ID: an update never
	// replaces it, so it is deleted only with the stack.
	CleanupPhysicalID = "lakeforge-lake-formation-cleanup"
)

// grantResourceTypes are the resource types of every grant the stack's
// steps make: LF-tag permissions, LF-tag-policy grants, data location access.
var grantResourceTypes = []types.DataLakeResourceType{
	types.DataLakeResourceTypeLfTag,
	types.DataLakeResourceTypeLfTagPolicyDatabase,
	types.DataLakeResourceTypeLfTagPolicyTable,
	types.DataLakeResourceTypeDataLocation,
}

// StackCleanup undoes, when the stack is deleted, what the pipeline did
// outside CloudFormation to the principals CloudFormation deletes: it
// revokes every Lake Formation grant of the stack's roles (the LF-tag,
// LF-tag-policy and data location grants the steps made, the rows Lake
// Formation records on the lake database and its tables, the creators'
// included, TagOutput's grant on every table, and the analyst role's
// DESCRIBE on the default database) and removes exactly those roles from
// the data lake
// administrators. A deleted role left among the administrators makes every
// later PutDataLakeSettings fail with "Invalid principal" (aws-cdk#19492).
//
// It tries every item: one failure does not stop the rest, and each is
// reported in the CloudFormation response's reason and in the log.
//
// It keeps the catalog databases and tables, the data, the LF-tags and the
// registered location: they describe the kept lake bucket's data, and a
// redeploy adopts them.
type StackCleanup struct {
	LF    SettingsAPI
	Glue  TablesAPI
	Retry awsretry.Policy
	Log   *slog.Logger
}

// TablesAPI lists the lake database's tables; *glue.Client satisfies it.
type TablesAPI interface {
	GetTables(ctx context.Context, in *glue.GetTablesInput, optFns ...func(*glue.Options)) (*glue.GetTablesOutput, error)
}

var _ TablesAPI = (*glue.Client)(nil)

// maxReason bounds the failures quoted in the response's reason: the whole
// response CloudFormation accepts is at most 4096 bytes.
const maxReason = 3000

// Handle is the custom resource's logic. Create and Update check the
// properties; Delete cleans up and never fails the stack's deletion: what
// it could not remove it reports in reason (sent with SUCCESS) and logs,
// and the next deployment's ConfigureLakeFormation drops administrators
// that no longer exist anyway.
func (c *StackCleanup) Handle(ctx context.Context, ev cfn.Event) (physicalID string, data map[string]any, reason string, err error) {
	roles, err := cleanupRoles(ev.ResourceProperties)
	if ev.RequestType != cfn.RequestDelete {
		return CleanupPhysicalID, nil, "", err
	}
	if err != nil {
		c.Log.ErrorContext(ctx, "stack-delete cleanup skipped", "error", err.Error())
		return CleanupPhysicalID, nil, "stack-delete cleanup skipped: " + err.Error(), nil
	}
	database, _ := ev.ResourceProperties[CleanupDatabaseProperty].(string)
	kept, _ := ev.ResourceProperties[CleanupKeptProperty].(string)
	changes, failures := c.Remove(ctx, roles, database)
	data = map[string]any{"Changes": strings.Join(changes, "; ")}
	if len(failures) == 0 {
		c.Log.InfoContext(ctx, "stack-delete cleanup done", "changes", changes, "kept", kept)
		return CleanupPhysicalID, data, "", nil
	}
	msgs := make([]string, len(failures))
	for i, f := range failures {
		msgs[i] = f.Error()
		c.Log.ErrorContext(ctx, "stack-delete cleanup: one item failed; remove it by hand (docs/operations.md, Teardown)", "error", msgs[i])
	}
	c.Log.ErrorContext(ctx, "stack-delete cleanup incomplete", "failed", len(failures), "changes", changes, "kept", kept)
	reason = fmt.Sprintf("stack-delete cleanup incomplete, %d item(s) failed (the stack is deleted anyway; remove them by hand, see the function's log): %s", len(failures), strings.Join(msgs, " | "))
	if len(reason) > maxReason {
		reason = reason[:maxReason] + " …"
	}
	return CleanupPhysicalID, data, reason, nil
}

// Respond answers CloudFormation at the event's ResponseURL with what
// Handle returned: like cfn.LambdaWrap, but a SUCCESS can carry a reason
// (the failures of a cleanup that went on), which LambdaWrap never sends.
func (c *StackCleanup) Respond(ctx context.Context, ev cfn.Event) (string, error) {
	r := cfn.NewResponse(&ev)
	r.PhysicalResourceID = CleanupPhysicalID
	defer func() {
		if p := recover(); p != nil {
			r.Status, r.Reason = cfn.StatusFailed, fmt.Sprintf("the cleanup function panicked: %v (see its log)", p)
			if ev.RequestType == cfn.RequestDelete {
				// Never hold the stack's deletion.
				r.Status = cfn.StatusSuccess
			}
			_ = r.Send()
		}
	}()
	id, data, reason, err := c.Handle(ctx, ev)
	r.PhysicalResourceID, r.Data, r.Reason = id, data, reason
	r.Status = cfn.StatusSuccess
	if err != nil {
		r.Status, r.Reason = cfn.StatusFailed, err.Error()
	}
	if serr := r.Send(); serr != nil {
		return "", serr
	}
	return r.Reason, nil
}

func cleanupRoles(props map[string]any) ([]string, error) {
	raw, ok := props[CleanupRoleARNsProperty].([]any)
	var roles []string
	for _, r := range raw {
		if s, isString := r.(string); isString && strings.HasPrefix(s, "arn:") {
			roles = append(roles, s)
		} else {
			ok = false
		}
	}
	if !ok || len(roles) == 0 {
		return nil, &steperr.InvalidInputError{Field: "ResourceProperties." + CleanupRoleARNsProperty,
			Fix: "a non-empty list of the stack's role ARNs (the stack sets it; redeploy)"}
	}
	return roles, nil
}

// Remove revokes the grants of roles, then removes roles from the data lake
// administrators (in that order: revoking needs the admin rights). database
// is the lake database whose grants (and its tables') are revoked too; ""
// skips them. Every item is tried; failures lists those that failed.
func (c *StackCleanup) Remove(ctx context.Context, roles []string, database string) (changes []string, failures []error) {
	revokeAll := func(what string, in *lf.ListPermissionsInput, keep func(*types.Resource) bool) {
		var perms []types.PrincipalResourcePermissions
		err := c.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
			var err error
			perms, err = listPermissions(ctx, c.LF, in)
			return err
		})
		if awsretry.IsCode(err, "EntityNotFoundException") {
			return // a database that does not exist holds no grant
		}
		if err != nil {
			failures = append(failures, fail("lakeformation:ListPermissions", what, err))
			return
		}
		for _, p := range perms {
			if keep != nil && !keep(p.Resource) {
				continue
			}
			change, err := c.revoke(ctx, roles, p)
			if err != nil {
				failures = append(failures, err)
			} else if change != "" {
				changes = append(changes, change)
			}
		}
	}
	for _, rt := range grantResourceTypes {
		revokeAll("the "+string(rt)+" grants", &lf.ListPermissionsInput{ResourceType: rt}, nil)
	}
	// GrantTagPermissions' DESCRIBE on the default database (Athena).
	revokeAll("the grants on database "+DefaultDatabase, &lf.ListPermissionsInput{Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(DefaultDatabase)}}}, nil)
	if database != "" {
		revokeAll("the grants on database "+database, &lf.ListPermissionsInput{Resource: &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}}}, nil)
		// EnsureDatabase's grant on every table (TableWildcard): listed by
		// resource type and kept to the lake database, since a listing by
		// the wildcard resource is not one of the named tables' listings.
		revokeAll("the grants on every table of database "+database, &lf.ListPermissionsInput{ResourceType: types.DataLakeResourceTypeTable},
			func(r *types.Resource) bool { return IsAllTables(r, database) })
		tables, err := c.tables(ctx, database)
		if err != nil {
			failures = append(failures, err)
		}
		for _, table := range tables {
			revokeAll("the grants on table "+database+"."+table, &lf.ListPermissionsInput{Resource: &types.Resource{Table: &types.TableResource{DatabaseName: aws.String(database), Name: aws.String(table)}}}, nil)
		}
	}
	removed, err := c.removeAdmins(ctx, roles)
	changes = append(changes, removed...)
	if err != nil {
		failures = append(failures, err)
	}
	return changes, failures
}

// revoke revokes the listed grant p when its principal is one of roles; it
// returns the change made, "" when p is not a stack role's.
func (c *StackCleanup) revoke(ctx context.Context, roles []string, p types.PrincipalResourcePermissions) (string, error) {
	who := ""
	if p.Principal != nil {
		who = aws.ToString(p.Principal.DataLakePrincipalIdentifier)
	}
	if !slices.Contains(roles, who) || p.Resource == nil || len(p.Permissions)+len(p.PermissionsWithGrantOption) == 0 {
		return "", nil
	}
	// Permissions is a required member: a row with grant options only
	// revokes an empty list, never a nil one (which the SDK refuses before
	// sending).
	permissions := p.Permissions
	if permissions == nil {
		permissions = []types.Permission{}
	}
	resource := revocable(p.Resource)
	err := c.Retry.Do(ctx, "lakeformation:RevokePermissions", func(ctx context.Context) error {
		_, err := c.LF.RevokePermissions(ctx, &lf.RevokePermissionsInput{
			Principal:                  p.Principal,
			Resource:                   resource,
			Permissions:                permissions,
			PermissionsWithGrantOption: p.PermissionsWithGrantOption,
		})
		if awsretry.IsCode(err, "InvalidInputException") && strings.Contains(awsretry.Message(err), "Grantee has no permissions") {
			return nil // gone already
		}
		return err
	})
	if err != nil {
		return "", fail("lakeformation:RevokePermissions", joinPermissions(p.Permissions)+" on "+describeResource(p.Resource)+" from "+who, err)
	}
	return fmt.Sprintf("revoked %s on %s from %s", joinPermissions(p.Permissions), describeResource(p.Resource), who), nil
}

// revocable is a listed resource as RevokePermissions takes it: a grant on
// every table is listed with the name ALL_TABLES (and its SELECT on
// TableWithColumns ALL_TABLES), but was granted, and is revoked, on the
// TableWildcard resource.
func revocable(r *types.Resource) *types.Resource {
	switch {
	case r.Table != nil && IsAllTables(r, aws.ToString(r.Table.DatabaseName)):
		return allTables(r.Table.CatalogId, aws.ToString(r.Table.DatabaseName))
	case r.TableWithColumns != nil && IsAllTables(r, aws.ToString(r.TableWithColumns.DatabaseName)):
		return allTables(r.TableWithColumns.CatalogId, aws.ToString(r.TableWithColumns.DatabaseName))
	}
	return r
}

// tables lists the names of database's tables; a database that does not
// exist has none.
func (c *StackCleanup) tables(ctx context.Context, database string) ([]string, error) {
	if c.Glue == nil {
		return nil, nil
	}
	var names []string
	in := &glue.GetTablesInput{DatabaseName: aws.String(database)}
	for {
		out, err := c.Glue.GetTables(ctx, in)
		if awsretry.IsCode(err, "EntityNotFoundException") {
			return names, nil
		}
		if err != nil {
			return names, fail("glue:GetTables", "the tables of database "+database, err)
		}
		for _, t := range out.TableList {
			names = append(names, aws.ToString(t.Name))
		}
		if aws.ToString(out.NextToken) == "" {
			return names, nil
		}
		in.NextToken = out.NextToken
	}
}

// removeAdmins removes roles from the data lake administrators.
func (c *StackCleanup) removeAdmins(ctx context.Context, roles []string) ([]string, error) {
	got, err := c.LF.GetDataLakeSettings(ctx, &lf.GetDataLakeSettingsInput{})
	if err != nil {
		return nil, fail("lakeformation:GetDataLakeSettings", "the data lake settings", err)
	}
	if got.DataLakeSettings == nil {
		return nil, nil
	}
	settings := *got.DataLakeSettings
	var admins []types.DataLakePrincipal
	var changes []string
	for _, a := range settings.DataLakeAdmins {
		if arn := aws.ToString(a.DataLakePrincipalIdentifier); slices.Contains(roles, arn) {
			changes = append(changes, "removed data lake administrator "+arn)
			continue
		}
		admins = append(admins, a)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	settings.DataLakeAdmins = admins
	if settings.DataLakeAdmins == nil {
		settings.DataLakeAdmins = []types.DataLakePrincipal{}
	}
	err = c.Retry.Do(ctx, "lakeformation:PutDataLakeSettings", func(ctx context.Context) error {
		_, err := c.LF.PutDataLakeSettings(ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &settings})
		return err
	})
	if err != nil {
		return nil, fail("lakeformation:PutDataLakeSettings", "the data lake settings (removing the stack's roles from the administrators)", err)
	}
	return changes, nil
}

func joinPermissions(perms []types.Permission) string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = string(p)
	}
	return strings.Join(out, "+")
}

func describeResource(r *types.Resource) string {
	switch {
	case r.LFTag != nil:
		return "LF-tag " + aws.ToString(r.LFTag.TagKey) + "=" + strings.Join(r.LFTag.TagValues, ",")
	case r.LFTagPolicy != nil && len(r.LFTagPolicy.Expression) > 0:
		e := r.LFTagPolicy.Expression[0]
		return string(r.LFTagPolicy.ResourceType) + " with " + aws.ToString(e.TagKey) + "=" + strings.Join(e.TagValues, ",")
	case r.DataLocation != nil:
		return aws.ToString(r.DataLocation.ResourceArn)
	case r.Database != nil:
		return "database " + aws.ToString(r.Database.Name)
	case r.Table != nil && IsAllTables(r, aws.ToString(r.Table.DatabaseName)):
		return "every table of database " + aws.ToString(r.Table.DatabaseName)
	case r.Table != nil:
		return "table " + aws.ToString(r.Table.DatabaseName) + "." + aws.ToString(r.Table.Name)
	case r.TableWithColumns != nil && IsAllTables(r, aws.ToString(r.TableWithColumns.DatabaseName)):
		return "every table of database " + aws.ToString(r.TableWithColumns.DatabaseName)
	}
	return "a catalog resource"
}
