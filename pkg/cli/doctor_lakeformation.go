package cli

// The doctor's Lake Formation checks: stale administrators, LF-tags,
// the tags on the databases and the grants. (The registered location is
// checked in doctor.go.)

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// principalExists asks IAM whether a role or user ARN still exists.
// Lake Formation keeps an admin's ARN after IAM deletes the role, and
// PutDataLakeSettings then fails "Invalid principal" (aws-cdk#19492).
func principalExists(ctx context.Context, api IAMAPI, arn string) (exists bool, known bool, err error) {
	resource := arn[strings.LastIndex(arn, ":")+1:]
	name := resource[strings.LastIndex(resource, "/")+1:]
	switch {
	case strings.HasPrefix(resource, "role/"):
		_, err = api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	case strings.HasPrefix(resource, "user/"):
		_, err = api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	default:
		return false, false, nil // not an IAM role or user ARN (e.g. SAML, Identity Center)
	}
	if err == nil {
		return true, true, nil
	}
	if awsretry.Code(err) == "NoSuchEntity" {
		return false, true, nil
	}
	return false, false, err
}

func staleAdmins(ctx context.Context, c *Clients, adminRole string) []Finding {
	out, err := c.LF.GetDataLakeSettings(ctx, &lf.GetDataLakeSettingsInput{})
	if err != nil {
		return []Finding{apiFinding(CheckAdmins, "lakeformation:GetDataLakeSettings", err)}
	}
	var admins, stale []string
	if out.DataLakeSettings != nil {
		for _, a := range out.DataLakeSettings.DataLakeAdmins {
			admins = append(admins, aws.ToString(a.DataLakePrincipalIdentifier))
		}
	}
	for _, a := range admins {
		exists, known, err := principalExists(ctx, c.IAM, a)
		if err != nil {
			return []Finding{apiFinding(CheckAdmins, "iam:GetRole", err)}
		}
		if known && !exists {
			stale = append(stale, a)
		}
	}
	var fs []Finding
	if len(stale) > 0 {
		fs = append(fs, Finding{Check: CheckAdmins,
			Summary: "data lake administrators that IAM says do not exist: " + strings.Join(stale, ", "),
			Fix: "the next run's ConfigureLakeFormation drops them (`lakeforge run`); until then any PutDataLakeSettings that writes the list back fails with \"Invalid principal\". " +
				"To remove them now: aws lakeformation get-data-lake-settings > s.json, delete those ARNs from DataLakeAdmins, aws lakeformation put-data-lake-settings --cli-input-json file://s.json"})
	} else {
		fs = append(fs, Finding{Check: CheckAdmins, OK: true, Summary: fmt.Sprintf("%d data lake administrators, all exist in IAM", len(admins))})
	}
	if adminRole != "" && !slices.Contains(admins, adminRole) {
		fs = append(fs, Finding{Check: CheckAdmins, Summary: "the stack's admin role " + adminRole + " is not a data lake administrator",
			Fix: "run the pipeline (`lakeforge run`): ConfigureLakeFormation adds it back"})
	}
	return fs
}

func lfTags(ctx context.Context, c *Clients, cfg config.Config) Finding {
	var missing []string
	for _, key := range cfg.LFTags.Keys() {
		out, err := c.LF.GetLFTag(ctx, &lf.GetLFTagInput{TagKey: aws.String(key)})
		if awsretry.Code(err) == "EntityNotFoundException" {
			missing = append(missing, key+" (the whole key)")
			continue
		}
		if err != nil {
			return apiFinding(CheckLFTags, "lakeformation:GetLFTag", err)
		}
		for _, v := range cfg.LFTags.Tags[key] {
			if !slices.Contains(out.TagValues, v) {
				missing = append(missing, key+"="+v)
			}
		}
	}
	if len(missing) > 0 {
		return Finding{Check: CheckLFTags, Summary: "LF-tags removed: " + strings.Join(missing, ", "),
			Fix: "run the pipeline (`lakeforge run`): EnsureLFTags creates missing keys and values, and the grants and database tags that used them are restored by the later steps"}
	}
	return Finding{Check: CheckLFTags, OK: true, Summary: "every configured LF-tag key and value exists (" + strings.Join(cfg.LFTags.Keys(), ", ") + ")"}
}

