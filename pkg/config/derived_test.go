package config

import "testing"

// Worker vCPUs from the Glue guide; one worker is the driver.
func TestExecutorCoresAreTheWorkersButTheDriversVCPUs(t *testing.T) {
	for _, tc := range []struct {
		workerType string
		workers    int
		want       int
	}{
		{"G.1X", 10, 36},
		{"G.2X", 3, 16},
		{"G.4X", 2, 16},
		{"G.8X", 5, 128},
		{"G.1X", 1, 1}, // the driver alone still runs one task slot
	} {
		c := Default()
		c.Import.WorkerType, c.Import.NumberOfWorkers = tc.workerType, tc.workers
		if got := c.ExecutorCores(); got != tc.want {
			t.Errorf("%d x %s: %d cores, want %d", tc.workers, tc.workerType, got, tc.want)
		}
	}
}

// One network interface per worker and one for the connection test.
func TestRequiredFreeIPsAreOnePerWorkerAndOneForTheTest(t *testing.T) {
	c := Default()
	c.Import.NumberOfWorkers = 10
	if got := c.RequiredFreeIPs(); got != 11 {
		t.Errorf("10 workers need %d free addresses, want 11", got)
	}
}
