package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// addSchedule makes the daily EventBridge Scheduler schedule that starts the
// pipeline, with a role allowed only to start that state machine.
func (s *Stack) addSchedule(sm awsstepfunctions.StateMachine) {
	role := awsiam.NewRole(s.Stack, jsii.String("ScheduleRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			// Only schedules of this account may use the role.
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}),
		Description: jsii.String("lakeforge schedule: starts the daily pipeline"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("StartPipeline"),
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: &[]*string{sm.StateMachineArn()},
	}))
	state := "ENABLED"
	if !s.Config.Schedule.Enabled {
		state = "DISABLED"
	}
	awsscheduler.NewCfnSchedule(s.Stack, jsii.String("DailySchedule"), &awsscheduler.CfnScheduleProps{
		Name:                       jsii.String(s.Config.StackName + "-daily"),
		Description:                jsii.String("lakeforge: starts the daily pipeline"),
		ScheduleExpression:         jsii.String(s.Config.Schedule.Expression),
		ScheduleExpressionTimezone: jsii.String(s.Config.Schedule.TimeZone),
		State:                      jsii.String(state),
		FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     sm.StateMachineArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(`{"trigger":"schedule"}`),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(3),
				MaximumEventAgeInSeconds: jsii.Number(3600),
			},
		},
	})
}

// addPostImportTagging runs TagOutput whenever the output crawler
// succeeds, so workflow runs started outside the pipeline (from the Glue
// console) get their new tables tagged too.
func (s *Stack) addPostImportTagging(wf *ImportWorkflow) {
	tag, ok := s.Steps["tag-output"]
	if !ok {
		awscdk.Annotations_Of(s.Stack).AddError(jsii.String("the post-import tagging rule needs the tag-output step function: add functions/tag-output and its s.addStep"))
		return
	}
	rule := awsevents.NewRule(s.Stack, jsii.String("OutputCrawlerSucceeded"), &awsevents.RuleProps{
		Description: jsii.String("lakeforge: tag the lake database after every successful output crawl"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.glue"),
			DetailType: jsii.Strings("Glue Crawler State Change"),
			Detail: &map[string]any{
				"crawlerName": []string{s.Config.Names().OutputCrawler},
				"state":       []string{"Succeeded"},
			},
		},
	})
	rule.AddTarget(awseventstargets.NewLambdaFunction(tag.Function(), &awseventstargets.LambdaFunctionProps{
		RetryAttempts: jsii.Number(4),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
	}))
	rule.Node().AddDependency(wf.Job)

	// Outside the state machine nothing else reports a tagging failure: an
	// event EventBridge could not deliver, or one Lambda dropped after its
	// asynchronous retries, raises an alarm on the failure topic.
	period := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	for _, a := range []struct {
		id, what string
		metric   awscloudwatch.IMetric
	}{
		{"PostImportTaggingUndeliveredAlarm", "EventBridge could not invoke TagOutput after a successful lake crawl", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/Events"),
			MetricName:    jsii.String("FailedInvocations"),
			DimensionsMap: &map[string]*string{"RuleName": rule.RuleName()},
			Period:        period.Period,
			Statistic:     period.Statistic,
		})},
		{"PostImportTaggingDroppedAlarm", "TagOutput failed on every retry after a successful lake crawl; its log group says why", tag.Function().Metric(jsii.String("AsyncEventsDropped"), period)},
	} {
		s.alarmOnFailureTopic(a.id, "lakeforge: "+a.what+"; the lake database may lack the analyst tag until the next daily run", a.metric)
	}
}
