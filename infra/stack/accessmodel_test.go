//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage, which jsii marks deprecated (moved to @aws-cdk/cloud-assembly-api); the Go binding offers no other type.

package stack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

func TestAccessModelFunctionsAndEnvironment(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	functions := st.resources("AWS::Lambda::Function")
	envOf := func(name string) map[string]any {
		t.Helper()
		step, ok := st.Stack.Lake.Steps()[name]
		if !ok {
			t.Fatalf("no step %q", name)
		}
		id := *st.Stack.GetLogicalId(step.Function().Node().DefaultChild().(awscdk.CfnElement))
		props := functions[id]["Properties"].(map[string]any)
		if props["Timeout"].(float64) < 150 {
			t.Errorf("%s: timeout %v s leaves no room for the 2-minute retry budget", name, props["Timeout"])
		}
		return props["Environment"].(map[string]any)["Variables"].(map[string]any)
	}
	for _, name := range AccessModelSteps {
		envOf(name)
	}

	// ConfigureLakeFormation makes the admin role and all six access-model
	// roles data lake admins: the stack's own, never dropped.
	cl := envOf("configure-lake-formation")
	admins, _ := json.Marshal(cl[stepcontract.EnvOwnAdmins])
	roleRef := func(name string) string {
		return *st.Stack.GetLogicalId(st.Stack.Lake.Steps()[name].Role().Node().DefaultChild().(awscdk.CfnElement))
	}
	wantRefs := []string{*st.Stack.GetLogicalId(st.Stack.Lake.Personas.AdminRole.Node().DefaultChild().(awscdk.CfnElement))}
	for _, name := range AccessModelSteps {
		wantRefs = append(wantRefs, roleRef(name))
	}
	for _, ref := range wantRefs {
		if !strings.Contains(string(admins), `"`+ref+`"`) {
			t.Errorf("LF admins %s do not include %s", admins, ref)
		}
	}
	if cl[stepcontract.EnvAccountSettings] != "import-only" {
		t.Errorf("account settings env = %v; the shipped configuration changes only what the import needs account-wide (import-only)", cl[stepcontract.EnvAccountSettings])
	}
	// issue 8 defect 2: EnsureLFTags grants ASSOCIATE on the workflow tag
	// to EnsureDatabase's role and on the analyst tag to TagOutput's, and
	// GRANT_WITH_LF_TAG_EXPRESSION on both to GrantTagPermissions' role.
	perms := jsonOf(t, envOf("ensure-lf-tags")[stepcontract.EnvTagPermissions])
	for _, want := range []struct{ role, tag, perm string }{
		{"ensure-database", cfg.LFTags.Workflow.Key, "ASSOCIATE"},
		{"tag-output", cfg.LFTags.Analyst.Key, "ASSOCIATE"},
		{"grant-tag-permissions", cfg.LFTags.Workflow.Key, "GRANT_WITH_LF_TAG_EXPRESSION"},
		{"grant-tag-permissions", cfg.LFTags.Analyst.Key, "GRANT_WITH_LF_TAG_EXPRESSION"},
	} {
		// The JSON is joined around the role's Fn::GetAtt: the role's
		// reference is followed by its tag and permissions.
		i := strings.Index(perms, `"`+roleRef(want.role)+`"`)
		if i < 0 {
			t.Errorf("tag permissions %s name no %s role", perms, want.role)
			continue
		}
		rest := perms[i:]
		found := false
		for _, part := range strings.Split(rest, `"principal`) {
			if strings.Contains(part, `\"key\":\"`+want.tag+`\"`) && strings.Contains(part, want.perm) {
				found = true
			}
		}
		if !found {
			t.Errorf("tag permissions %s do not grant %s on %s to the %s role", perms, want.perm, want.tag, want.role)
		}
	}

	var tags map[string][]string
	if err := json.Unmarshal([]byte(envOf("ensure-lf-tags")[stepcontract.EnvTags].(string)), &tags); err != nil || len(tags["maintenance"]) != len(cfg.LFTags.Tags["maintenance"]) {
		t.Errorf("LF tags env = %v, %v", tags, err)
	}
	to := envOf("tag-output")
	if to[stepcontract.EnvDatabaseName] != cfg.Database.Name {
		t.Errorf("tag-output env = %v", to)
	}
	if !strings.Contains(to[stepcontract.EnvAnalystTag].(string), `"key":"`+cfg.LFTags.Analyst.Key+`"`) {
		t.Errorf("tag-output analyst tag = %v", to[stepcontract.EnvAnalystTag])
	}
	// EnsureDatabase makes the one catalog database the job writes, at the
	// lake prefix (the job discovers the source tables over JDBC).
	ed := envOf("ensure-database")
	if ed[stepcontract.EnvDatabaseName] != cfg.Database.Name ||
		!strings.Contains(jsonOf(t, ed[stepcontract.EnvDatabaseLocation]), "/"+strings.TrimSuffix(cfg.Lake.Prefix, "/")) {
		t.Errorf("ensure-database env = %v", ed)
	}
	// issue 17 item 4: it grants TagOutput's role ALL with grant option on
	// the database, so it needs that role's ARN.
	if got := jsonOf(t, ed[stepcontract.EnvTagOutputRoleARN]); !strings.Contains(got, `"`+roleRef("tag-output")+`"`) {
		t.Errorf("ensure-database %s = %s; want TagOutput's role", stepcontract.EnvTagOutputRoleARN, got)
	}
	edRole := *st.Stack.GetLogicalId(st.Stack.Lake.Steps()["ensure-database"].Role().Node().DefaultChild().(awscdk.CfnElement))
	stmts := st.roleStatements(edRole)
	for _, action := range []string{"glue:GetDatabase", "glue:CreateDatabase"} {
		resources := strings.Join(resourcesFor(stmts, action), " ")
		if !strings.Contains(resources, `:database/`+cfg.Database.Name+`"`) {
			t.Errorf("%s of ensure-database is not allowed on database %s: %s", action, cfg.Database.Name, resources)
		}
		if n := strings.Count(resources, ":database/"); n != 1 || strings.Contains(resources, "*") {
			t.Errorf("%s of ensure-database is allowed on %d databases; want exactly the lake database: %s", action, n, resources)
		}
	}
	rl := envOf("register-location")
	if !strings.Contains(jsonOf(t, rl[stepcontract.EnvLocationARN]), "/"+strings.TrimSuffix(cfg.Lake.Prefix, "/")) {
		t.Errorf("register-location env = %v", rl)
	}
}

