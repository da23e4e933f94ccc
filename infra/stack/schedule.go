package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
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
