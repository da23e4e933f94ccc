package config

import "testing"

// The freshness threshold comes from the schedule: the longest gap between
// two starts plus 2 hours (issue 10: "more than 26 hours for a daily run").
func TestStaleAfterHoursFollowsTheSchedule(t *testing.T) {
	for _, c := range []struct {
		expr    string
		enabled bool
		want    int
	}{
		{"cron(45 9 * * ? *)", true, 26},       // daily
		{"cron(0 */6 * * ? *)", true, 8},       // every 6 hours
		{"cron(0 8,20 * * ? *)", true, 14},     // twice a day, 12 h apart
		{"cron(0 6,9 * * ? *)", true, 23},      // 06:00 and 09:00: the night gap is 21 h
		{"rate(12 hours)", true, 14},           //
		{"rate(1 day)", true, 26},              //
		{"rate(30 minutes)", true, 3},          // at least an hour
		{"cron(45 9 ? * MON-FRI *)", true, 74}, // Friday 09:45 to Monday 09:45
		{"cron(0 3 ? * SUN *)", true, 170},     // weekly: 168 + 2 exceeds what an alarm can watch
		{"cron(0 3 1 * ? *)", true, 0},         // monthly
		{"cron(45 9 * * ? *)", false, 0},       // schedule off: nothing to watch
		{"at(2026-03-10T09:45:00)", true, 0},   // one time
	} {
		got := (ScheduleConfig{Expression: c.expr, Enabled: c.enabled}).StaleAfterHours()
		want := c.want
		if want > 7*24 {
			want = 0
		}
		if got != want {
			t.Errorf("StaleAfterHours(%q, %v) = %d, want %d", c.expr, c.enabled, got, want)
		}
	}
}
