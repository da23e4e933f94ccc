package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// addMonitoring alarms on failed and timed-out executions. NotifyFailure
// already publishes a detailed notice; the alarms also catch executions
// that ended without reaching it (a failure in NotifyFailure, an aborted
// or timed-out execution).
func (s *Stack) addMonitoring(sm awsstepfunctions.StateMachine) {
	period := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	for _, a := range []struct {
		id, what string
		metric   awscloudwatch.Metric
	}{
		{"PipelineFailedAlarm", "failed", sm.MetricFailed(period)},
		{"PipelineTimedOutAlarm", "timed out", sm.MetricTimedOut(period)},
		{"PipelineAbortedAlarm", "aborted", sm.MetricAborted(period)},
	} {
		s.alarmOnFailureTopic(a.id, "lakeforge: a daily pipeline execution "+a.what+"; see the state machine's executions in the Step Functions console", a.metric)
	}
}

// alarmOnFailureTopic notifies the failure topic whenever metric (a count
// of failures) is at least 1 in a period.
func (s *Stack) alarmOnFailureTopic(id, description string, metric awscloudwatch.IMetric) {
	alarm := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(s.FailureTopic))
}
