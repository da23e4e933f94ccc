package config

// The import, the schedule and Athena.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must validate the same on every machine and in Lambda
)

func (c Config) validateImport(v *validator) {
	im := c.Import
	for i, loc := range im.AdoptLocations {
		bucket, prefix, ok := strings.Cut(strings.TrimPrefix(loc, "s3://"), "/")
		switch {
		case !strings.HasPrefix(loc, "s3://") || !ok || !strings.HasSuffix(loc, "/"):
			v.add(fmt.Sprintf("import.adoptLocations[%d]", i), loc, "an S3 prefix s3://bucket/prefix/ ending with '/': the blueprint's target path")
		case BucketNameProblem(bucket) != "":
			v.add(fmt.Sprintf("import.adoptLocations[%d]", i), loc, "a valid bucket name: "+BucketNameProblem(bucket))
		case strings.Contains(prefix, "*"):
			v.add(fmt.Sprintf("import.adoptLocations[%d]", i), loc, "a prefix without wildcards")
		}
	}
	switch im.Mode {
	case ModeSnapshot, ModeMerge:
	case ModeIncremental:
		if len(im.BookmarkKeys) == 0 {
			v.add("import.bookmarkKeys", "{}", "in incremental mode, each source table with its monotonic key column(s), e.g. {\"products\": [\"id\"]}")
		}
	default:
		v.add("import.mode", im.Mode, modeChoices)
	}
	for table, cols := range im.BookmarkKeys {
		if len(cols) != 1 {
			v.add("import.bookmarkKeys."+table, fmt.Sprintf("%v", cols), "exactly one monotonic key column (numeric, date or timestamp without time zone)")
		}
		for i, col := range cols {
			if !columnPattern.MatchString(col) {
				v.add(fmt.Sprintf("import.bookmarkKeys.%s[%d]", table, i), col, "a column name of letters, digits and '_'")
			}
		}
	}
	c.validateImportTables(v)
	if im.MergeOverlapMinutes < 0 || im.MergeOverlapMinutes > 1440 {
		v.add("import.mergeOverlapMinutes", strconv.Itoa(im.MergeOverlapMinutes), "0 to 1440 minutes re-read below a merge table's watermark (longer than the longest transaction that writes the table)")
	}
	// At least a day: longer than any job run (import.waitTimeoutMinutes,
	// at most 1440, bounds import.jobTimeoutMinutes).
	if im.OrphanFileAgeHours < 24 || im.OrphanFileAgeHours > 24*3650 {
		v.add("import.orphanFileAgeHours", strconv.Itoa(im.OrphanFileAgeHours), fmt.Sprintf("24 to %d hours: longer than any import run (import.jobTimeoutMinutes), so a running import never loses files it has not committed yet", 24*3650))
	}
	for table, pc := range im.Partitioning {
		if pc.Partitions < 1 || pc.Partitions > 1000 {
			v.add("import.partitioning."+table+".partitions", strconv.Itoa(pc.Partitions), "1 to 1000 ranges (1 reads the table in one stream)")
		}
		if pc.Partitions > 1 && !columnPattern.MatchString(pc.Column) {
			v.add("import.partitioning."+table+".column", pc.Column, "a numeric column name of letters, digits and '_' to split the read on")
		}
		if pc.Partitions > 1 && c.Source.Engine != EnginePostgreSQL {
			// Split reads would each see another moment of the table.
			v.add("import.partitioning."+table+".partitions", strconv.Itoa(pc.Partitions), "1: a "+c.Source.Engine+" source has no exported snapshots, so the import reads each table in one statement (one consistent picture of it); split reads are for PostgreSQL sources")
		}
	}
	if im.SnapshotRetentionDays < 0 || im.SnapshotRetentionDays > 3650 {
		v.add("import.snapshotRetentionDays", strconv.Itoa(im.SnapshotRetentionDays), "0 to 3650 days of older snapshots kept for time travel")
	}
	if !slices.Contains(workerTypes, im.WorkerType) {
		v.add("import.workerType", im.WorkerType, "one of "+strings.Join(workerTypes, ", "))
	} else if im.ExecutionClass == "FLEX" && !slices.Contains(flexWorkerTypes, im.WorkerType) {
		v.add("import.workerType", im.WorkerType, "G.1X or G.2X while import.executionClass is FLEX (Glue runs Flex jobs only on these); for "+im.WorkerType+" set import.executionClass to STANDARD")
	}
	if max, ok := maxWorkers[im.WorkerType]; ok && (im.NumberOfWorkers < 2 || im.NumberOfWorkers > max) {
		v.add("import.numberOfWorkers", strconv.Itoa(im.NumberOfWorkers), fmt.Sprintf("2 to %d workers of type %s (import.workerType)", max, im.WorkerType))
	}
	if im.ExecutionClass != "FLEX" && im.ExecutionClass != "STANDARD" {
		v.add("import.executionClass", im.ExecutionClass, "FLEX (cheaper, starts when capacity is free) or STANDARD")
	}
	jobOK := im.JobTimeoutMinutes >= 1 && im.JobTimeoutMinutes <= maxJobTimeoutMinutes
	if !jobOK {
		v.add("import.jobTimeoutMinutes", strconv.Itoa(im.JobTimeoutMinutes), fmt.Sprintf("1 to %d minutes (Glue refuses 7 days or more)", maxJobTimeoutMinutes))
	}
	switch {
	case im.WaitTimeoutMinutes < minWaitTimeoutMinutes || im.WaitTimeoutMinutes > maxWaitTimeoutMinutes:
		v.add("import.waitTimeoutMinutes", strconv.Itoa(im.WaitTimeoutMinutes), fmt.Sprintf("%d to %d minutes (the first look at the run is after %d minutes; a run must end before the next daily one)", minWaitTimeoutMinutes, maxWaitTimeoutMinutes, minWaitTimeoutMinutes))
	case jobOK && im.WaitTimeoutMinutes < im.JobTimeoutMinutes:
		v.add("import.waitTimeoutMinutes", strconv.Itoa(im.WaitTimeoutMinutes), fmt.Sprintf("at least import.jobTimeoutMinutes (%d): the pipeline would report a failure while Glue still runs the job (the wait also covers both crawlers)", im.JobTimeoutMinutes))
	}
	if im.RowCountTolerance < 0 || im.RowCountTolerance > 1 {
		v.add("import.rowCountTolerance", strconv.FormatFloat(im.RowCountTolerance, 'g', -1, 64), "a fraction from 0 (counts must match) to 1")
	}
}

