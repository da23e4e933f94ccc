package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
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

// costScope ends every estimate's Basis: what the figures are and leave out.
const costScope = "; us-east-1 list prices, Lambda, S3 and Athena not included"

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
// DPU-hours of the import job's runs in the workflow run's graph. Basis
// says what each figure is, in words: a run shorter than Glue's 1-minute
// minimum is billed as a minute, and says so.
func (f *follower) cost(ctx context.Context, transitions int, runID string) *CostEstimate {
	c := &CostEstimate{Transitions: transitions, StepFunctionsUSD: float64(transitions) * usdPerTransition}
	parts := []string{fmt.Sprintf("Step Functions, %d state transitions: $%.4f", transitions, c.StepFunctionsUSD)}
	if runID != "" && f.workflow != "" && f.glue != nil {
		out, err := f.glue.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String(f.workflow), RunId: aws.String(runID), IncludeGraph: aws.Bool(true)})
		if err == nil && out.Run != nil && out.Run.Graph != nil {
			for _, n := range out.Run.Graph.Nodes {
				if n.JobDetails == nil {
					continue
				}
				for _, jr := range n.JobDetails.JobRuns {
					dpuSeconds, how := jobRunDPUSeconds(jr)
					if how == "" {
						parts = append(parts, fmt.Sprintf("Glue job run %s: not counted, Glue reported neither its DPU-seconds nor its workers", ShortID(aws.ToString(jr.Id))))
						continue
					}
					rate := usdPerDPUHourStd
					if jr.ExecutionClass == gluetypes.ExecutionClassFlex {
						rate = usdPerDPUHourFlex
					}
					usd := dpuSeconds / 3600 * rate
					c.GlueDPUHours += dpuSeconds / 3600
					c.GlueUSD += usd
					parts = append(parts, fmt.Sprintf("Glue import job, %.3f DPU-hours (%s) at $%.2f: $%.4f", dpuSeconds/3600, how, rate, usd))
				}
			}
		}
	}
	c.Basis = strings.Join(parts, " + ") + costScope
	c.TotalUSD = c.StepFunctionsUSD + c.GlueUSD
	return c
}

// jobRunDPUSeconds is what Glue bills for one job run, and how that was
// found, or "" when the run tells too little.
func jobRunDPUSeconds(jr gluetypes.JobRun) (float64, string) {
	if jr.DPUSeconds != nil {
		// Reported for Flex and auto-scaling runs.
		return *jr.DPUSeconds, "as Glue reports them"
	}
	workers, perWorker := aws.ToInt32(jr.NumberOfWorkers), dpuPerWorker[string(jr.WorkerType)]
	if workers == 0 || perWorker == 0 {
		return 0, ""
	}
	ran := jr.ExecutionTime
	billed := max(ran, minimumBilledSecond)
	how := fmt.Sprintf("%d × %s for %ds", workers, jr.WorkerType, billed)
	if ran < minimumBilledSecond {
		how = fmt.Sprintf("%d × %s, it ran %ds, billed as Glue's 1-minute minimum", workers, jr.WorkerType, ran)
	}
	return float64(billed) * float64(workers) * perWorker, how
}
