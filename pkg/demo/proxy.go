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
	"strconv"
	"sync"
	"time"
)

// standIns is the demo's AWS endpoint: everything goes to moto, except the
// few calls moto cannot answer for real, which the demo answers with the
// real thing done locally (and says so when it starts):
//   - glue:TestConnection: a direct database handshake from this machine;
//   - glue:StartWorkflowRun: moto records the run, and the real import job
//     runs on local Spark; glue:GetWorkflowRun of that run reports the job's
//     real outcome (moto's runs never end);
//   - Athena: the query runs as Spark SQL on the lake the job wrote.
type standIns struct {
	moto    *url.URL
	proxy   *httputil.ReverseProxy
	srv     *http.Server
	URL     string
	handle  func(string) error                                     // TestConnection's handshake
	startFn func(runID string) func() (manifest string, err error) // starts the import, returns its waiter
	sql     func(string) ([]string, [][]string, error)

	mu      sync.Mutex
	runs    map[string]*importRun
	queries map[string]*query
	log     func(format string, args ...any)
}

type importRun struct {
	workflow  string
	started   time.Time
	completed time.Time
	done      bool
	err       error
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
			run := &importRun{workflow: str("Name"), started: time.Now()}
			s.mu.Lock()
			s.runs[out.RunId] = run
			s.mu.Unlock()
			wait := s.startFn(out.RunId)
			go func() {
				_, err := wait()
				s.mu.Lock()
				run.done, run.err, run.completed = true, err, time.Now()
				s.mu.Unlock()
			}()
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
			stats := map[string]any{"TotalActions": 1, "RunningActions": 1, "SucceededActions": 0, "FailedActions": 0}
			status := "RUNNING"
			wr := map[string]any{"Name": run.workflow, "WorkflowRunId": str("RunId"), "StartedOn": float64(run.started.Unix())}
			if run.done {
				status = "COMPLETED"
				stats["RunningActions"] = 0
				if run.err != nil {
					stats["FailedActions"] = 1
					wr["ErrorMessage"] = run.err.Error()
				} else {
					stats["SucceededActions"] = 1
				}
				wr["CompletedOn"] = float64(run.completed.Unix())
			}
			wr["Status"], wr["Statistics"] = status, stats
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
