package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// expectOne asserts that err is exactly one problem at path whose text
// contains every hint.
func expectOne(t *testing.T, err error, path string, hints ...string) {
	t.Helper()
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want *Problems at %s, got %v", path, err)
	}
	if len(probs.List) != 1 {
		t.Fatalf("want exactly one problem at %s, got:\n%v", path, err)
	}
	if probs.List[0].Path != path {
		t.Fatalf("problem names %q, want %q (%v)", probs.List[0].Path, path, err)
	}
	for _, h := range hints {
		if !strings.Contains(err.Error(), h) {
			t.Fatalf("message %q lacks %q", err.Error(), h)
		}
	}
}

// shippedJSON is the shipped configuration as compact JSON with sorted
// keys, so the cases below can edit its text.
func shippedJSON(t *testing.T) string {
	t.Helper()
	raw, err := json.Marshal(shippedContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("%q occurs %d times in the shipped JSON", old, strings.Count(s, old))
	}
	return strings.Replace(s, old, new, 1)
}

// Keys match exactly; a near miss names the key it resembles; duplicates
// and trailing data are errors; every problem names its full path.
func TestKeysMatchExactlyAtTheirFullPath(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(t *testing.T, s string) string
		path  string
		hints []string
	}{
		{"case variant beside the key", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"stackName":"lakeforge"`, `"stackName":"lakeforge","stackname":"other"`)
		}, "lakeforge.stackname", []string{`did you mean "stackName"`, "case-sensitive"}},
		{"upper-case object beside the object", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"source":{`, `"SOURCE":{"port":3306},"source":{`)
		}, "lakeforge.SOURCE", []string{`did you mean "source"`}},
		{"case variant alone", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"logRetentionDays":30`, `"logretentiondays":30`)
		}, "lakeforge.logretentiondays", []string{`did you mean "logRetentionDays"`}},
		{"nested misspelling", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"port":5432`, `"port":5432,"hots":"db"`)
		}, "lakeforge.source.hots", []string{`did you mean "host"`}},
		{"deeply nested misspelling", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"groupName":"dl_users"`, `"groupName":"dl_users","principalArn":[]`)
		}, "lakeforge.personas.analysts.principalArn", []string{`did you mean "principalArns"`}},
		{"unknown nested key", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"manage":false`, `"manage":false,"natGateway":true`)
		}, "lakeforge.network.natGateway", []string{"availabilityZone", "securityGroupIds"}},
		{"key inside a tag reference", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"workflow":{"key":"maintenance"`, `"workflow":{"Key":"maintenance"`)
		}, "lakeforge.lfTags.workflow.Key", []string{`did you mean "key"`}},
		{"duplicate top-level key", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"stackName":"lakeforge"`, `"stackName":"lakeforge","stackName":"other"`)
		}, "lakeforge.stackName", []string{"more than once"}},
		{"duplicate nested key", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"port":5432`, `"port":5432,"port":3306`)
		}, "lakeforge.source.port", []string{"more than once"}},
		{"duplicate key in a map", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"source":["product"]`, `"source":["product"],"source":["other"]`)
		}, "lakeforge.lfTags.tags.source", []string{"more than once"}},
		{"duplicate key in an array element", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"securityGroupIds":["sg-0123456789abcdef0"]`, `"securityGroupIds":[{"a":1,"a":2}]`)
		}, "lakeforge.network.securityGroupIds[0].a", []string{"more than once"}},
		{"null instead of a value", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"stackName":"lakeforge"`, `"stackName":null`)
		}, "lakeforge.stackName", []string{"not null"}},
		{"null instead of an object", func(t *testing.T, s string) string {
			return replaceOnce(t, s, `"preflight":{"repair":false}`, `"preflight":null`)
		}, "lakeforge.preflight", []string{"not null"}},
		{"second object after the first", func(t *testing.T, s string) string { return s + ` {"stackName":"other"}` }, "lakeforge", []string{"nothing after it"}},
		{"garbage after the object", func(t *testing.T, s string) string { return s + "x" }, "lakeforge", []string{"nothing after it"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.edit(t, shippedJSON(t))))
			expectOne(t, err, tc.path, tc.hints...)
		})
	}
}

