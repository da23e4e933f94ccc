package stack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// With governance on, the template hands the steps the governance model,
// makes EnsureLFTags create the sensitivity key and grant the tagging and
// granting roles their permissions on its values, and alarms on
// unclassified columns; off (the shipped configuration), no alarm and the
// steps read {"enabled":false}.
func TestGovernanceInTheTemplate(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Governance.Enabled = true
	cfg.Governance.Columns = map[string][]string{"pii": {"%.email"}, "public": {"products.%"}}
	st := synth(t, cfg)
	functions := st.resources("AWS::Lambda::Function")
	envOf := func(name string) map[string]any {
		t.Helper()
		id := *st.Stack.GetLogicalId(st.Stack.Lake.Steps()[name].Function().Node().DefaultChild().(awscdk.CfnElement))
		return functions[id]["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	}
	for _, name := range []string{"tag-output", "grant-tag-permissions"} {
		raw, ok := envOf(name)[stepcontract.EnvGovernance].(string)
		if !ok {
			t.Fatalf("%s: no %s", name, stepcontract.EnvGovernance)
		}
		var gov access.Governance
		if err := json.Unmarshal([]byte(raw), &gov); err != nil {
			t.Fatal(err)
		}
		if !gov.Enabled || gov.Sensitivity.Key != "sensitivity" || len(gov.Sensitivity.Rules) != 2 || gov.Sensitivity.TablePrefix != cfg.Database.TablePrefix ||
			strings.Join(gov.AnalystValues, ",") != "public,internal" {
			t.Fatalf("%s: governance %+v", name, gov)
		}
	}
	tags := envOf("ensure-lf-tags")[stepcontract.EnvTags].(string)
	if !strings.Contains(tags, `"sensitivity":["public","internal","pii","unclassified"]`) {
		t.Fatalf("LF-tags %s lack the sensitivity key", tags)
	}
	perms := jsonOf(t, envOf("ensure-lf-tags")[stepcontract.EnvTagPermissions])
	for _, want := range []string{`\"key\":\"sensitivity\",\"value\":\"pii\"},\"permissions\":[\"ASSOCIATE\"`, `\"key\":\"sensitivity\",\"value\":\"pii\"},\"permissions\":[\"DESCRIBE\",\"GRANT_WITH_LF_TAG_EXPRESSION\"`} {
		if !strings.Contains(perms, want) {
			t.Fatalf("tag permissions lack %s: %s", want, perms)
		}
	}
	alarms := 0
	for _, a := range st.resources("AWS::CloudWatch::Alarm") {
		p := a["Properties"].(map[string]any)
		if p["MetricName"] == lakeformation.UnclassifiedColumnsMetric {
			alarms++
			dims, _ := json.Marshal(p["Dimensions"])
			if p["Namespace"] != MetricNamespace || !strings.Contains(string(dims), cfg.Database.Name) || len(p["AlarmActions"].([]any)) != 1 {
				t.Fatalf("alarm %v", p)
			}
		}
	}
	if alarms != 1 {
		t.Fatalf("%d unclassified-columns alarms, want 1", alarms)
	}

	off := synth(t, shippedConfig(t))
	for _, a := range off.resources("AWS::CloudWatch::Alarm") {
		if a["Properties"].(map[string]any)["MetricName"] == lakeformation.UnclassifiedColumnsMetric {
			t.Fatal("an unclassified-columns alarm without governance")
		}
	}
}
