package stack

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// FreshnessAllowance is added to the longest gap between two scheduled
// starts before data counts as stale: one run may take longer than the
// one before it.
const FreshnessAllowance = 2

// maxAlarmHours is the longest window an alarm can evaluate: Period x
// EvaluationPeriods is at most 604,800 s for periods of an hour or more
// (PutMetricAlarm).
const maxAlarmHours = 7 * 24

// MonitoringProps configures Monitoring.
type MonitoringProps struct {
	// StateMachine is the daily pipeline; its failed, timed-out and
	// aborted executions raise alarms.
	StateMachine awsstepfunctions.IStateMachine
	// FailureTopic receives every alarm.
	FailureTopic awssns.ITopic
	// StaleAfterHours raises the freshness alarm after that many hours
	// without a successful execution; 0 for none. Schedule describes the
	// schedule in the alarm's text.
	StaleAfterHours int
	Schedule        ScheduleProps
	// EventRules invoke EventFunction (import-events), which invokes
	// TagOutput for runs outside the pipeline: failures there reach no
	// execution, so they raise alarms of their own.
	EventRules               []awsevents.IRule
	EventFunction, TagOutput awslambda.IFunction
	// DashboardName names the dashboard of DatabaseName's pipeline.
	DashboardName, DatabaseName string
}

// Monitoring alarms on failed, timed-out and aborted executions, on stale
// data and on failures of the import's event handling, and draws the
// operator's dashboard. NotifyFailure already publishes a detailed notice;
// the alarms also catch executions that ended without reaching it, and a
// schedule that silently stopped, which no execution alarm can see.
type Monitoring struct {
	constructs.Construct
	// FreshnessAlarm is nil when the schedule is off or too rare to watch.
	FreshnessAlarm awscloudwatch.Alarm
	Dashboard      awscloudwatch.Dashboard
}

// NewMonitoring makes the alarms and the dashboard.
func NewMonitoring(scope constructs.Construct, id string, props *MonitoringProps) *Monitoring {
	c := constructs.NewConstruct(scope, jsii.String(id))
	sm := props.StateMachine
	period := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	alarm := func(id, description string, metric awscloudwatch.IMetric) {
		alarmOnTopic(c, props.FailureTopic, id, description, metric)
	}
	for _, a := range []struct {
		id, what string
		metric   awscloudwatch.Metric
	}{
		{"PipelineFailedAlarm", "failed", sm.MetricFailed(period)},
		{"PipelineTimedOutAlarm", "timed out", sm.MetricTimedOut(period)},
		{"PipelineAbortedAlarm", "aborted", sm.MetricAborted(period)},
	} {
		alarm(a.id, "lakeforge: a daily pipeline execution "+a.what+"; see the state machine's executions in the Step Functions console", a.metric)
	}

	// Outside the state machine nothing else reports a failure of the
	// event handling: an event EventBridge could not deliver, or one Lambda
	// dropped after its asynchronous retries (import-events itself, or the
	// TagOutput it invokes for runs started outside the pipeline).
	for i, rule := range props.EventRules {
		alarm("ImportEventsUndeliveredAlarm"+strconv.Itoa(i), "lakeforge: EventBridge could not invoke import-events (rule "+*rule.Node().Id()+"); the pipeline's wait ends at the next fallback check or its timeout", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/Events"),
			MetricName:    jsii.String("FailedInvocations"),
			DimensionsMap: &map[string]*string{"RuleName": rule.RuleName()},
			Period:        period.Period,
			Statistic:     period.Statistic,
		}))
	}
	alarm("ImportEventsDroppedAlarm", "lakeforge: import-events failed on every retry; its log group says why", props.EventFunction.Metric(jsii.String("AsyncEventsDropped"), period))
	alarm("PostImportTaggingDroppedAlarm", "lakeforge: TagOutput failed on every retry after an import that ended outside the pipeline; the lake database may lack the analyst tag until the next daily run", props.TagOutput.Metric(jsii.String("AsyncEventsDropped"), period))

	m := &Monitoring{Construct: c}
	m.FreshnessAlarm = newFreshnessAlarm(c, props)
	m.Dashboard = newDashboard(c, props, m.FreshnessAlarm)
	return m
}