// Key problems and trailing data are reported together.
func TestKeyProblemsAndTrailingDataTogether(t *testing.T) {
	raw := strings.Replace(shippedJSON(t), `"port":5432`, `"port":5432,"Port":1`, 1) + " {}"
	_, err := Parse([]byte(raw))
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want *Problems, got %v", err)
	}
	if got := strings.Join(probs.Paths(), " "); got != "lakeforge.source.Port lakeforge" {
		t.Fatalf("paths = %s (%v)", got, err)
	}
}

// The same rules hold for every way a configuration is loaded: a -c
// string, a CONFIG file, and cdk.json read byte for byte.
func TestEveryLoaderAppliesTheKeyRules(t *testing.T) {
	bad := strings.Replace(shippedJSON(t), `"port":5432`, `"port":5432,"port":3306`, 1)
	_, err := FromContext(bad)
	expectOne(t, err, "lakeforge.source.port", "more than once")

	dir := t.TempDir()
	file := filepath.Join(dir, "lakeforge.json")
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(file)
	expectOne(t, err, "lakeforge.source.port", "more than once")

	cdk := filepath.Join(dir, "cdk.json")
	if err := os.WriteFile(cdk, []byte(`{"app":"go run ./infra","context":{"lakeforge":`+bad+`}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCDKJSON(cdk)
	expectOne(t, err, "lakeforge.source.port", "more than once")

	// The shipped cdk.json itself loads.
	if _, err := LoadCDKJSON(filepath.Join("..", "..", "cdk.json")); err != nil {
		t.Fatal(err)
	}
}

// S3's general purpose bucket naming rules, from the S3 user guide.
func TestBucketNamesFollowS3Rules(t *testing.T) {
	good := []string{"abc", "my-lake.bucket-01", strings.Repeat("a", 63), "1lake", "lake-s3alias1", "xn-lake"}
	for _, name := range good {
		for _, key := range []string{"bucketName", "existingBucketName"} {
			ctx := shippedContext(t)
			set("lake", key, name)(ctx)
			if _, err := FromContext(ctx); err != nil {
				t.Errorf("lake.%s %q refused: %v", key, name, err)
			}
		}
	}
	bad := map[string]string{
		"ab":                      "3 to 63",
		strings.Repeat("a", 64):   "3 to 63",
		"My-Lake":                 "lower-case",
		"my_lake":                 "lower-case",
		"-lake":                   "beginning and the end",
		"lake-":                   "beginning and the end",
		".lake":                   "beginning and the end",
		"my..lake":                "adjacent periods",
		"192.168.5.4":             "IP address",
		"xn--lake":                "xn--",
		"sthree-lake":             "sthree-",
		"amzn-s3-demo-lake":       "amzn-s3-demo-",
		"lake-s3alias":            "-s3alias",
		"lake--ol-s3":             "--ol-s3",
		"lake.mrap":               ".mrap",
		"lake--x-s3":              "--x-s3",
		"lake--table-s3":          "--table-s3",
		"sthree-configurator-abc": "sthree-",
	}
	for name, hint := range bad {
		for _, key := range []string{"bucketName", "existingBucketName"} {
			t.Run(key+"/"+name, func(t *testing.T) {
				ctx := shippedContext(t)
				set("lake", key, name)(ctx)
				_, err := FromContext(ctx)
				expectOne(t, err, "lakeforge.lake."+key, hint)
			})
		}
	}
	ctx := shippedContext(t)
	set("lake", "bucketName", "lake-a")(ctx)
	set("lake", "existingBucketName", "lake-b")(ctx)
	_, err := FromContext(ctx)
	expectOne(t, err, "lakeforge.lake.existingBucketName", "not both")
}

// stackName is bounded by the longest derived name: the schedule
// <stackName>-daily, whose name EventBridge Scheduler limits to 64.
func TestStackNameIsBoundedByDerivedNames(t *testing.T) {
	const scheduleMax, stateMachineMax = 64, 80 // AWS limits, from the API references
	longest := "a" + strings.Repeat("b", scheduleMax-len("-daily")-1)
	ctx := shippedContext(t)
	ctx["stackName"] = longest
	cfg, err := FromContext(ctx)
	if err != nil {
		t.Fatalf("stackName of %d characters refused: %v", len(longest), err)
	}
	n := cfg.Names()
	if len(n.Schedule) != scheduleMax || len(n.StateMachine) > stateMachineMax {
		t.Fatalf("derived names: schedule %d, state machine %d characters", len(n.Schedule), len(n.StateMachine))
	}
	for _, name := range []string{longest + "c", strings.Repeat("a", 129)} {
		ctx["stackName"] = name
		_, err = FromContext(ctx)
		expectOne(t, err, "lakeforge.stackName", "1 to 58", "-daily", "64")
	}
	for _, name := range []string{"1lake", "lake_forge", "lake.forge", ""} {
		ctx["stackName"] = name
		_, err = FromContext(ctx)
		expectOne(t, err, "lakeforge.stackName", "starting with a letter")
	}
}

// Rules between fields and on single values that AWS refuses later.
func TestCrossFieldAndValueRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c map[string]any)
		path   string
		hints  []string
	}{
		{"database default", set("database", "name", "default"), "lakeforge.database.name", []string{"Athena"}},
		{"zone in another region than the secret", set("network", "availabilityZone", "eu-west-1a"), "lakeforge.network.availabilityZone", []string{"ap-northeast-1", "source.secretArn", "eu-west-1"}},
		{"wait shorter than the job", set("import", "waitTimeoutMinutes", 119), "lakeforge.import.waitTimeoutMinutes", []string{"import.jobTimeoutMinutes (120)"}},
		{"host with adjacent dots", set("source", "host", "db..example.com"), "lakeforge.source.host", []string{"empty label"}},
		{"host with a trailing dot", set("source", "host", "db.example.com."), "lakeforge.source.host", []string{"empty label"}},
		{"host with a leading dot", set("source", "host", ".db.example.com"), "lakeforge.source.host", []string{"empty label"}},
		{"host label starting with a hyphen", set("source", "host", "-db.example.com"), "lakeforge.source.host", []string{`"-db"`}},
		{"host label ending with a hyphen", set("source", "host", "db-.example.com"), "lakeforge.source.host", []string{`"db-"`}},
		{"host label of 64 characters", set("source", "host", strings.Repeat("d", 64)+".example.com"), "lakeforge.source.host", []string{"1 to 63"}},
		{"host of 254 characters", set("source", "host", strings.Repeat(strings.Repeat("d", 62)+".", 4)+"ab"), "lakeforge.source.host", []string{"253"}},
		{"host with an underscore", set("source", "host", "db_1.example.com"), "lakeforge.source.host", []string{"db_1"}},
		{"host with a port", set("source", "host", "db.example.com:5432"), "lakeforge.source.host", []string{"labels"}},
		{"IPv4 out of range", set("source", "host", "10.0.0.300"), "lakeforge.source.host", []string{"0 to 255"}},
		{"host empty", set("source", "host", ""), "lakeforge.source.host", []string{"required"}},
		{"FLEX with G.4X", set("import", "workerType", "G.4X"), "lakeforge.import.workerType", []string{"import.executionClass", "FLEX", "STANDARD"}},
		{"FLEX with G.8X", set("import", "workerType", "G.8X"), "lakeforge.import.workerType", []string{"import.executionClass", "G.1X or G.2X"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := shippedContext(t)
			tc.mutate(ctx)
			_, err := FromContext(ctx)
			expectOne(t, err, tc.path, tc.hints...)
		})
	}
	goodHosts := []string{"10.0.0.5", "db", "db.example.com", strings.Repeat("d", 63) + ".example.com", "my-db.cluster-abc.eu-west-1.rds.amazonaws.com"}
	for _, h := range goodHosts {
		ctx := shippedContext(t)
		set("source", "host", h)(ctx)
		if _, err := FromContext(ctx); err != nil {
			t.Errorf("host %q refused: %v", h, err)
		}
	}
	for _, ok := range []func(map[string]any){
		func(c map[string]any) {
			set("import", "workerType", "G.4X")(c)
			set("import", "executionClass", "STANDARD")(c)
		},
		func(c map[string]any) {
			set("import", "workerType", "G.8X")(c)
			set("import", "executionClass", "STANDARD")(c)
		},
		set("import", "workerType", "G.2X"),
		set("import", "waitTimeoutMinutes", 120), // equal to the job timeout
		set("database", "name", "default_db"),
		func(c map[string]any) {
			set("import", "mode", "merge")(c)
			set("import", "tables", map[string]any{
				"orders":   map[string]any{"key": []any{"id"}, "changeColumn": "updated_at"},
				"ledger":   map[string]any{"changeColumn": "version", "overlapValues": 1000},
				"products": map[string]any{"mode": "snapshot"},
			})(c)
		},
		func(c map[string]any) {
			set("import", "tables", map[string]any{"orders": map[string]any{"mode": "merge", "changeColumn": "updated_at"}})(c)
			set("import", "mergeOverlapMinutes", 0)(c)
			set("import", "orphanFileAgeHours", 24)(c)
		},
	} {
		ctx := shippedContext(t)
		ok(ctx)
		if _, err := FromContext(ctx); err != nil {
			t.Errorf("refused: %v", err)
		}
	}
}

// Every numeric range at both boundaries, with the expected bounds taken
// from AWS's limits (Glue: 299 G.1X and 149 G.2X workers, job timeouts
// under 7 days; Athena: cutoff at least 10 MiB, workgroup names of
// 1 to 128 characters) and from the settings' meaning (tolerance a
// fraction; the wait from the first look at 10 minutes to one day).
func TestNumericBoundaries(t *testing.T) {
	type edit = func(map[string]any)
	both := func(a, b edit) edit { return func(c map[string]any) { a(c); b(c) } }
	cases := []struct {
		name string
		edit edit
		bad  string // the path of the one problem, or "" when valid
	}{
		{"1 G.1X worker", set("import", "numberOfWorkers", 1), "lakeforge.import.numberOfWorkers"},
		{"2 G.1X workers", set("import", "numberOfWorkers", 2), ""},
		{"299 G.1X workers", set("import", "numberOfWorkers", 299), ""},
		{"300 G.1X workers", set("import", "numberOfWorkers", 300), "lakeforge.import.numberOfWorkers"},
		{"149 G.2X workers", both(set("import", "workerType", "G.2X"), set("import", "numberOfWorkers", 149)), ""},
		{"150 G.2X workers", both(set("import", "workerType", "G.2X"), set("import", "numberOfWorkers", 150)), "lakeforge.import.numberOfWorkers"},
		{"job timeout 0", set("import", "jobTimeoutMinutes", 0), "lakeforge.import.jobTimeoutMinutes"},
		{"job timeout 1", set("import", "jobTimeoutMinutes", 1), ""},
		{"job timeout one day, wait one day", both(set("import", "jobTimeoutMinutes", 1440), set("import", "waitTimeoutMinutes", 1440)), ""},
		{"job timeout 7 days", set("import", "jobTimeoutMinutes", 10080), "lakeforge.import.jobTimeoutMinutes"},
		{"job timeout longer than the longest wait", both(set("import", "jobTimeoutMinutes", 1441), set("import", "waitTimeoutMinutes", 1440)), "lakeforge.import.waitTimeoutMinutes"},
		{"wait 9", both(set("import", "jobTimeoutMinutes", 1), set("import", "waitTimeoutMinutes", 9)), "lakeforge.import.waitTimeoutMinutes"},
		{"wait 10", both(set("import", "jobTimeoutMinutes", 1), set("import", "waitTimeoutMinutes", 10)), ""},
		{"wait 1440", set("import", "waitTimeoutMinutes", 1440), ""},
		{"wait 1441", set("import", "waitTimeoutMinutes", 1441), "lakeforge.import.waitTimeoutMinutes"},
		{"tolerance below 0", set("import", "rowCountTolerance", -0.001), "lakeforge.import.rowCountTolerance"},
		{"tolerance 0", set("import", "rowCountTolerance", 0), ""},
		{"tolerance 1", set("import", "rowCountTolerance", 1), ""},
		{"tolerance above 1", set("import", "rowCountTolerance", 1.001), "lakeforge.import.rowCountTolerance"},
		{"cutoff 10000000", set("athena", "bytesScannedCutoffPerQuery", 10000000), "lakeforge.athena.bytesScannedCutoffPerQuery"},
		{"cutoff 10485759", set("athena", "bytesScannedCutoffPerQuery", 10485759), "lakeforge.athena.bytesScannedCutoffPerQuery"},
		{"cutoff 10485760", set("athena", "bytesScannedCutoffPerQuery", 10485760), ""},
		{"workgroup of 128", set("athena", "workgroupName", strings.Repeat("w", 128)), ""},
		{"workgroup of 129", set("athena", "workgroupName", strings.Repeat("w", 129)), "lakeforge.athena.workgroupName"},
		{"workgroup empty", set("athena", "workgroupName", ""), "lakeforge.athena.workgroupName"},
		{"workgroup primary", set("athena", "workgroupName", "primary"), "lakeforge.athena.workgroupName"},
		{"port 1", set("source", "port", 1), ""},
		{"port 65535", set("source", "port", 65535), ""},
		{"port 65536", set("source", "port", 65536), "lakeforge.source.port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := shippedContext(t)
			tc.edit(ctx)
			_, err := FromContext(ctx)
			if tc.bad == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			expectOne(t, err, tc.bad)
		})
	}
}

// A value of the wrong JSON type names its field and the type it needs.
func TestWrongTypesNameTheField(t *testing.T) {
	cases := []struct{ raw, path, hint string }{
		{`[]`, "lakeforge", "object"},
		{`"lakeforge"`, "lakeforge", "object"},
		{`{"source": {"port": 5432.5}}`, "lakeforge.source.port", "whole number"},
		{`{"import": {"rowCountTolerance": "0.1"}}`, "lakeforge.import.rowCountTolerance", "a JSON number"},
		{`{"schedule": {"enabled": "yes"}}`, "lakeforge.schedule.enabled", "boolean"},
		{`{"network": {"securityGroupIds": "sg-0123456789abcdef0"}}`, "lakeforge.network.securityGroupIds", "array"},
		{`{"lake": []}`, "lakeforge.lake", "object"},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			_, err := Parse([]byte(tc.raw))
			expectOne(t, err, tc.path, tc.hint)
		})
	}
}

// Marshal's output (null for empty lists) parses back to the same
// configuration.
func TestMarshalRoundTrips(t *testing.T) {
	cfg, err := FromContext(shippedContext(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Source.IncludePaths = nil
	cfg.Notifications.Emails = nil
	back, err := Parse(cfg.Marshal())
	if err != nil {
		t.Fatalf("Marshal output does not parse: %v", err)
	}
	if string(back.Marshal()) != string(cfg.Marshal()) {
		t.Fatalf("round trip changed the configuration:\n%s\n%s", cfg.Marshal(), back.Marshal())
	}
}
