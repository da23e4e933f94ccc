package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/jsii-runtime-go"
)

// addAthena makes the analysts' workgroup. Its settings are enforced, so a
// client cannot send results elsewhere or unencrypted, and a runaway query
// is cancelled at the bytes-scanned cutoff.
func (s *Stack) addAthena() {
	wg := awsathena.NewCfnWorkGroup(s.Stack, jsii.String("Workgroup"), &awsathena.CfnWorkGroupProps{
		Name:                  jsii.String(s.Config.Athena.WorkgroupName),
		Description:           jsii.String("lakeforge: analyst queries on the data lake"),
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			BytesScannedCutoffPerQuery:      jsii.Number(float64(s.Config.Athena.BytesScannedCutoffPerQuery)),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("AUTO"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *s.ResultsBucket.BucketName() + "/athena/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_S3"),
				},
			},
		},
	})
	s.Workgroup = wg
}

// WorkgroupARN is the Athena workgroup's ARN.
func (s *Stack) WorkgroupARN() string {
	return arn("athena", "workgroup/"+s.Config.Athena.WorkgroupName)
}
