package stack

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// retentionEnums are CDK's names for config.LogRetentionChoices, in order.
var retentionEnums = []awslogs.RetentionDays{
	awslogs.RetentionDays_ONE_DAY, awslogs.RetentionDays_THREE_DAYS, awslogs.RetentionDays_FIVE_DAYS,
	awslogs.RetentionDays_ONE_WEEK, awslogs.RetentionDays_TWO_WEEKS, awslogs.RetentionDays_ONE_MONTH,
	awslogs.RetentionDays_TWO_MONTHS, awslogs.RetentionDays_THREE_MONTHS, awslogs.RetentionDays_FOUR_MONTHS,
	awslogs.RetentionDays_FIVE_MONTHS, awslogs.RetentionDays_SIX_MONTHS, awslogs.RetentionDays_ONE_YEAR,
	awslogs.RetentionDays_THIRTEEN_MONTHS, awslogs.RetentionDays_EIGHTEEN_MONTHS, awslogs.RetentionDays_TWO_YEARS,
	awslogs.RetentionDays_THREE_YEARS, awslogs.RetentionDays_FIVE_YEARS, awslogs.RetentionDays_SIX_YEARS,
	awslogs.RetentionDays_SEVEN_YEARS, awslogs.RetentionDays_EIGHT_YEARS, awslogs.RetentionDays_NINE_YEARS,
	awslogs.RetentionDays_TEN_YEARS,
}

// retention converts a validated retention in days to CDK's enum.
func retention(days int) awslogs.RetentionDays {
	i := slices.Index(config.LogRetentionChoices, days)
	if i < 0 || len(retentionEnums) != len(config.LogRetentionChoices) {
		panic(fmt.Sprintf("log retention %d days: not one of %v (config validation should have caught this)", days, config.LogRetentionChoices))
	}
	return retentionEnums[i]
}
