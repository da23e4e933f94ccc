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
		if strings.ContainsAny(base, "LW#") {
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
