package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
)

// US East (N. Virginia) list prices (docs/aws-behaviour.md, "cli" rows):
// Step Functions Standard bills every state transition, retries included;
// a Glue Spark job bills DPU-hours per second with a 1-minute minimum,
// Flex at a lower rate than Standard.
const (
	usdPerTransition    = 0.025 / 1000
	usdPerDPUHourStd    = 0.44
	usdPerDPUHourFlex   = 0.29
	minimumBilledSecond = 60
)

// CostEstimate is a run's cost as far as the tool can see it.
type CostEstimate struct {
	Transitions      int     `json:"transitions"`
	StepFunctionsUSD float64 `json:"stepFunctionsUsd"`
	GlueDPUHours     float64 `json:"glueDpuHours"`
	GlueUSD          float64 `json:"glueUsd"`
	TotalUSD         float64 `json:"totalUsd"`
	Basis            string  `json:"basis"`
}

// dpuPerWorker is a Glue worker type's DPUs (G.1X is 1 DPU, G.2X 2, ...).
var dpuPerWorker = map[string]float64{"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "Standard": 1}

// cost estimates the run: its state transitions (entered states; retries
// are billed too but the history does not count them as entries) and the
// DPU-hours of the import job's runs in the workflow run's graph.
func (f *follower) cost(ctx context.Context, transitions int, runID string) *CostEstimate {
	c := &CostEstimate{Transitions: transitions, StepFunctionsUSD: float64(transitions) * usdPerTransition}
	c.Basis = fmt.Sprintf("%d state transitions at us-east-1 list prices", transitions)
	if runID != "" && f.workflow != "" && f.glue != nil {
		out, err := f.glue.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String(f.workflow), RunId: aws.String(runID), IncludeGraph: aws.Bool(true)})
		if err == nil && out.Run != nil && out.Run.Graph != nil {
			for _, n := range out.Run.Graph.Nodes {
				if n.JobDetails == nil {
					continue
				}
				for _, jr := range n.JobDetails.JobRuns {
					var dpuSeconds float64
					if jr.DPUSeconds != nil {
						// Reported for Flex and auto-scaling runs.
						dpuSeconds = *jr.DPUSeconds
					} else {
						sec := float64(max(jr.ExecutionTime, minimumBilledSecond))
						dpuSeconds = sec * float64(aws.ToInt32(jr.NumberOfWorkers)) * dpuPerWorker[string(jr.WorkerType)]
					}
					rate := usdPerDPUHourStd
					if jr.ExecutionClass == "FLEX" {
						rate = usdPerDPUHourFlex
					}
					c.GlueDPUHours += dpuSeconds / 3600
					c.GlueUSD += dpuSeconds / 3600 * rate
				}
			}
			c.Basis += fmt.Sprintf(" and %.3f DPU-hours of the import job", c.GlueDPUHours)
		}
	}
	c.Basis += "; Lambda, S3 and Athena are not included"
	c.TotalUSD = c.StepFunctionsUSD + c.GlueUSD
	return c
}