// StaleAfterHours is how old the data may get before the freshness alarm
// fires: the longest gap between two starts of the schedule plus
// FreshnessAllowance (26 hours for a daily schedule). 0 when the schedule
// is off or its gaps exceed what an alarm can watch (7 days).
func StaleAfterHours(expression string, enabled bool) int {
	if !enabled {
		return 0
	}
	gap := scheduleGapHours(expression)
	if gap <= 0 || gap+FreshnessAllowance > maxAlarmHours {
		return 0
	}
	return gap + FreshnessAllowance
}

// scheduleGapHours is the longest gap, in whole hours (at least 1), between
// two starts of an EventBridge Scheduler expression; 0 when unknown.
func scheduleGapHours(expr string) int {
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"))
		if len(f) != 2 {
			return 0
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return 0
		}
		switch strings.TrimSuffix(f[1], "s") {
		case "minute":
			return max(1, int(math.Ceil(float64(n)/60)))
		case "hour":
			return n
		case "day":
			return 24 * n
		}
		return 0
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
		if len(f) != 6 {
			return 0
		}
		hours, dom, month, dow := f[1], f[2], f[3], f[4]
		if month != "*" || (dom != "*" && dom != "?") {
			return 0 // monthly or rarer: longer than an alarm can watch
		}
		hourGap := cyclicGap(expand(hours, 0, 23), 24)
		if hourGap == 0 {
			return 0
		}
		if dow == "*" || dow == "?" {
			return hourGap
		}
		days := expand(strings.NewReplacer("SUN", "1", "MON", "2", "TUE", "3", "WED", "4", "THU", "5", "FRI", "6", "SAT", "7").Replace(dow), 1, 7)
		dayGap := cyclicGap(days, 7)
		if dayGap == 0 {
			return 0
		}
		// From the last start on one allowed day to the first on the next.
		first, last := slices.Min(expand(hours, 0, 23)), slices.Max(expand(hours, 0, 23))
		return max(hourGap, (dayGap-1)*24+24-last+first)
	}
	return 0
}

