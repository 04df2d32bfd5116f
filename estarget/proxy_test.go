package estarget

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// upstream is an engine stand-in for the proxy's unit tests (the real
// engines are in the e2e tests).
func upstream(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// echo answers with what it got: method, path, query, one header and the
// body, and says which connection carried it.
type echo struct {
	mu    sync.Mutex
	conns map[string]int
	seen  atomic.Int64
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.seen.Add(1)
	e.mu.Lock()
	if e.conns == nil {
		e.conns = map[string]int{}
	}
	e.conns[r.RemoteAddr]++
	e.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Seen-Connection", r.Header.Get("Connection")+"|"+r.Header.Get("Keep-Alive"))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"method":%q,"path":%q,"query":%q,"opaque":%q,"host":%q,"body":%q}`,
		r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Opaque-Id"), r.Host, body)
}

func TestProxyForwardsRequestsAndAnswers(t *testing.T) {
	e := &echo{}
	up := upstream(t, e.ServeHTTP)
	s := New(Options{Upstream: up.URL})
	url := serve(t, s)
	client := &http.Client{}
	for i := range 20 {
		req, _ := http.NewRequest(http.MethodPost, url+"/logs/_bulk?refresh=wait_for&pipeline=a%2Fb", strings.NewReader(bulkBody("logs", 2)))
		req.Header.Set("X-Opaque-Id", fmt.Sprint("req-", i))
		req.Header.Set("Keep-Alive", "timeout=5")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := fmt.Sprintf(`{"method":"POST","path":"/logs/_bulk","query":"refresh=wait_for\u0026pipeline=a%%2Fb","opaque":"req-%d","host":%q,"body":%q}`,
			i, strings.TrimPrefix(up.URL, "http://"), bulkBody("logs", 2))
		if res.StatusCode != http.StatusCreated || !jsonEqual(t, body, []byte(want)) {
			t.Fatalf("answer %d %s\nwant %s", res.StatusCode, body, want)
		}
		if res.Header.Get("X-Elastic-Product") != "Elasticsearch" || res.Header.Get("X-Seen-Connection") != "|" {
			t.Fatalf("headers %v: the engine's pass back, hop-by-hop ones are not forwarded", res.Header)
		}
	}
	// Sequential requests reuse one upstream connection.
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.conns) != 1 {
		t.Errorf("upstream connections %v, want one kept alive", e.conns)
	}
	st := s.Stats()
	if st.Upstream != up.URL || st.Requests["bulk"] != 20 || st.Docs != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestProxyStreamsChunkedAnswers(t *testing.T) {
	release := make(chan struct{})
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"part":1`)
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, `,"part2":2}`)
	})
	url := serve(t, New(Options{Upstream: up.URL}))
	res, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, 9)
	if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != `{"part":1` {
		t.Fatalf("the first part did not flow through before the upstream finished: %q %v", first, err)
	}
	close(release)
	rest, _ := io.ReadAll(res.Body)
	if string(rest) != `,"part2":2}` || res.ContentLength != -1 {
		t.Fatalf("rest %q, length %d", rest, res.ContentLength)
	}
}

func TestProxyNamesAnUnreachableUpstream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := New(Options{Upstream: "http://" + addr})
	eb := mustError(t, call(t, s, http.MethodGet, "/", ""), http.StatusBadGateway, "estarget_upstream_exception")
	if !strings.Contains(eb.Error.Reason, addr) {
		t.Fatalf("reason %q does not name the upstream", eb.Error.Reason)
	}
	if s.Stats().UpstreamErrors != 1 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

// TestProxyFaults: rejections and resets never reach the engine; a
// truncated answer is the engine's, cut; requests no rule matches pass.
func TestProxyFaults(t *testing.T) {
	e := &echo{}
	up := upstream(t, e.ServeHTTP)
	s := New(Options{Upstream: up.URL, Faults: Faults{Rules: []Rule{
		{Method: "POST", Path: "*/_bulk", Rate429: 1},
		{Path: "*/_search", RateTruncate: 1},
		{Path: "/reset", RateReset: 1},
	}}})
	url := serve(t, s)
	res, body, err := get(t, http.MethodPost, url+"/ix/_bulk", bulkBody("ix", 1))
	if err != nil || res.StatusCode != 429 || !strings.Contains(string(body), "es_rejected_execution_exception") {
		t.Fatalf("bulk: %v %v %s", err, res, body)
	}
	if res.Header.Get("X-Elastic-Product") != "" {
		t.Error("the proxy's own answers do not claim to be Elasticsearch")
	}
	if _, _, err := get(t, http.MethodGet, url+"/reset", ""); err == nil {
		t.Fatal("GET /reset was answered")
	}
	if e.seen.Load() != 0 {
		t.Fatalf("the engine saw %d requests; rejections and resets must not reach it", e.seen.Load())
	}
	res, body, err = get(t, http.MethodPost, url+"/ix/_search", `{"query":{"match_all":{}}}`)
	if err == nil || res.ContentLength <= int64(len(body)) || !strings.HasPrefix(string(body), `{"method":"POST"`) {
		t.Fatalf("search: %v, length %d, body %q: want the engine's answer cut", err, res.ContentLength, body)
	}
	if res, _, err := get(t, http.MethodGet, url+"/ix/_count", ""); err != nil || res.StatusCode != 201 {
		t.Fatalf("count: %v %v", err, res)
	}
	if e.seen.Load() != 2 {
		t.Fatalf("the engine saw %d requests, want the search and the count", e.seen.Load())
	}
	f := s.Stats().Faults
	if f.Rejected429 != 1 || f.Resets != 1 || f.Truncated != 1 {
		t.Fatalf("fault counters %+v", f)
	}
}

// TestProxyChangesFaultsAtRuntime: PUT /_estarget/faults takes effect on
// the next request and is never itself forwarded.
func TestProxyChangesFaultsAtRuntime(t *testing.T) {
	e := &echo{}
	up := upstream(t, e.ServeHTTP)
	s := New(Options{Upstream: up.URL})
	must(t, s, http.StatusCreated, http.MethodGet, "/", "")
	must(t, s, http.StatusOK, http.MethodPut, "/_estarget/faults", `{"rules":[{"path":"/","rate_5xx":1}]}`)
	if st := call(t, s, http.MethodGet, "/", "").status; st != 503 && st != 500 {
		t.Fatalf("status %d after the change", st)
	}
	must(t, s, http.StatusOK, http.MethodPut, "/_estarget/faults", `{}`)
	must(t, s, http.StatusCreated, http.MethodGet, "/", "")
	if e.seen.Load() != 2 {
		t.Fatalf("the engine saw %d requests, want 2", e.seen.Load())
	}
}

func TestUpstreamOptionIsChecked(t *testing.T) {
	for _, bad := range []string{"localhost:9200", "ftp://h:1", "http://", "http://h:1/?x=1", "http://u:p@h:1"} {
		if err := (Options{Upstream: bad}).Validate(); err == nil || !strings.Contains(err.Error(), "upstream") {
			t.Errorf("upstream %q: %v", bad, err)
		}
	}
	if err := (Options{Upstream: "http://127.0.0.1:9200"}).Validate(); err != nil {
		t.Fatal(err)
	}
	if New(Options{Upstream: "http://127.0.0.1:9200/base"}).Upstream() != "http://127.0.0.1:9200/base" {
		t.Fatal("upstream not kept")
	}
}

func TestProxyKeepsAnUpstreamBasePath(t *testing.T) {
	e := &echo{}
	up := upstream(t, e.ServeHTTP)
	res := must(t, New(Options{Upstream: up.URL + "/es/"}), http.StatusCreated, http.MethodGet, "/ix/_count?q=a", "")
	if !strings.Contains(string(res.body), `"path":"/es/ix/_count"`) || !strings.Contains(string(res.body), `"query":"q=a"`) {
		t.Fatalf("forwarded as %s", res.body)
	}
}