func databaseTags(ctx context.Context, c *Clients, cfg config.Config) Finding {
	db := cfg.Database.Name
	out, err := c.LF.GetResourceLFTags(ctx, &lf.GetResourceLFTagsInput{Resource: &lftypes.Resource{Database: &lftypes.DatabaseResource{Name: aws.String(db)}}})
	if awsretry.Code(err) == "EntityNotFoundException" {
		return Finding{Check: CheckDatabaseTags, Summary: "database " + db + " does not exist (or this identity cannot see it)",
			Fix: "run the pipeline (`lakeforge run`): EnsureDatabase creates it; if it exists, your identity needs Lake Formation DESCRIBE on it"}
	}
	if err != nil {
		return apiFinding(CheckDatabaseTags, "lakeformation:GetResourceLFTags", err)
	}
	var have []string
	for _, t := range out.LFTagOnDatabase {
		for _, v := range t.TagValues {
			have = append(have, aws.ToString(t.TagKey)+"="+v)
		}
	}
	var missing []string
	for _, want := range []config.TagRef{cfg.LFTags.Workflow, cfg.LFTags.Analyst} {
		if !slices.Contains(have, want.String()) {
			missing = append(missing, want.String())
		}
	}
	if len(missing) > 0 {
		return Finding{Check: CheckDatabaseTags, Summary: "database " + db + " lacks the LF-tags " + strings.Join(missing, ", ") + " (has: " + strings.Join(have, ", ") + ")",
			Fix: "run the pipeline (`lakeforge run`): EnsureDatabase and TagOutput assign them; without the workflow tag the import cannot write, without the analyst tag analysts cannot read"}
	}
	return Finding{Check: CheckDatabaseTags, OK: true, Summary: "database " + db + " has " + strings.Join(have, ", ")}
}

// analystPrincipals are the principals the access model grants to.
func analystPrincipals(cfg config.Config, stack Stack) []string {
	var out []string
	if a := stack.Outputs[stepcontract.OutputAnalystRoleArn]; a != "" {
		out = append(out, a)
	}
	return append(out, cfg.Personas.Analysts.PrincipalARNs...)
}

// grants compares the access model's grants (pkg/lakeformation.AccessGrants)
// with what ListPermissions shows. It sends the request GrantTagPermissions
// sends (Principal with the grant's LF-tag policy resource: Lake Formation
// requires a Resource when a Principal is given) and matches principal,
// resource type and expression in code, because the answer may include
// grants on other expressions.
func grants(ctx context.Context, c *Clients, cfg config.Config, stack Stack) Finding {
	workflowRole := stack.Outputs[stepcontract.OutputWorkflowRoleArn]
	if workflowRole == "" {
		return Finding{Check: CheckGrants, Summary: "the stack has no WorkflowRoleArn output", Fix: "redeploy with `make deploy`"}
	}
	want, _ := lakeformation.GovernedGrants(lakeformation.AccessGrants(workflowRole, cfg.LFTags.Workflow, analystPrincipals(cfg, stack), cfg.LFTags.Analyst), cfg.LFTags.Analyst, cfg.GovernanceModel())
	var missing []string
	for _, g := range want {
		perms, err := listGrant(ctx, c.LF, g)
		if err != nil {
			return apiFinding(CheckGrants, "lakeformation:ListPermissions", err)
		}
		if !granted(perms, g) {
			missing = append(missing, g.String())
		}
	}
	if len(missing) > 0 {
		return Finding{Check: CheckGrants, Summary: "revoked or missing grants: " + strings.Join(missing, "; "),
			Fix: "run the pipeline (`lakeforge run`): GrantTagPermissions grants what is missing"}
	}
	return Finding{Check: CheckGrants, OK: true, Summary: fmt.Sprintf("all %d tag-based grants are in place", len(want))}
}

func listGrant(ctx context.Context, api LakeFormationAPI, g lakeformation.TagGrant) ([]lftypes.PrincipalResourcePermissions, error) {
	var out []lftypes.PrincipalResourcePermissions
	in := &lf.ListPermissionsInput{
		Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(g.Principal)},
		Resource:  g.Resource(),
	}
	for page := 0; page < 50; page++ {
		res, err := api.ListPermissions(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, res.PrincipalResourcePermissions...)
		if aws.ToString(res.NextToken) == "" {
			break
		}
		in.NextToken = res.NextToken
	}
	return out, nil
}

func granted(perms []lftypes.PrincipalResourcePermissions, g lakeformation.TagGrant) bool {
	var have []lftypes.Permission
	for _, p := range perms {
		if g.Matches(p) {
			have = append(have, p.Permissions...)
		}
	}
	if slices.Contains(have, lftypes.PermissionAll) {
		return true
	}
	for _, p := range g.Permissions {
		if !slices.Contains(have, p) {
			return false
		}
	}
	return true
}
