package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/lakeformation"
)

// addUnclassifiedColumnsAlarm alarms, with governance, when TagOutput
// reports lake columns no rule classifies (hidden from every persona until
// one does): the failure topic hears it, and the run's TagOutput output and
// `lakeforge status` name each column with the line that classifies it.
func (s *Stack) addUnclassifiedColumnsAlarm() {
	if !s.Config.Governance.Enabled {
		return
	}
	metric := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(MetricNamespace),
		MetricName:    jsii.String(lakeformation.UnclassifiedColumnsMetric),
		DimensionsMap: &map[string]*string{"Database": jsii.String(s.Config.Database.Name)},
		Statistic:     jsii.String("Maximum"),
		Period:        awscdk.Duration_Hours(jsii.Number(1)),
	})
	s.alarmOnFailureTopic("UnclassifiedColumnsAlarm", "lakeforge: the lake has columns no governance rule classifies; they are hidden from every persona until classified: run `lakeforge status` for each column and the configuration line that classifies it", metric)
}

// suppressLakeTablesWildcard explains TagOutput's glue:GetTables on every
// table of the lake database: the tables are the import's, named at run
// time from the source.
func (s *Stack) suppressLakeTablesWildcard() {
	cdknag.NagSuppressions_AddResourceSuppressions(s.Steps["tag-output"].Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("glue:GetTables lists every table of the lake database (governance classifies each column): the import names the tables at run time from the source tables, so they are not known at synth. Read-only, and only in the one lake database."),
		AppliesTo: &[]any{"Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/" + s.Config.Database.Name + "/*"},
	}, {
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("TagOutput writes one columns.json per workflow run under the runs prefix, beside the import's manifest; the run ids are Glue's, not known at synth."),
		AppliesTo: &[]any{"Resource::" + s.LakeBucketNagARN() + "/" + s.RunsPrefix() + "*"},
	}}, jsii.Bool(true))
}
