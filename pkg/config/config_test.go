package config

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// shippedContext returns the "lakeforge" object of the repository's cdk.json,
// so the example users start from is itself proven valid.
func shippedContext(t *testing.T) map[string]any {
	t.Helper()
	ctx, err := CDKJSONContext(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lakeforge map[string]any
	if err := json.Unmarshal(ctx[ContextKey], &lakeforge); err != nil {
		t.Fatal(err)
	}
	return lakeforge
}

func TestShippedCDKJSONIsValid(t *testing.T) {
	cfg, err := FromContext(shippedContext(t))
	if err != nil {
		t.Fatalf("cdk.json does not validate: %v", err)
	}
	if cfg.Database.Name != "kthr01" || cfg.Schedule.Expression != "cron(45 9 * * ? *)" {
		t.Fatalf("unexpected values: %+v", cfg)
	}
}

func TestDefaultsFollowThePost(t *testing.T) {
	ctx := shippedContext(t)
	// Only the settings without a default: everything else comes from Default().
	min := map[string]any{"source": ctx["source"], "network": ctx["network"]}
	cfg, err := FromContext(min)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Name != "kthr01" {
		t.Errorf("database.name = %q, want kthr01", cfg.Database.Name)
	}
	if got := strings.Join(cfg.LFTags.Tags["maintenance"], ","); got != "crawler,manual" {
		t.Errorf("maintenance values = %s", got)
	}
	if got := strings.Join(cfg.LFTags.Tags["source"], ","); got != "product" {
		t.Errorf("source values = %s", got)
	}
	if cfg.LFTags.Workflow.String() != "maintenance=crawler" || cfg.LFTags.Analyst.String() != "source=product" {
		t.Errorf("grant tags = %s, %s", cfg.LFTags.Workflow, cfg.LFTags.Analyst)
	}
	if cfg.Schedule.Expression != "cron(45 9 * * ? *)" || cfg.Schedule.TimeZone != "UTC" || !cfg.Schedule.Enabled {
		t.Errorf("schedule = %+v", cfg.Schedule)
	}
	if cfg.Import.ExecutionClass != "FLEX" || cfg.Import.Mode != ModeSnapshot {
		t.Errorf("import = %+v", cfg.Import)
	}
}

func TestJSONStringFromCommandLine(t *testing.T) {
	ctx := shippedContext(t)
	ctx["database"] = map[string]any{"name": "sales"}
	raw, _ := json.Marshal(ctx)
	cfg, err := FromContext(string(raw)) // what `cdk deploy -c lakeforge='{...}'` hands over
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Name != "sales" {
		t.Fatalf("database.name = %q", cfg.Database.Name)
	}
}

func TestInvalidConfigurations(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c map[string]any)
		field  string // the exact path the single problem must name
		hint   string // a fragment of the explanation
	}{
		{"bad cron", set("schedule", "expression", "cron(45 9 * * *)"), "lakeforge.schedule.expression", "6 fields"},
		{"cron minute out of range", set("schedule", "expression", "cron(75 9 * * ? *)"), "lakeforge.schedule.expression", "0-59"},
		{"cron without question mark", set("schedule", "expression", "cron(45 9 * * * *)"), "lakeforge.schedule.expression", "'?'"},
		{"not cron or rate", set("schedule", "expression", "daily at 9"), "lakeforge.schedule.expression", "cron("},
		{"unknown time zone", set("schedule", "timeZone", "Mars/Olympus_Mons"), "lakeforge.schedule.timeZone", "IANA"},
		{"upper-case database", set("database", "name", "Kthr01"), "lakeforge.database.name", "lower-case"},
		{"account settings none of import-only, manage, leave", set("lakeFormation", "accountSettings", "yes"), "lakeforge.lakeFormation.accountSettings", `"import-only"`},
		{"hyphen in database", set("database", "name", "kthr-01"), "lakeforge.database.name", "Athena"},
		{"LF-tag key too long", func(c map[string]any) {
			sub(c, "lfTags")["tags"] = map[string]any{"maintenance": []any{"crawler"}, "source": []any{"product"}, strings.Repeat("k", 129): []any{"v"}}
		}, "lakeforge.lfTags.tags." + strings.Repeat("k", 129), "1 to 128"},
		{"LF-tag value with bad character", func(c map[string]any) {
			sub(c, "lfTags")["tags"] = map[string]any{"maintenance": []any{"crawler", "man#ual"}, "source": []any{"product"}}
		}, "lakeforge.lfTags.tags.maintenance[1]", "LF-tag value"},
		{"LF-tag value too long", func(c map[string]any) {
			sub(c, "lfTags")["tags"] = map[string]any{"maintenance": []any{"crawler"}, "source": []any{"product", strings.Repeat("v", 257)}}
		}, "lakeforge.lfTags.tags.source[1]", "256"},
		{"grant tag value not defined", func(c map[string]any) {
			sub(c, "lfTags")["workflow"] = map[string]any{"key": "maintenance", "value": "cralwer"}
		}, "lakeforge.lfTags.workflow.value", "crawler, manual"},
		{"analyst is an IAM group", func(c map[string]any) {
			sub(c, "personas")["analysts"] = map[string]any{"createRole": true, "groupName": "dl_users", "principalArns": []any{"arn:aws:iam::123456789012:group/dl_users"}}
		}, "lakeforge.personas.analysts.principalArns[0]", "cannot grant permissions to IAM groups"},
		{"admin is not an IAM ARN", func(c map[string]any) {
			sub(c, "personas")["admins"] = map[string]any{"createRole": true, "groupName": "dl_admins", "principalArns": []any{"datalake_admin_user"}}
		}, "lakeforge.personas.admins.principalArns[0]", "user or role ARN"},
		{"no analyst at all", func(c map[string]any) {
			sub(c, "personas")["analysts"] = map[string]any{"createRole": false, "groupName": "", "principalArns": []any{}}
		}, "lakeforge.personas.analysts.principalArns", "createRole is false"},
		{"analysts are only users", func(c map[string]any) {
			sub(c, "personas")["analysts"] = map[string]any{"createRole": false, "groupName": "", "principalArns": []any{"arn:aws:iam::123456789012:user/datalake_user"}}
		}, "lakeforge.personas.analysts.principalArns", "VerifyQuery assumes"},
		{"adopt a group without a name", func(c map[string]any) {
			sub(c, "personas")["admins"] = map[string]any{"createRole": true, "groupName": "", "adoptGroup": true, "principalArns": []any{}}
		}, "lakeforge.personas.admins.adoptGroup", "groupName names the existing group"},
		{"adopt location without a trailing slash", set("import", "adoptLocations", []any{"s3://blog-lake/kthr01"}), "lakeforge.import.adoptLocations[0]", "ending with '/'"},
		{"adopt location with a wildcard", set("import", "adoptLocations", []any{"s3://blog-lake/kthr*/"}), "lakeforge.import.adoptLocations[0]", "without wildcards"},
		{"unsupported engine", set("source", "engine", "oracle"), "lakeforge.source.engine", "postgresql, mysql, mariadb"},
		{"port out of range", set("source", "port", 70000), "lakeforge.source.port", "1 to 65535"},
		{"port zero", set("source", "port", 0), "lakeforge.source.port", "1 to 65535"},
		{"missing secret", set("source", "secretArn", ""), "lakeforge.source.secretArn", "required"},
		{"secret name instead of ARN", set("source", "secretArn", "lakeforge/kthr01"), "lakeforge.source.secretArn", "complete Secrets Manager secret ARN"},
		{"malformed subnet", set("network", "subnetId", "subnet-xyz"), "lakeforge.network.subnetId", "subnet-0123456789abcdef0"},
		{"malformed security group", set("network", "securityGroupIds", []any{"sg-0123456789abcdef0", "default"}), "lakeforge.network.securityGroupIds[1]", "security group id"},
		{"malformed vpc", set("network", "vpcId", "vpc-12"), "lakeforge.network.vpcId", "VPC id"},
		{"S3 URI as prefix", set("lake", "prefix", "s3://bucket/lake/"), "lakeforge.lake.prefix", "without \"s3://\""},
		{"prefix without slash", set("lake", "prefix", "lake"), "lakeforge.lake.prefix", "ending with '/'"},
		{"prefix with double slash", set("lake", "prefix", "lake//raw/"), "lakeforge.lake.prefix", "single '/'"},
		{"unknown import mode", set("import", "mode", "full"), "lakeforge.import.mode", "snapshot"},
		{"incremental without keys", set("import", "mode", "incremental"), "lakeforge.import.bookmarkKeys", "monotonic key"},
		{"bad execution class", set("import", "executionClass", "SPOT"), "lakeforge.import.executionClass", "FLEX"},
		{"merge table without change column", set("import", "tables", map[string]any{"orders": map[string]any{"mode": "merge", "key": []any{"id"}}}), "lakeforge.import.tables.orders.changeColumn", "merge mode needs the column the application sets"},
		{"merge by default, named table without change column", func(c map[string]any) {
			set("import", "mode", "merge")(c)
			set("import", "tables", map[string]any{"orders": map[string]any{"key": []any{"id"}}})(c)
		}, "lakeforge.import.tables.orders.changeColumn", "set import.tables.orders.mode to snapshot"},
		{"unknown table mode", set("import", "tables", map[string]any{"orders": map[string]any{"mode": "cdc"}}), "lakeforge.import.tables.orders.mode", "merge"},
		{"change column on a snapshot table", set("import", "tables", map[string]any{"orders": map[string]any{"changeColumn": "updated_at"}}), "lakeforge.import.tables.orders", "merge mode only"},
		{"change column not a column name", set("import", "tables", map[string]any{"orders": map[string]any{"mode": "merge", "changeColumn": "updated at"}}), "lakeforge.import.tables.orders.changeColumn", "column name"},
		{"incremental table without bookmark key", set("import", "tables", map[string]any{"orders": map[string]any{"mode": "incremental"}}), "lakeforge.import.bookmarkKeys.orders", "monotonic key"},
		{"table name not a lake name", set("import", "tables", map[string]any{"Orders": map[string]any{"mode": "snapshot"}}), "lakeforge.import.tables.Orders", "lower case"},
		{"split reads on MariaDB", func(c map[string]any) {
			set("source", "engine", "mariadb")(c)
			set("source", "port", 3306)(c)
			set("import", "partitioning", map[string]any{"orders": map[string]any{"column": "id", "partitions": 4}})(c)
		}, "lakeforge.import.partitioning.orders.partitions", "one statement"},
		{"negative overlap", set("import", "mergeOverlapMinutes", -1), "lakeforge.import.mergeOverlapMinutes", "0 to 1440"},
		{"orphan age shorter than a day", set("import", "orphanFileAgeHours", 1), "lakeforge.import.orphanFileAgeHours", "24 to"},
		{"misspelt table setting", set("import", "tables", map[string]any{"orders": map[string]any{"mode": "merge", "changeColum": "x"}}), "lakeforge.import.tables.orders.changeColum", `did you mean "changeColumn"`},

		{"bad log retention", func(c map[string]any) { c["logRetentionDays"] = 10 }, "lakeforge.logRetentionDays", "retention"},
		{"bad e-mail", set("notifications", "emails", []any{"not an address"}), "lakeforge.notifications.emails[0]", "e-mail"},
		{"misspelt key", func(c map[string]any) { c["databse"] = map[string]any{} }, "lakeforge.databse", `did you mean "database"`},
		{"wrong JSON type", set("source", "port", "5432"), "lakeforge.source.port", "number"},
	}
	if len(cases) < 15 {
		t.Fatal("keep at least 15 bad configurations")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := shippedContext(t)
			tc.mutate(ctx)
			_, err := FromContext(ctx)
			var probs *Problems
			if !errors.As(err, &probs) {
				t.Fatalf("want *Problems, got %v", err)
			}
			if len(probs.List) != 1 {
				t.Fatalf("want exactly one problem, got:\n%v", err)
			}
			if probs.List[0].Path != tc.field {
				t.Fatalf("problem names %q, want %q (%v)", probs.List[0].Path, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("message %q lacks %q", err.Error(), tc.hint)
			}
			// One line per problem: the header and the problem.
			if n := strings.Count(err.Error(), "\n"); n != 1 {
				t.Fatalf("want 2 lines, got %d: %q", n+1, err.Error())
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	ctx := shippedContext(t)
	set("source", "port", 0)(ctx)
	set("database", "name", "Bad-Name")(ctx)
	set("schedule", "timeZone", "Nowhere/Nothing")(ctx)
	_, err := FromContext(ctx)
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want *Problems, got %v", err)
	}
	got := strings.Join(probs.Paths(), " ")
	want := "lakeforge.database.name lakeforge.source.port lakeforge.schedule.timeZone"
	if got != want {
		t.Fatalf("paths = %s, want %s", got, want)
	}
}

func TestScheduleExpressions(t *testing.T) {
	good := []string{"cron(45 9 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(0 8 L * ? *)", "cron(0 8 ? * 6#3 *)", "rate(1 day)", "rate(12 hours)"}
	for _, e := range good {
		if err := ValidateScheduleExpression(e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	bad := []string{"cron(45 25 * * ? *)", "cron(45 9 32 * ? *)", "cron(45 9 * 13 ? *)", "cron(45 9 * * 8 *)", "rate(1 days)", "rate(0 days)", "rate(2 day)", "at(2026-01-01T00:00:00)", "cron(45 9 ? * ? *)", "cron(45 9 * * ? 1900)"}
	for _, e := range bad {
		if err := ValidateScheduleExpression(e); err == nil {
			t.Errorf("%s: accepted", e)
		}
	}
}

func TestJDBCURLAndIncludePaths(t *testing.T) {
	s := SourceConfig{Engine: EngineMariaDB, Host: "db", Port: 3306, DatabaseName: "shop"}
	if got := s.JDBCURL(); got != "jdbc:mysql://db:3306/shop" {
		t.Errorf("JDBCURL = %s", got)
	}
	if got := s.EffectiveIncludePaths(); len(got) != 1 || got[0] != "shop/%" {
		t.Errorf("include paths = %v", got)
	}
	s.Engine = EnginePostgreSQL
	if got := s.EffectiveIncludePaths(); got[0] != "shop/%/%" {
		t.Errorf("include paths = %v", got)
	}
}

func set(section, key string, value any) func(map[string]any) {
	return func(c map[string]any) { sub(c, section)[key] = value }
}

func sub(c map[string]any, section string) map[string]any {
	m, ok := c[section].(map[string]any)
	if !ok {
		m = map[string]any{}
		c[section] = m
	}
	return m
}
