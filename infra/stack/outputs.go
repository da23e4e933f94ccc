package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// addOutputs exports what an operator needs after `make deploy`.
func (s *Stack) addOutputs() {
	out := func(id string, value *string, desc string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("LakeBucketName", s.LakeBucket.BucketName(), "Data lake bucket (kept on teardown)")
	out("AthenaResultsBucketName", s.ResultsBucket.BucketName(), "Athena query results bucket")
	out("AthenaWorkgroup", jsii.String(s.Config.Athena.WorkgroupName), "Athena workgroup for analysts")
	out("StateMachineArn", s.StateMachine.StateMachineArn(), "The daily pipeline; start a run with: aws stepfunctions start-execution --state-machine-arn <this> --input '{}'")
	out("ImportWorkflowName", jsii.String(s.Config.Names().Workflow), "Glue workflow that imports the source into the lake")
	out("DashboardName", jsii.String(s.DashboardName()), "CloudWatch dashboard of the pipeline: runs, duration, rows per table, verification, freshness")
	out("FailureTopicArn", s.FailureTopic.TopicArn(), "SNS topic for failed runs; subscribe to it")
	out("GlueConnectionName", jsii.String(s.ConnectionName()), "Glue JDBC connection to the source database")
	out("WorkflowRoleArn", s.WorkflowRole.RoleArn(), "Role of the Glue crawlers and import job")
	if s.AdminRole != nil {
		out("AdminRoleArn", s.AdminRole.RoleArn(), "Data lake administrator role (members of the admins group may assume it)")
	}
	if s.AnalystRole != nil {
		out("AnalystRoleArn", s.AnalystRole.RoleArn(), "Analyst role (members of the analysts group may assume it)")
	}
}