// TestLakeLocationRegistrationRole: issue 17 item 3. The lake prefix is
// registered with a role the stack makes (the Lake Formation guide requires
// a user-defined registration role for EMR's full table access, which Glue
// 5.0 shares): it trusts Lake Formation (and Glue, as the guide's trust
// policy does) with sts:AssumeRole and sts:SetContext, reads and writes the
// lake prefix only, and RegisterLocation gets its ARN and may pass it.
func TestLakeLocationRegistrationRole(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	id := *st.Stack.GetLogicalId(st.Stack.Lake.AccessModel.RegistrationRole.Node().DefaultChild().(awscdk.CfnElement))
	role := st.resource(t, id)
	trust := parseStatements(dig(role, "Properties", "AssumeRolePolicyDocument"))
	for _, service := range []string{"lakeformation.amazonaws.com", "glue.amazonaws.com"} {
		for _, action := range []string{"sts:AssumeRole", "sts:SetContext"} {
			found := false
			for _, s := range trust {
				if s.Effect == "Allow" && slices.Contains(s.Actions, action) && strings.Contains(s.raw, `"`+service+`"`) {
					found = true
				}
			}
			if !found {
				t.Errorf("the registration role's trust policy does not allow %s to %s: %+v", action, service, trust)
			}
		}
	}
	for _, s := range trust {
		if strings.Contains(s.raw, `"AWS"`) {
			t.Errorf("the registration role trusts an account or role: %s", s.raw)
		}
	}
	stmts := st.roleStatements(id)
	prefix := "/" + cfg.Lake.Prefix + `*"`
	for _, action := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} {
		resources := strings.Join(resourcesFor(stmts, action), " ")
		if !strings.Contains(resources, prefix) || strings.Count(resources, `*"`) != 1 {
			t.Errorf("%s of the registration role is on %s; want exactly the objects under the lake prefix %s", action, resources, cfg.Lake.Prefix)
		}
	}
	if r := resourcesFor(stmts, "s3:ListBucket"); len(r) != 1 {
		t.Errorf("s3:ListBucket of the registration role on %v; want the lake bucket", r)
	}
	var actions []string
	for _, s := range stmts {
		actions = append(actions, s.Actions...)
	}
	slices.Sort(actions)
	if want := []string{"s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"}; !slices.Equal(slices.Compact(actions), want) {
		t.Errorf("registration role actions %v; want %v", actions, want)
	}

	// RegisterLocation registers with it and may pass exactly it.
	fn := st.Stack.Lake.Steps()["register-location"]
	fnID := *st.Stack.GetLogicalId(fn.Function().Node().DefaultChild().(awscdk.CfnElement))
	env := dig(st.resource(t, fnID), "Properties", "Environment", "Variables").(map[string]any)
	if got := jsonOf(t, env[stepcontract.EnvLocationRoleARN]); !strings.Contains(got, `"`+id+`"`) || strings.Contains(got, "AWSServiceRoleForLakeFormationDataAccess") {
		t.Errorf("%s = %s; want the registration role %s", stepcontract.EnvLocationRoleARN, got, id)
	}
	fnRole := *st.Stack.GetLogicalId(fn.Role().Node().DefaultChild().(awscdk.CfnElement))
	pass := resourcesFor(st.roleStatements(fnRole), "iam:PassRole")
	if len(pass) != 1 || !strings.Contains(pass[0], `"`+id+`"`) {
		t.Errorf("register-location may pass %v; want exactly the registration role", pass)
	}
}