// expand turns a cron field ("*", "9", "1,13", "8-18", "0/6", "*/4") into
// its sorted values between lo and hi; nil when it cannot.
func expand(field string, lo, hi int) []int {
	var out []int
	for _, part := range strings.Split(field, ",") {
		step := 1
		if base, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n <= 0 {
				return nil
			}
			part, step = base, n
		}
		from, to := lo, hi
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			x, err1 := strconv.Atoi(a)
			y, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil {
				return nil
			}
			from, to = x, y
		default:
			x, err := strconv.Atoi(part)
			if err != nil {
				return nil
			}
			from = x
			if step == 1 {
				to = x
			}
		}
		for v := from; v <= to && v <= hi; v += step {
			if v >= lo {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// cyclicGap is the longest distance between consecutive values on a cycle.
func cyclicGap(values []int, cycle int) int {
	if len(values) == 0 {
		return 0
	}
	gap := values[0] + cycle - values[len(values)-1]
	for i := 1; i < len(values); i++ {
		gap = max(gap, values[i]-values[i-1])
	}
	return gap
}

// addFreshnessAlarm fires when no execution succeeded (the last state of a
// successful execution is VerifyQuery, so the analyst saw fresh data) for
// longer than the schedule allows. Hourly periods with missing data as
// breaching: only StaleAfterHours consecutive hours without a success
// raise it, which is what a stopped schedule looks like.
func newFreshnessAlarm(scope constructs.Construct, props *MonitoringProps) awscloudwatch.Alarm {
	hours, sched := props.StaleAfterHours, props.Schedule
	if hours == 0 {
		return nil
	}
	alarm := awscloudwatch.NewAlarm(scope, jsii.String("DataFreshnessAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("lakeforge: no pipeline execution succeeded for %d hours (schedule %s in %s allows %d); the lake's data is stale. Check that the schedule %s is enabled and look at the last executions.",
			hours, sched.Expression, sched.TimeZone, hours, sched.Name)),
		Metric:             props.StateMachine.MetricSucceeded(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Hours(jsii.Number(1)), Statistic: jsii.String("Sum")}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(float64(hours)),
		DatapointsToAlarm:  jsii.Number(float64(hours)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(props.FailureTopic))
	return alarm
}

// addDashboard draws runs, run duration, rows imported per table, the
// verification result and data freshness.
func newDashboard(scope constructs.Construct, props *MonitoringProps, fresh awscloudwatch.Alarm) awscloudwatch.Dashboard {
	sm := props.StateMachine
	day := awscdk.Duration_Days(jsii.Number(1))
	db := props.DatabaseName
	rows := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,Database,Table} MetricName="ImportedRows" Database="%s"', 'Maximum', 86400)`, MetricNamespace, db)),
		Label:      jsii.String("rows imported"),
		Period:     day,
	})
	failing := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(MetricNamespace), MetricName: jsii.String("TablesFailingVerification"),
		DimensionsMap: &map[string]*string{"Database": jsii.String(db)}, Period: day, Statistic: jsii.String("Maximum"),
		Label: jsii.String("tables failing verification"),
	})
	freshness := []awscloudwatch.IWidget{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Markdown: jsii.String("### Data freshness\nThe schedule is off or too rare to watch: no freshness alarm."),
		Width:    jsii.Number(8), Height: jsii.Number(6),
	})}
	if fresh != nil {
		freshness = []awscloudwatch.IWidget{awscloudwatch.NewAlarmWidget(&awscloudwatch.AlarmWidgetProps{
			Title: jsii.String(fmt.Sprintf("Data freshness: successful runs per hour (alarm after %d h without one)", props.StaleAfterHours)),
			Alarm: fresh, Width: jsii.Number(8), Height: jsii.Number(6),
		})}
	}
	return awscloudwatch.NewDashboard(scope, jsii.String("PipelineDashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(props.DashboardName),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(14)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
					Title: jsii.String("Runs per day"), Width: jsii.Number(8), Height: jsii.Number(6), Stacked: jsii.Bool(true),
					Left: &[]awscloudwatch.IMetric{
						sm.MetricSucceeded(&awscloudwatch.MetricOptions{Period: day, Statistic: jsii.String("Sum"), Label: jsii.String("succeeded")}),
						sm.MetricFailed(&awscloudwatch.MetricOptions{Period: day, Statistic: jsii.String("Sum"), Label: jsii.String("failed")}),
						sm.MetricTimedOut(&awscloudwatch.MetricOptions{Period: day, Statistic: jsii.String("Sum"), Label: jsii.String("timed out")}),
					},
				}),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
					Title: jsii.String("Run duration (ms)"), Width: jsii.Number(8), Height: jsii.Number(6),
					Left: &[]awscloudwatch.IMetric{
						sm.MetricTime(&awscloudwatch.MetricOptions{Period: day, Statistic: jsii.String("Maximum"), Label: jsii.String("longest run")}),
					},
				}),
				freshness[0],
			},
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
					Title: jsii.String("Rows imported per table (" + db + ")"), Width: jsii.Number(16), Height: jsii.Number(6),
					Left: &[]awscloudwatch.IMetric{rows},
				}),
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
					Title: jsii.String("Verification: tables whose Athena count differs from the import's"), Width: jsii.Number(8), Height: jsii.Number(6),
					Left: &[]awscloudwatch.IMetric{failing},
				}),
			},
		},
	})
}

// alarmOnTopic notifies topic whenever metric (a count of failures) is at
// least 1 in a period.
func alarmOnTopic(scope constructs.Construct, topic awssns.ITopic, id, description string, metric awscloudwatch.IMetric) {
	alarm := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
}
