package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// standIns is the demo's AWS endpoint: everything goes to moto, except the
// few calls moto cannot answer for real, which the demo answers with the
// real thing done locally, or the smallest documented stand-in, and says
// so in its output each time:
//   - glue:TestConnection: a direct database handshake from this machine;
//   - glue:StartWorkflowRun: moto records the run, and the real import job
//     runs on local Spark (onRunStarted); glue:GetWorkflowRun of that run
//     reports the job's real outcome with the run's graph (moto's runs
//     never end and have no graph);
//   - lakeformation:ListPermissions by an LF-tag resource type, which moto
//     5.2.5 rejects (HTTP 500): moto's grants read unfiltered and kept by
//     resource type, as the API reference documents the filter (the lf
//     tests' stand-in, pkg/lakeformation listByLFTagResourceType);
//   - cloudwatch:PutMetricData in the SDK's Smithy RPC v2 CBOR protocol,
//     which moto 5.2.5 does not serve: accepted, with its empty output;
//   - Athena: the query runs as Spark SQL on the lake the job wrote.
type standIns struct {
	moto         *url.URL
	proxy        *httputil.ReverseProxy
	srv          *http.Server
	URL          string
	handle       func(string) error // TestConnection's handshake
	onRunStarted func(runID string) // starts the import of a workflow run
	// job is the import job's capacity, reported on each of its runs as
	// Glue does (the CLI's cost estimate reads it).
	job jobRun
	sql func(string) ([]string, [][]string, error)

	mu      sync.Mutex
	runs    map[string]*importRun
	queries map[string]*query
	log     func(format string, args ...any)
}

type importRun struct {
	workflow  string
	started   time.Time
	completed time.Time
	// job and jobRunID name the import job's run in the run's graph.
	job, jobRunID string
	done          bool
	err           error
	told          string // the status last logged
}
type query struct {
	sql     string
	columns []string
	rows    [][]string
	err     error
}

