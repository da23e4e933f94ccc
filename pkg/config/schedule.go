package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	cronExpr = regexp.MustCompile(`^cron\((.*)\)$`)
)

type cronField struct {
	name     string
	min, max int
	names    []string // symbolic values (JAN..DEC, SUN..SAT), index 0 = min
	extra    string   // special characters allowed besides , - * /
}

// The six fields of an EventBridge Scheduler cron expression.
var cronFields = []cronField{
	{name: "minutes", min: 0, max: 59},
	{name: "hours", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31, extra: "?LW"},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, extra: "?L#"},
	{name: "year", min: 1970, max: 2199},
}

// ValidateScheduleExpression checks an EventBridge Scheduler recurring
// expression: cron(minutes hours day-of-month month day-of-week year) or
// rate(value unit). One-time at(...) schedules are refused: the pipeline is
// meant to run repeatedly.
func ValidateScheduleExpression(expr string) error {
	if m := rateExpr.FindStringSubmatch(expr); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n < 1 {
			return fmt.Errorf("a rate of at least 1, e.g. rate(1 day)")
		}
		if (n == 1) != !strings.HasSuffix(m[2], "s") {
			return fmt.Errorf("singular unit for 1 and plural otherwise, e.g. rate(1 day) or rate(12 hours)")
		}
		return nil
	}
	m := cronExpr.FindStringSubmatch(expr)
	if m == nil {
		return fmt.Errorf("cron(minutes hours day-of-month month day-of-week year) or rate(value unit), e.g. cron(45 9 * * ? *) for 09:45 every day")
	}
	fields := strings.Fields(m[1])
	if len(fields) != 6 {
		return fmt.Errorf("a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), this one has %d; e.g. cron(45 9 * * ? *)", len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return err
		}
	}
	dom, dow := fields[2], fields[4]
	if (dom == "?") == (dow == "?") {
		return fmt.Errorf("exactly one of day-of-month and day-of-week must be '?', e.g. cron(45 9 * * ? *)")
	}
	return nil
}

func (f cronField) check(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("cron %s field %q: %s", f.name, s, why)
	}
	if s == "*" || (s == "?" && strings.Contains(f.extra, "?")) {
		return nil
	}
	if s == "?" {
		return bad("'?' is only allowed in day-of-month or day-of-week")
	}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			return bad("empty list element")
		}
		base, step, hasStep := strings.Cut(part, "/")
		if hasStep {
			if n, err := strconv.Atoi(step); err != nil || n < 1 {
				return bad("the step after '/' must be a positive number")
			}
		}
		if base == "*" {
			continue
		}
		// WED is a day, not W: names are tried before the specials.
		if strings.ContainsAny(base, "LW#") && !f.isValueOrRange(base) {
			if err := f.checkSpecial(base); err != nil {
				return bad(err.Error())
			}
			continue
		}
		lo, hi, isRange := strings.Cut(base, "-")
		if err := f.checkValue(lo); err != nil {
			return bad(err.Error())
		}
		if isRange {
			if err := f.checkValue(hi); err != nil {
				return bad(err.Error())
			}
		}
	}
	return nil
}

// isValueOrRange says whether s is one value or a range of two.
func (f cronField) isValueOrRange(s string) bool {
	lo, hi, isRange := strings.Cut(s, "-")
	return f.checkValue(lo) == nil && (!isRange || f.checkValue(hi) == nil)
}

func (f cronField) checkSpecial(s string) error {
	switch {
	case f.name == "day-of-month" && (s == "L" || s == "LW"):
		return nil
	case f.name == "day-of-month" && strings.HasSuffix(s, "W"):
		return f.checkValue(strings.TrimSuffix(s, "W"))
	case f.name == "day-of-week" && s == "L":
		return nil
	case f.name == "day-of-week" && strings.HasSuffix(s, "L"):
		return f.checkValue(strings.TrimSuffix(s, "L"))
	case f.name == "day-of-week" && strings.Contains(s, "#"):
		d, n, _ := strings.Cut(s, "#")
		if k, err := strconv.Atoi(n); err != nil || k < 1 || k > 5 {
			return fmt.Errorf("the number after '#' must be 1 to 5")
		}
		return f.checkValue(d)
	}
	return fmt.Errorf("'L', 'W' and '#' are only allowed as in the EventBridge Scheduler cron reference")
}

