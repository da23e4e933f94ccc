package stack

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/lakeformation"
)

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
	// Governance raises an alarm when TagOutput reports lake columns no
	// rule classifies.
	Governance bool
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

	if props.Governance {
		// Columns no rule classifies are hidden from every persona until
		// one does: the run's TagOutput output and `lakeforge status` name
		// each column with the line that classifies it.
		alarm("UnclassifiedColumnsAlarm", "lakeforge: the lake has columns no governance rule classifies; they are hidden from every persona until classified: run `lakeforge status` for each column and the configuration line that classifies it", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String(MetricNamespace),
			MetricName:    jsii.String(lakeformation.UnclassifiedColumnsMetric),
			DimensionsMap: &map[string]*string{"Database": jsii.String(props.DatabaseName)},
			Statistic:     jsii.String("Maximum"),
			Period:        awscdk.Duration_Hours(jsii.Number(1)),
		}))
	}

	m := &Monitoring{Construct: c}
	m.FreshnessAlarm = newFreshnessAlarm(c, props)
	m.Dashboard = newDashboard(c, props, m.FreshnessAlarm)
	return m
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