func startStandIns(motoURL string, log func(string, ...any)) (*standIns, error) {
	u, err := url.Parse(motoURL)
	if err != nil {
		return nil, err
	}
	s := &standIns{moto: u, proxy: httputil.NewSingleHostReverseProxy(u), runs: map[string]*importRun{}, queries: map[string]*query{}, log: log}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *standIns) Close() { _ = s.srv.Close() }

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func (s *standIns) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.URL.Path == "/ListPermissions" && strings.Contains(r.Header.Get("Authorization"), "/lakeformation/") {
		s.listPermissions(w, r)
		return
	}
	if r.URL.Path == "/GetResourceLFTags" && strings.Contains(r.Header.Get("Authorization"), "/lakeformation/") {
		s.resourceLFTags(w, r) // access.go
		return
	}
	if strings.HasSuffix(r.URL.Path, "/operation/PutMetricData") && r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		// The SDK's CloudWatch client speaks Smithy RPC v2 CBOR, which moto
		// 5.2.5 does not serve (HTTP 404; pkg/verify's moto tier says so):
		// the call is accepted with PutMetricData's empty output.
		_, _ = io.Copy(io.Discard, r.Body)
		s.log("stand-in cloudwatch:PutMetricData: moto 5.2.5 does not serve the SDK's Smithy RPC v2 CBOR protocol; accepted (empty output), the metrics are not kept")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Content-Length", "1")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte{0xa0}) // CBOR: an empty map
		return
	}
	switch target {
	case "AWSGlue.TestConnection", "AWSGlue.StartWorkflowRun", "AWSGlue.GetWorkflowRun",
		"AmazonAthena.StartQueryExecution", "AmazonAthena.GetQueryExecution", "AmazonAthena.GetQueryResults":
	default:
		s.proxy.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	str := func(k string) string { v, _ := in[k].(string); return v }
	switch target {
	case "AWSGlue.TestConnection":
		s.log("stand-in glue:TestConnection: a direct handshake with the database from this machine")
		if err := s.handle(str("ConnectionName")); err != nil {
			writeJSON(w, 400, map[string]string{"__type": "InvalidInputException", "message": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{})
	case "AWSGlue.StartWorkflowRun":
		// moto records the run and names it; the real job then runs locally.
		rec := &recorder{header: http.Header{}}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.proxy.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		var out struct{ RunId string }
		_ = json.Unmarshal(rec.body.Bytes(), &out)
		if rec.code == 200 && out.RunId != "" {
			s.mu.Lock()
			s.runs[out.RunId] = &importRun{workflow: str("Name"), started: time.Now()}
			s.mu.Unlock()
			s.onRunStarted(out.RunId)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.body.Bytes())
	case "AWSGlue.GetWorkflowRun":
		s.mu.Lock()
		run, ok := s.runs[str("RunId")]
		var res map[string]any
		if ok {
			wr := run.workflowRun(str("RunId"), s.job)
			if run.told != wr["Status"] { // once per status: the CLI polls
				run.told, _ = wr["Status"].(string)
				s.log("stand-in glue:GetWorkflowRun %s: %s, the import job's real state on local Spark, with the run's graph (moto's runs never end and have no graph)", str("RunId"), run.told)
			}
			res = map[string]any{"Run": wr}
		}
		s.mu.Unlock()
		if !ok {
			r.Body = io.NopCloser(bytes.NewReader(body))
			s.proxy.ServeHTTP(w, r)
			return
		}
		writeJSON(w, 200, res)
	case "AmazonAthena.StartQueryExecution":
		sql := str("QueryString")
		id := fmt.Sprintf("demo-query-%d", time.Now().UnixNano())
		s.log("stand-in Athena: %s runs as Spark SQL on the local lake", sql)
		cols, rows, err := s.sql(athenaToSpark(sql))
		s.mu.Lock()
		s.queries[id] = &query{sql: sql, columns: cols, rows: rows, err: err}
		s.mu.Unlock()
		writeJSON(w, 200, map[string]string{"QueryExecutionId": id})
	case "AmazonAthena.GetQueryExecution", "AmazonAthena.GetQueryResults":
		id := str("QueryExecutionId")
		s.mu.Lock()
		q, ok := s.queries[id]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, 400, map[string]string{"__type": "InvalidRequestException", "message": "QueryExecution " + id + " was not found"})
			return
		}
		if target == "AmazonAthena.GetQueryExecution" {
			st := map[string]any{"State": "SUCCEEDED"}
			if q.err != nil {
				st = map[string]any{"State": "FAILED", "StateChangeReason": q.err.Error()}
			}
			writeJSON(w, 200, map[string]any{"QueryExecution": map[string]any{"QueryExecutionId": id, "Query": q.sql, "Status": st}})
			return
		}
		var rows []any
		header := []any{}
		for _, c := range q.columns {
			header = append(header, map[string]string{"VarCharValue": c})
		}
		rows = append(rows, map[string]any{"Data": header})
		for _, r := range q.rows {
			data := []any{}
			for _, v := range r {
				data = append(data, map[string]string{"VarCharValue": v})
			}
			rows = append(rows, map[string]any{"Data": data})
		}
		writeJSON(w, 200, map[string]any{"ResultSet": map[string]any{"Rows": rows}})
	}
}

// workflowRun renders the run as GetWorkflowRun answers it (WorkflowRun,
// its Statistics, and its Graph with the job node and its job run); the
// caller holds s.mu.
func (run *importRun) workflowRun(id string, job jobRun) map[string]any {
	stats := map[string]any{"TotalActions": 1, "RunningActions": 1, "SucceededActions": 0, "FailedActions": 0}
	status, jobState := "RUNNING", "RUNNING"
	wr := map[string]any{"Name": run.workflow, "WorkflowRunId": id, "StartedOn": float64(run.started.Unix())}
	if run.done {
		status, jobState = "COMPLETED", "SUCCEEDED"
		stats["RunningActions"] = 0
		if run.err != nil {
			stats["FailedActions"] = 1
			jobState = "FAILED"
		} else {
			stats["SucceededActions"] = 1
		}
		wr["CompletedOn"] = float64(run.completed.Unix())
	}
	wr["Status"], wr["Statistics"] = status, stats
	if run.jobRunID != "" {
		jr := map[string]any{"Id": run.jobRunID, "JobName": run.job, "JobRunState": jobState, "StartedOn": float64(run.started.Unix()),
			"WorkerType": job.WorkerType, "NumberOfWorkers": job.NumberOfWorkers, "ExecutionClass": job.ExecutionClass}
		if run.done {
			// Glue's ExecutionTime: the seconds the job run used resources.
			jr["ExecutionTime"] = int(run.completed.Sub(run.started).Seconds())
			jr["CompletedOn"] = float64(run.completed.Unix())
		}
		if run.err != nil {
			jr["ErrorMessage"] = run.err.Error()
		}
		wr["Graph"] = map[string]any{"Nodes": []any{map[string]any{"Type": "JOB", "Name": run.job, "UniqueId": "job-" + run.job,
			"JobDetails": map[string]any{"JobRuns": []any{jr}}}}, "Edges": []any{}}
	}
	return wr
}

