package config

import (
	"strings"
	"testing"
)

// The shortest gap between two starts, as EventBridge Scheduler runs the
// expression: every minute and hour of a cron, across midnight and across
// the days of the week or month it allows.
func TestShortestGapMinutes(t *testing.T) {
	for expr, want := range map[string]int{
		"rate(1 minute)":               1,
		"rate(90 minutes)":             90,
		"rate(1 hour)":                 60,
		"rate(12 hours)":               720,
		"rate(1 day)":                  1440,
		"rate(7 days)":                 10080,
		"cron(45 9 * * ? *)":           1440,
		"cron(0/15 * * * ? *)":         15,
		"cron(0 9,10 * * ? *)":         60,
		"cron(0 0,23 * * ? *)":         60, // 23:00 to 00:00 the next day
		"cron(30 1,13 * * ? *)":        720,
		"cron(0 8-18/2 ? * MON-FRI *)": 120,
		"cron(0 9 ? * MON,WED *)":      2 * 1440,
		"cron(0 9 ? * SUN *)":          7 * 1440,
		"cron(0 9 1,15 * ? *)":         14 * 1440, // 15th to the 1st of a 28-day month
		"cron(0 23 ? * FRI,SAT *)":     1440,
		"cron(0 9 L * ? *)":            0, // last day of the month: not told from the fields
		"cron(0 9 ? * 2#1 *)":          0,
		"cron(0 9 * JAN ? *)":          0,
		"not an expression":            0,
	} {
		if got := (ScheduleConfig{Expression: expr}).ShortestGapMinutes(); got != want {
			t.Errorf("%s: shortest gap %d minutes, want %d", expr, got, want)
		}
	}
}

// Day names that contain a special character's letter (WED holds W) are
// days, not the nearest-weekday W: issue 17 found cron(0 9 ? * MON,WED *)
// refused.
func TestDayNamesAreNotSpecialCharacters(t *testing.T) {
	for _, expr := range []string{"cron(0 9 ? * MON,WED *)", "cron(0 9 ? * WED *)", "cron(0 9 ? * MON-WED *)"} {
		if err := ValidateScheduleExpression(expr); err != nil {
			t.Errorf("%s refused: %v", expr, err)
		}
	}
	if err := ValidateScheduleExpression("cron(0 9 LW * ? *)"); err != nil {
		t.Errorf("LW (last weekday of the month) refused: %v", err)
	}
	if err := ValidateScheduleExpression("cron(0 9 ? * 3#6 *)"); err == nil {
		t.Error("3#6 accepted; the week number is 1 to 5")
	}
}

// A schedule that starts runs closer together than an import may take
// (import.jobTimeoutMinutes) is refused at synth, naming the expression,
// the gap and the timeout; as far apart as the timeout is fine.
func TestScheduleLeavesTimeForTheImport(t *testing.T) {
	for _, c := range []struct {
		expr    string
		job     int
		enabled bool
		gap     string // "" when accepted
	}{
		{"rate(1 hour)", 120, true, "60 minutes"},
		{"cron(0 0/1 * * ? *)", 120, true, "60 minutes"},
		{"cron(0 0,23 * * ? *)", 90, true, "60 minutes"},
		{"rate(2 hours)", 120, true, ""},
		{"rate(1 hour)", 60, true, ""},
		{"cron(45 9 * * ? *)", 1440, true, ""},
		{"cron(0 9,21 * * ? *)", 721, true, "720 minutes"},
		{"cron(0 9,21 * * ? *)", 720, true, ""},
		{"rate(1 hour)", 120, false, ""}, // no schedule runs
	} {
		ctx := shippedContext(t)
		set("schedule", "expression", c.expr)(ctx)
		set("schedule", "enabled", c.enabled)(ctx)
		set("import", "jobTimeoutMinutes", c.job)(ctx)
		set("import", "waitTimeoutMinutes", 1440)(ctx)
		_, err := FromContext(ctx)
		if c.gap == "" {
			if err != nil {
				t.Errorf("%s with jobTimeoutMinutes %d: %v", c.expr, c.job, err)
			}
			continue
		}
		expectOne(t, err, "lakeforge.schedule.expression", c.gap, "import.jobTimeoutMinutes", "cron(45 9 * * ? *)")
	}
}

// The same principal twice in one persona, or in both, is refused at the
// second place it appears.
func TestPrincipalsAppearOnce(t *testing.T) {
	admin, analyst := "arn:aws:iam::123456789012:role/admin", "arn:aws:iam::123456789012:role/analyst"
	ctx := shippedContext(t)
	sub(ctx, "personas")["admins"] = map[string]any{"createRole": true, "groupName": "dl_admins", "principalArns": []any{admin, admin}}
	_, err := FromContext(ctx)
	expectOne(t, err, "lakeforge.personas.admins.principalArns[1]", "each principal once", "personas.admins.principalArns[0]")

	ctx = shippedContext(t)
	sub(ctx, "personas")["analysts"] = map[string]any{"createRole": true, "groupName": "dl_users", "principalArns": []any{analyst, analyst}}
	_, err = FromContext(ctx)
	expectOne(t, err, "lakeforge.personas.analysts.principalArns[1]", "each principal once")

	ctx = shippedContext(t)
	sub(ctx, "personas")["admins"] = map[string]any{"createRole": true, "groupName": "dl_admins", "principalArns": []any{admin}}
	sub(ctx, "personas")["analysts"] = map[string]any{"createRole": true, "groupName": "dl_users", "principalArns": []any{analyst, admin}}
	_, err = FromContext(ctx)
	expectOne(t, err, "lakeforge.personas.analysts.principalArns[1]", "one persona only", "personas.admins.principalArns[0]")
}

// An administrator of another account than the one the stack deploys to
// is refused when that account is known (CDK_DEFAULT_ACCOUNT).
func TestAdministratorsOfAnotherAccountAreRefused(t *testing.T) {
	ctx := shippedContext(t)
	sub(ctx, "personas")["admins"] = map[string]any{"createRole": true, "groupName": "dl_admins",
		"principalArns": []any{"arn:aws:iam::210987654321:role/admin", "arn:aws:iam::111122223333:user/partner"}}
	sub(ctx, "personas")["analysts"] = map[string]any{"createRole": true, "groupName": "dl_users", "principalArns": []any{"arn:aws:iam::111122223333:role/partner-analyst"}}
	cfg, err := FromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	expectOne(t, cfg.CheckAccount("210987654321"), "lakeforge.personas.admins.principalArns[1]", "111122223333", "210987654321", "CDK_DEFAULT_ACCOUNT")
	if err := cfg.CheckAccount(""); err != nil {
		t.Errorf("an unknown account checks nothing: %v", err)
	}
	if err := cfg.CheckAccount("111122223333"); err == nil || !strings.Contains(err.Error(), "principalArns[0]") {
		t.Errorf("from 111122223333 the first administrator is the foreign one: %v", err)
	}
}

// A period next to a hyphen ("my-.lake", "my.-lake") is refused: each
// label between periods begins and ends with a letter or digit.
func TestBucketNameWithAPeriodNextToAHyphen(t *testing.T) {
	for _, name := range []string{"my-.lake", "my.-lake", "a.b-.c"} {
		ctx := shippedContext(t)
		set("lake", "bucketName", name)(ctx)
		_, err := FromContext(ctx)
		expectOne(t, err, "lakeforge.lake.bucketName", "period next to a hyphen")
	}
}

// lakeFormation.accountSettings defaults to changing nothing account-wide
// but full table access (issue 17 item 10); "manage" and "leave" are
// explicit choices.
func TestAccountSettingsDefaultToImportOnly(t *testing.T) {
	ctx := shippedContext(t)
	delete(ctx, "lakeFormation")
	cfg, err := FromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LakeFormation.AccountSettings != "import-only" {
		t.Fatalf("default accountSettings = %q, want import-only", cfg.LakeFormation.AccountSettings)
	}
	for _, v := range []string{"import-only", "manage", "leave"} {
		ctx := shippedContext(t)
		set("lakeFormation", "accountSettings", v)(ctx)
		if _, err := FromContext(ctx); err != nil {
			t.Errorf("%s refused: %v", v, err)
		}
	}
}
