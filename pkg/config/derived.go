package config

// Values derived from the configuration, each defined once here: the
// stack, the CLI and the tests ask the configuration for them.

// workerCores are the vCPUs of one Glue worker of each type (Glue developer
// guide, "Defining job properties for Spark jobs": G.1X 4 vCPU, G.2X 8,
// G.4X 16, G.8X 32).
var workerCores = map[string]int{"G.1X": 4, "G.2X": 8, "G.4X": 16, "G.8X": 32}

// ExecutorCores is the number of Spark task slots of an import run: every
// worker but the driver's, times its cores (at least 1). The job splits a
// table's read into this many key ranges and imports at most this many
// tables at once (capped at 16 concurrent tables, each holding a database
// connection).
func (c Config) ExecutorCores() int {
	cores := workerCores[c.Import.WorkerType]
	if cores == 0 {
		cores = 4
	}
	return max(1, (c.Import.NumberOfWorkers-1)*cores)
}

// RequiredFreeIPs is how many free addresses the connection's subnet
// needs: one network interface per Glue worker plus one for the
// connection test (Glue places an elastic network interface in the subnet
// for each).
func (c Config) RequiredFreeIPs() int { return c.Import.NumberOfWorkers + 1 }