// jobStarted records the import job's run of a workflow run.
func (s *standIns) jobStarted(runID, job, jobRunID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if run, ok := s.runs[runID]; ok {
		run.job, run.jobRunID = job, jobRunID
	}
}

// jobEnded records the import job's outcome: the run is COMPLETED.
func (s *standIns) jobEnded(runID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if run, ok := s.runs[runID]; ok {
		run.done, run.err, run.completed = true, err, time.Now()
	}
}

// lfTagResourceTypes are the ListPermissions resource types moto 5.2.5
// rejects (pkg/lakeformation: TestMotoRejectsListPermissionsByLFTagResourceType).
var lfTagResourceTypes = []string{"LF_TAG", "LF_TAG_POLICY_DATABASE", "LF_TAG_POLICY_TABLE"}

// listPermissions passes ListPermissions to moto, except the request
// EnsureLFTags and GrantTagPermissions send to read LF-tag grants (an
// LF-tag resource type, no principal, no resource): that one is answered
// as the API reference documents ResourceType ("Specifies a resource type
// to filter the permissions returned"), from moto's grants read unfiltered
// (the one LF-tag query moto accepts), kept by resource type.
func (s *standIns) listPermissions(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct {
		ResourceType string
		Principal    any
		Resource     any
		NextToken    string
		MaxResults   *int
	}
	_ = json.Unmarshal(body, &in)
	if !slices.Contains(lfTagResourceTypes, in.ResourceType) || in.Principal != nil || in.Resource != nil {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		s.proxy.ServeHTTP(w, r)
		return
	}
	s.log("stand-in lakeformation:ListPermissions{ResourceType: %s}: moto 5.2.5 rejects this filter (HTTP 500); answered from moto's unfiltered grants, kept by resource type as the API reference documents it", in.ResourceType)
	all := map[string]any{}
	if in.NextToken != "" {
		all["NextToken"] = in.NextToken
	}
	if in.MaxResults != nil {
		all["MaxResults"] = *in.MaxResults
	}
	fwd, _ := json.Marshal(all)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(fwd)), int64(len(fwd))
	r.Header.Set("Content-Length", strconv.Itoa(len(fwd)))
	rec := &recorder{header: http.Header{}}
	s.proxy.ServeHTTP(rec, r)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	if rec.code != http.StatusOK {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.body.Bytes())
		return
	}
	var out struct {
		PrincipalResourcePermissions []map[string]any
		NextToken                    string `json:",omitempty"`
	}
	if err := json.Unmarshal(rec.body.Bytes(), &out); err != nil {
		writeJSON(w, 500, map[string]string{"__type": "InternalServiceException", "message": "the demo could not read moto's ListPermissions answer: " + err.Error()})
		return
	}
	kept := []map[string]any{}
	for _, p := range out.PrincipalResourcePermissions {
		if grantOfType(p, in.ResourceType) {
			kept = append(kept, p)
		}
	}
	res := map[string]any{"PrincipalResourcePermissions": kept}
	if out.NextToken != "" {
		res["NextToken"] = out.NextToken
	}
	writeJSON(w, 200, res)
}

// grantOfType is true when the grant's resource is of the ListPermissions
// resource type rt: an LF-tag, or an LF-tag policy on databases or tables.
func grantOfType(p map[string]any, rt string) bool {
	res, _ := p["Resource"].(map[string]any)
	if res == nil {
		return false
	}
	if rt == "LF_TAG" {
		return res["LFTag"] != nil
	}
	policy, _ := res["LFTagPolicy"].(map[string]any)
	return policy != nil && ("LF_TAG_POLICY_"+fmt.Sprint(policy["ResourceType"])) == rt
}

// athenaToSpark names Athena's "db"."table" as the job's Spark catalog
// does (glue_catalog.db.table; the Glue Data Catalog in AWS).
var quotedName = regexp.MustCompile(`"([^"]+)"\."([^"]+)"`)

func athenaToSpark(sql string) string {
	return quotedName.ReplaceAllString(sql, "glue_catalog.`$1`.`$2`")
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }
