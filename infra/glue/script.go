// Package glue embeds the import job's PySpark script, so the CDK app
// publishes the very bytes the Python unit test checks, wherever it runs.
package glue

import _ "embed"

// ImportJobScript is import_job.py.
//
//go:embed import_job.py
var ImportJobScript []byte

// ImportJobFile is the script's file name in its asset.
const ImportJobFile = "import_job.py"