func (f cronField) checkValue(s string) error {
	for _, n := range f.names {
		if strings.EqualFold(s, n) {
			return nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		allowed := fmt.Sprintf("%d-%d", f.min, f.max)
		if len(f.names) > 0 {
			allowed += " or " + f.names[0] + "-" + f.names[len(f.names)-1]
		}
		return fmt.Errorf("values must be %s", allowed)
	}
	return nil
}

// ShortestGapMinutes is the shortest time, in minutes, between two starts
// of the schedule's expression; 0 when it cannot be told from the fields
// alone (L, W or # days, a restricted month or year), or the expression
// is invalid.
func (s ScheduleConfig) ShortestGapMinutes() int { return s.gapMinutes(false) }

// LongestGapMinutes is the longest time, in minutes, between two starts
// of the schedule's expression; 0 when it cannot be told from the fields
// alone (L, W or # days, days of the month, a restricted month), or the
// expression is invalid.
func (s ScheduleConfig) LongestGapMinutes() int { return s.gapMinutes(true) }

// FreshnessAllowanceHours is added to the longest gap between two
// scheduled starts before data counts as stale: one run may take longer
// than the one before it.
const FreshnessAllowanceHours = 2

// maxAlarmHours is the longest window an alarm can evaluate: Period x
// EvaluationPeriods is at most 604,800 s for periods of an hour or more
// (CloudWatch PutMetricAlarm).
const maxAlarmHours = 7 * 24

// StaleAfterHours is how old the data may get before the freshness alarm
// fires: the longest gap between two starts in whole hours plus
// FreshnessAllowanceHours (26 hours for a daily schedule). 0 when the
// schedule is off or its gaps exceed what an alarm can watch (7 days).
func (s ScheduleConfig) StaleAfterHours() int {
	if !s.Enabled {
		return 0
	}
	gap := s.LongestGapMinutes()
	if gap <= 0 {
		return 0
	}
	hours := (gap+59)/60 + FreshnessAllowanceHours
	if hours > maxAlarmHours {
		return 0
	}
	return hours
}

// gapMinutes is the shortest or the longest time between two starts.
func (s ScheduleConfig) gapMinutes(longest bool) int {
	expr := s.Expression
	if ValidateScheduleExpression(expr) != nil {
		return 0
	}
	if m := rateExpr.FindStringSubmatch(expr); m != nil {
		n, _ := strconv.Atoi(m[1])
		switch strings.TrimSuffix(m[2], "s") {
		case "minute":
			return n
		case "hour":
			return n * 60
		default:
			return n * 24 * 60
		}
	}
	f := strings.Fields(cronExpr.FindStringSubmatch(expr)[1])
	minutes, hours, dom, month, dow, year := f[0], f[1], f[2], f[3], f[4], f[5]
	if month != "*" || strings.ContainsAny(dom, "LW") || strings.ContainsAny(dow, "L#") {
		return 0
	}
	if (!longest && year != "*") || (longest && dom != "*" && dom != "?") {
		// The shortest gap of a few years, or the longest of a monthly
		// or rarer schedule: nothing an alarm or a check can use.
		return 0
	}
	ms, hs := cronValues(minutes, 0, 59, nil), cronValues(hours, 0, 23, nil)
	if ms == nil || hs == nil {
		return 0
	}
	var day []int // the minutes of the day a run starts at, ascending
	for _, h := range hs {
		for _, m := range ms {
			day = append(day, h*60+m)
		}
	}
	better := func(d, best int) bool { return best == 0 || (longest && d > best) || (!longest && d < best) }
	gap := 0
	for i := 1; i < len(day); i++ {
		if d := day[i] - day[i-1]; better(d, gap) {
			gap = d
		}
	}
	// From the last start of one allowed day to the first of the next.
	var dayGap int
	switch {
	case dow == "?" && dom == "*", dom == "?" && dow == "*":
		dayGap = 1
	case dom == "?":
		days := cronValues(dow, 1, 7, cronFields[4].names)
		if days == nil {
			return 0
		}
		dayGap = cyclicDistance(days, 7, longest)
	default:
		days := cronValues(dom, 1, 31, nil)
		if days == nil {
			return 0
		}
		// Across the end of a month, the shortest month (28 days) gives
		// the shortest distance.
		dayGap = cyclicDistance(days, 28, longest)
	}
	if across := dayGap*24*60 - day[len(day)-1] + day[0]; better(across, gap) {
		gap = across
	}
	return gap
}

// cronValues expands one cron field ("*", "9", "1,13", "8-18", "0/6",
// "*/4", "MON-FRI") into its sorted distinct values from lo to hi; nil
// when it cannot.
func cronValues(field string, lo, hi int, names []string) []int {
	value := func(s string) (int, bool) {
		for i, n := range names {
			if strings.EqualFold(s, n) {
				return lo + i, true
			}
		}
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= lo && n <= hi
	}
	set := map[int]bool{}
	for _, part := range strings.Split(field, ",") {
		base, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil
			}
			step = n
		}
		from, to := lo, hi
		switch a, b, isRange := strings.Cut(base, "-"); {
		case base == "*":
		case isRange:
			x, ok1 := value(a)
			y, ok2 := value(b)
			if !ok1 || !ok2 || y < x {
				return nil
			}
			from, to = x, y
		default:
			x, ok := value(base)
			if !ok {
				return nil
			}
			from = x
			if !hasStep {
				to = x
			}
		}
		for n := from; n <= to; n += step {
			set[n] = true
		}
	}
	var out []int
	for n := lo; n <= hi; n++ {
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}

// cyclicDistance is the shortest (or the longest) distance between two
// consecutive days on a cycle of length period (a single day: the whole
// period).
func cyclicDistance(days []int, period int, longest bool) int {
	best := period - days[len(days)-1] + days[0]
	for i := 1; i < len(days); i++ {
		if d := days[i] - days[i-1]; (longest && d > best) || (!longest && d < best) {
			best = d
		}
	}
	return best
}