func (c Config) validateSchedule(v *validator) {
	if err := ValidateScheduleExpression(c.Schedule.Expression); err != nil {
		v.add("schedule.expression", c.Schedule.Expression, err.Error())
	} else if gap, job := c.Schedule.ShortestGapMinutes(), c.Import.JobTimeoutMinutes; c.Schedule.Enabled && gap > 0 && c.importTimeoutsValid() && gap < job {
		// An import can run import.jobTimeoutMinutes: a start before
		// then finds the last one still running. (Inconsistent timeouts
		// are reported by validateImport alone.)
		v.add("schedule.expression", c.Schedule.Expression, fmt.Sprintf("a schedule whose starts are at least import.jobTimeoutMinutes (%d) apart, the longest an import may run (this one starts a run %d minutes after another); e.g. cron(45 9 * * ? *) for once a day, or lower import.jobTimeoutMinutes", job, gap))
	}
	if c.Schedule.TimeZone == "" || c.Schedule.TimeZone == "Local" {
		v.add("schedule.timeZone", c.Schedule.TimeZone, "an IANA time zone name such as UTC or Asia/Tokyo")
	} else if _, err := time.LoadLocation(c.Schedule.TimeZone); err != nil {
		v.add("schedule.timeZone", c.Schedule.TimeZone, "an IANA time zone name such as UTC or Asia/Tokyo (this one is unknown)")
	}
}

// importTimeoutsValid says whether import.jobTimeoutMinutes and
// import.waitTimeoutMinutes are within their bounds and consistent.
func (c Config) importTimeoutsValid() bool {
	im := c.Import
	return im.JobTimeoutMinutes >= 1 && im.JobTimeoutMinutes <= maxJobTimeoutMinutes &&
		im.WaitTimeoutMinutes >= minWaitTimeoutMinutes && im.WaitTimeoutMinutes <= maxWaitTimeoutMinutes &&
		im.WaitTimeoutMinutes >= im.JobTimeoutMinutes
}

func (c Config) validateAthena(v *validator) {
	if !workgroupPattern.MatchString(c.Athena.WorkgroupName) || c.Athena.WorkgroupName == "primary" {
		v.add("athena.workgroupName", c.Athena.WorkgroupName, "1 to 128 letters, digits, '.', '_' or '-', not \"primary\" (the stack creates the workgroup)")
	}
	// Athena's API reference gives a minimum of 10000000 bytes, the AWS
	// Terraform provider validates 10485760 (10 MiB): the larger one is
	// safe under both readings.
	if c.Athena.BytesScannedCutoffPerQuery < 10_485_760 {
		v.add("athena.bytesScannedCutoffPerQuery", strconv.FormatInt(c.Athena.BytesScannedCutoffPerQuery, 10), "at least 10485760 bytes (10 MiB, Athena's minimum per-query cutoff)")
	}
}

const modeChoices = "snapshot (reload every table each run), incremental (new rows above the highest key already in the lake) or merge (inserts, updates and deletes, by a key and a change column)"

// validateImportTables checks import.tables: a named table in merge mode
// must say which column changes; settings of another mode are refused
// rather than ignored.
func (c Config) validateImportTables(v *validator) {
	im := c.Import
	for _, table := range slices.Sorted(maps.Keys(im.Tables)) {
		tc := im.Tables[table]
		path := "import.tables." + table
		if !glueNamePattern.MatchString(table) {
			v.add(path, table, "a lake table name: the source table's name in lower case, letters, digits and '_'")
		}
		mode := im.EffectiveMode(table)
		switch tc.Mode {
		case "", ModeSnapshot, ModeIncremental, ModeMerge:
		default:
			v.add(path+".mode", tc.Mode, modeChoices+"; empty takes import.mode")
			continue
		}
		for i, col := range tc.Key {
			if !columnPattern.MatchString(col) {
				v.add(fmt.Sprintf("%s.key[%d]", path, i), col, "a column name of letters, digits and '_'")
			}
		}
		if tc.ChangeColumn != "" && !columnPattern.MatchString(tc.ChangeColumn) {
			v.add(path+".changeColumn", tc.ChangeColumn, "a column name of letters, digits and '_'")
		}
		if tc.OverlapValues < 0 {
			v.add(path+".overlapValues", strconv.FormatInt(tc.OverlapValues, 10), "0 or more units of the numeric change column re-read below the watermark")
		}
		switch mode {
		case ModeMerge:
			if tc.ChangeColumn == "" {
				v.add(path+".changeColumn", "", "merge mode needs the column the application sets on every insert and update (for example updated_at, or a number from a sequence); without one, set import.tables."+table+".mode to snapshot")
			}
		case ModeIncremental:
			if len(im.BookmarkKeys[table]) == 0 {
				v.add("import.bookmarkKeys."+table, "", "incremental mode (import.tables."+table+".mode) needs the table's monotonic key column, e.g. [\"id\"]")
			}
			fallthrough
		default:
			if len(tc.Key) > 0 || tc.ChangeColumn != "" || tc.OverlapValues != 0 {
				v.add(path, fmt.Sprintf("mode %s", mode), "key, changeColumn and overlapValues apply to merge mode only: remove them or set import.tables."+table+".mode to merge")
			}
		}
	}
}