// TestAccessModelHasNoUnsuppressedNagFindings checks the AwsSolutions rules
// on the access-model constructs: every finding must carry a written reason.
func TestAccessModelHasNoUnsuppressedNagFindings(t *testing.T) {
	st := synth(t, shippedConfig(t))
	ann := assertions.Annotations_FromStack(st.Stack.Stack)
	var findings []string
	for _, m := range append(*ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))),
		*ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))...) {
		for _, name := range AccessModelSteps {
			if strings.Contains(*m.Id, "/Step"+stepcontract.Pascal(name)+"/") {
				findings = append(findings, *m.Id+": "+stringOf(m.Entry.Data))
			}
		}
	}
	if len(findings) > 0 {
		t.Fatalf("unsuppressed cdk-nag findings on access-model resources:\n%s", strings.Join(findings, "\n"))
	}
}

func stringOf(v any) string {
	if s, ok := v.(*string); ok && s != nil {
		return *s
	}
	if s, ok := v.(string); ok {
		return s
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// TestLakeFormationCleanupOnStackDelete: the stack's deletion runs the
// cleanup (issue 8 defect 3, issue 13 lifecycle) with every role the stack
// owns, before CloudFormation deletes the roles, the cleanup's function and
// its policy.
func TestLakeFormationCleanupOnStackDelete(t *testing.T) {
	st := synth(t, shippedConfig(t))
	crs := st.resources("Custom::LakeFormationCleanup")
	if len(crs) != 1 {
		t.Fatalf("%d cleanup custom resources; want 1", len(crs))
	}
	var cr map[string]any
	for _, r := range crs {
		cr = r
	}
	props := cr["Properties"].(map[string]any)
	fn := st.Stack.Lake.Steps()[CleanupFunction]
	fnID := *st.Stack.GetLogicalId(fn.Function().Node().DefaultChild().(awscdk.CfnElement))
	if token := jsonOf(t, props["ServiceToken"]); !strings.Contains(token, `"`+fnID+`"`) || !strings.Contains(token, "Fn::GetAtt") {
		t.Errorf("ServiceToken %s is not the cleanup function %s", token, fnID)
	}
	roles := jsonOf(t, props[lakeformation.CleanupRoleARNsProperty])
	ref := func(c awscdk.CfnElement) string { return *st.Stack.GetLogicalId(c) }
	want := []string{
		ref(st.Stack.Lake.Personas.AdminRole.Node().DefaultChild().(awscdk.CfnElement)),
		ref(st.Stack.Lake.Personas.AnalystRole.Node().DefaultChild().(awscdk.CfnElement)),
		ref(st.Stack.Lake.ImportWorkflow.Role.Node().DefaultChild().(awscdk.CfnElement)),
	}
	for _, name := range append(append([]string{}, AccessModelSteps...), CleanupFunction) {
		want = append(want, ref(st.Stack.Lake.Steps()[name].Role().Node().DefaultChild().(awscdk.CfnElement)))
	}
	for _, id := range want {
		if !strings.Contains(roles, `"`+id+`"`) {
			t.Errorf("cleanup roles %s do not include %s", roles, id)
		}
	}
	// issue 17 item 8: the lake database (its grants and its tables' are
	// revoked) and a ServiceTimeout below CloudFormation's default hour,
	// above the function's own timeout.
	if props[lakeformation.CleanupDatabaseProperty] != shippedConfig(t).Database.Name {
		t.Errorf("cleanup %s = %v", lakeformation.CleanupDatabaseProperty, props[lakeformation.CleanupDatabaseProperty])
	}
	fnTimeout := st.resource(t, fnID)["Properties"].(map[string]any)["Timeout"].(float64)
	if timeout, err := strconv.Atoi(fmt.Sprint(props["ServiceTimeout"])); err != nil || timeout >= 3600 || float64(timeout) <= fnTimeout {
		t.Errorf("cleanup ServiceTimeout %v; want more than the function's %v s and less than CloudFormation's default 3600 s", props["ServiceTimeout"], fnTimeout)
	}
	// The cleanup's own policy is not referenced by the custom resource:
	// an explicit dependency keeps it until the cleanup has run.
	deps := jsonOf(t, cr["DependsOn"])
	policyFound := false
	for id, p := range st.resources("AWS::IAM::Policy") {
		if strings.Contains(jsonOf(t, p["Properties"].(map[string]any)["Roles"]), `"`+ref(fn.Role().Node().DefaultChild().(awscdk.CfnElement))+`"`) {
			policyFound = true
			if !strings.Contains(deps, `"`+id+`"`) {
				t.Errorf("cleanup custom resource DependsOn %s lacks its function's policy %s", deps, id)
			}
		}
	}
	if !policyFound {
		t.Error("no policy attached to the cleanup role")
	}
	// The cleanup revokes grants, which needs admin rights: it is one of
	// the stack's own administrators.
	cl := st.resource(t, *st.Stack.GetLogicalId(st.Stack.Lake.Steps()["configure-lake-formation"].Function().Node().DefaultChild().(awscdk.CfnElement)))
	own := jsonOf(t, cl["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)[stepcontract.EnvOwnAdmins])
	if !strings.Contains(own, `"`+ref(fn.Role().Node().DefaultChild().(awscdk.CfnElement))+`"`) {
		t.Errorf("own admins %s do not include the cleanup role", own)
	}
}
