package demo

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/internal/motoserver"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// logLines collects what the stand-ins say.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) say(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// The LF-tag grant reads of EnsureLFTags and GrantTagPermissions
// (ListPermissions with an LF-tag ResourceType, no principal, no
// resource), which moto 5.2.5 rejects, are answered through the demo's
// endpoint with exactly the grants of that resource type, as the API
// reference documents the filter, and the demo says it stood in. Other
// ListPermissions requests reach moto unchanged.
func TestListPermissionsByLFTagResourceTypeIsAnsweredAsDocumented(t *testing.T) {
	srv := motoserver.Current(t)
	srv.Reset(t)
	ctx := motoserver.Context(t)
	var log logLines
	si, err := startStandIns(srv.URL, log.say)
	if err != nil {
		t.Fatal(err)
	}
	defer si.Close()
	seed := lf.NewFromConfig(srv.Config())
	viaDemo := lf.NewFromConfig(srv.Config(), func(o *lf.Options) { o.BaseEndpoint = aws.String(si.URL) })

	const tagRole, dbRole, tableRole = "arn:aws:iam::123456789012:role/tagger", "arn:aws:iam::123456789012:role/db-reader", "arn:aws:iam::123456789012:role/table-reader"
	if _, err := seed.CreateLFTag(ctx, &lf.CreateLFTagInput{TagKey: aws.String("source"), TagValues: []string{"product"}}); err != nil {
		t.Fatal(err)
	}
	expr := []lftypes.LFTag{{TagKey: aws.String("source"), TagValues: []string{"product"}}}
	for _, g := range []struct {
		role string
		res  *lftypes.Resource
		perm lftypes.Permission
	}{
		{tagRole, &lftypes.Resource{LFTag: &lftypes.LFTagKeyResource{TagKey: aws.String("source"), TagValues: []string{"product"}}}, lftypes.PermissionAssociate},
		{dbRole, &lftypes.Resource{LFTagPolicy: &lftypes.LFTagPolicyResource{ResourceType: lftypes.ResourceTypeDatabase, Expression: expr}}, lftypes.PermissionDescribe},
		{tableRole, &lftypes.Resource{LFTagPolicy: &lftypes.LFTagPolicyResource{ResourceType: lftypes.ResourceTypeTable, Expression: expr}}, lftypes.PermissionSelect},
	} {
		if _, err := seed.GrantPermissions(ctx, &lf.GrantPermissionsInput{Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(g.role)}, Resource: g.res, Permissions: []lftypes.Permission{g.perm}}); err != nil {
			t.Fatal(err)
		}
	}
	for rt, want := range map[lftypes.DataLakeResourceType]string{
		lftypes.DataLakeResourceTypeLfTag:               tagRole,
		lftypes.DataLakeResourceTypeLfTagPolicyDatabase: dbRole,
		lftypes.DataLakeResourceTypeLfTagPolicyTable:    tableRole,
	} {
		out, err := viaDemo.ListPermissions(ctx, &lf.ListPermissionsInput{ResourceType: rt})
		if err != nil {
			t.Fatalf("ListPermissions{ResourceType: %s} through the demo: %v", rt, err)
		}
		var got []string
		for _, p := range out.PrincipalResourcePermissions {
			got = append(got, aws.ToString(p.Principal.DataLakePrincipalIdentifier))
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("ListPermissions{ResourceType: %s} listed the grants of %v, want only %s's", rt, got, want)
		}
	}
	if !strings.Contains(log.text(), "stand-in lakeformation:ListPermissions{ResourceType: LF_TAG_POLICY_TABLE}") {
		t.Errorf("the demo did not say it stood in:\n%s", log.text())
	}
	// A principal-filtered request is moto's to answer, stand-in or not.
	before := len(log.lines)
	out, err := viaDemo.ListPermissions(ctx, &lf.ListPermissionsInput{Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(tableRole)}})
	direct, derr := seed.ListPermissions(ctx, &lf.ListPermissionsInput{Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(tableRole)}})
	if (err == nil) != (derr == nil) || err == nil && len(out.PrincipalResourcePermissions) != len(direct.PrincipalResourcePermissions) || len(log.lines) != before {
		t.Errorf("a principal-filtered ListPermissions was not passed to moto: %v / %v", err, derr)
	}
}

// The demo's Glue event is the documented Glue Job State Change: source
// aws.glue, detail-type "Glue Job State Change", detail with jobName,
// severity, state, jobRunId and message; a failed run is FAILED/ERROR
// with the job's error as the message.
func TestGlueJobEventHasTheDocumentedShape(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 45, 0, 0, time.UTC)
	var ev struct {
		Source     string            `json:"source"`
		DetailType string            `json:"detail-type"`
		Account    string            `json:"account"`
		Region     string            `json:"region"`
		Time       string            `json:"time"`
		Detail     map[string]string `json:"detail"`
	}
	ok := GlueJobEvent("lakeforge-import-job", "jr_1", nil, at)
	if err := json.Unmarshal(ok.raw, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"jobName": "lakeforge-import-job", "severity": "INFO", "state": "SUCCEEDED", "jobRunId": "jr_1", "message": ev.Detail["message"]}
	if ev.Source != "aws.glue" || ev.DetailType != "Glue Job State Change" || ev.Time != "2026-12-03T09:45:00Z" || fmt.Sprint(ev.Detail) != fmt.Sprint(want) || ev.Detail["message"] == "" {
		t.Errorf("success event %s", ok.raw)
	}
	bad := GlueJobEvent("lakeforge-import-job", "jr_2", fmt.Errorf("connection refused"), at)
	if err := json.Unmarshal(bad.raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Detail["state"] != "FAILED" || ev.Detail["severity"] != "ERROR" || ev.Detail["message"] != "connection refused" || ev.Detail["jobRunId"] != "jr_2" || bad.state != "FAILED" {
		t.Errorf("failure event %s", bad.raw)
	}
}
