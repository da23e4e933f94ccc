// Package glue embeds the import job's PySpark script and its modules, so
// the CDK app publishes the very bytes the Python tests check, wherever it
// runs.
package glue

import (
	"embed"
	"io/fs"
)

// ImportJobScript is import_job.py.
//
//go:embed import_job.py
var ImportJobScript []byte

// ImportJobFile is the script's file name in its asset.
const ImportJobFile = "import_job.py"

//go:embed importjob_*.py
var modules embed.FS

// ImportJobModules are the script's modules (importjob_*.py), by file
// name: the job gets them as one zip on its Python path (--extra-py-files).
func ImportJobModules() map[string][]byte {
	out := map[string][]byte{}
	names, err := fs.Glob(modules, "importjob_*.py")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		raw, err := modules.ReadFile(name)
		if err != nil {
			panic(err)
		}
		out[name] = raw
	}
	return out
}
