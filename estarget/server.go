package estarget

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value is a canned Elasticsearch
// 8.15.0 target named "elasticsearch" without faults.
type Options struct {
	// Upstream, when set ("http://127.0.0.1:9200"), makes the server a
	// proxy: every request goes to that real engine, faults applied on
	// the way. Flavor, Version, ClusterName, NodeName and NoRootAPI only
	// shape the canned answers and are ignored then.
	Upstream string
	// Flavor is FlavorElasticsearch (default) or FlavorOpenSearch.
	Flavor string
	// Version is MAJOR.MINOR.PATCH or only a major ("9" means 9.0.0);
	// empty means 8.15.0 for Elasticsearch and 2.17.0 for OpenSearch.
	Version string
	// ClusterName defaults to the flavor's name.
	ClusterName string
	// NodeName defaults to "estarget".
	NodeName string
	// Faults are injected from the start; see SetFaults for runtime changes.
	Faults Faults
	// NoRootAPI answers GET / with 405 as Elasticsearch 8 and 9 builds
	// without the rest-root module (the integ-test archives) do, so that
	// clients must learn the version elsewhere (the nodes info API).
	NoRootAPI bool
	// Logger receives one debug line per request and info lines for fault
	// changes; nil discards.
	Logger *slog.Logger
}

// Validate reports the first option New could not honour.
func (o Options) Validate() error {
	if o.Upstream != "" {
		if _, err := parseUpstream(o.Upstream); err != nil {
			return err
		}
	}
	switch o.Flavor {
	case "", FlavorElasticsearch, FlavorOpenSearch:
	default:
		return fmt.Errorf("estarget options: flavor %q: want elasticsearch or opensearch", o.Flavor)
	}
	if _, err := resolveVersion(cmp.Or(o.Flavor, FlavorElasticsearch), o.Version); err != nil {
		return fmt.Errorf("estarget options: %w", err)
	}
	return o.Faults.Validate()
}

// parseUpstream checks an upstream address: http or https, a host, no
// query.
func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("estarget options: upstream %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("estarget options: upstream %q: want http://HOST:PORT or https://HOST:PORT (no query, no credentials)", s)
	}
	return u, nil
}

// Server is the test target: a proxy in front of a real engine or, without
// one, the canned API. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	proxy *proxy // nil in canned mode

	flavor      string
	version     versionInfo
	clusterName string
	clusterUUID string
	nodeID      string
	nodeName    string
	started     time.Time
	noRootAPI   bool
	log         *slog.Logger

	faults   atomic.Pointer[faultState]
	counters counters
	store    store
}

// New returns a Server for opts. Options should be checked with
// Options.Validate first; New falls back to defaults for values it cannot
// use (an unknown flavor or version, invalid faults, a bad upstream means
// canned mode) rather than failing.
func New(opts Options) *Server {
	s := &Server{
		flavor:      FlavorElasticsearch,
		nodeName:    cmp.Or(opts.NodeName, "estarget"),
		started:     time.Now(),
		noRootAPI:   opts.NoRootAPI,
		log:         opts.Logger,
		clusterUUID: randomID(16),
		nodeID:      randomID(16),
	}
	if u, err := parseUpstream(opts.Upstream); opts.Upstream != "" && err == nil {
		s.proxy = newProxy(u)
	}
	if opts.Flavor == FlavorOpenSearch {
		s.flavor = FlavorOpenSearch
	}
	v, err := resolveVersion(s.flavor, opts.Version)
	if err != nil {
		v, _ = resolveVersion(s.flavor, "")
	}
	s.version = v
	s.clusterName = cmp.Or(opts.ClusterName, s.flavor)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.store.init()
	f := opts.Faults
	if f.Validate() != nil {
		f = Faults{}
	}
	s.faults.Store(newFaultState(f, s.started))
	return s
}

// Upstream is the engine the server forwards to, "" in canned mode.
func (s *Server) Upstream() string {
	if s.proxy == nil {
		return ""
	}
	return s.proxy.base.String()
}

// SetFaults replaces the injected faults at runtime; stall windows and the
// seeded sequence restart from now. Invalid faults are refused and the
// current ones stay.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faults.Store(newFaultState(f, time.Now()))
	b, _ := json.Marshal(f)
	s.log.Info("faults set", "faults", string(b))
	return nil
}

// CurrentFaults returns the faults in effect.
func (s *Server) CurrentFaults() Faults { return s.faults.Load().f }

// randomID returns n random bytes in URL-safe base64, like Elasticsearch's
// cluster and node UUIDs (16 bytes: 22 characters).
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// The fault counters, by kind.
const (
	cDelayed = iota
	cStalled
	c429
	c503
	c500
	cReset
	cTruncated
	cSlowed
	cUpstreamErrors
	numCounters
)

// maxAPINames bounds the request counters' keys: paths are client input.
const maxAPINames = 64

type counters struct {
	mu        sync.Mutex
	requests  map[string]*atomic.Int64
	faults    [numCounters]atomic.Int64
	httpOpen  atomic.Int64
	httpTotal atomic.Int64
}

// count adds one request to api's counter.
func (c *counters) count(api string) {
	c.mu.Lock()
	n, ok := c.requests[api]
	if !ok {
		if c.requests == nil {
			c.requests = map[string]*atomic.Int64{}
		}
		if len(c.requests) >= maxAPINames {
			api = "other"
		}
		if n, ok = c.requests[api]; !ok {
			n = new(atomic.Int64)
			c.requests[api] = n
		}
	}
	c.mu.Unlock()
	n.Add(1)
}

func (c *counters) served() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum int64
	for _, n := range c.requests {
		sum += n.Load()
	}
	return sum
}

// apiOf names the API a path is aimed at, for the request counters: its
// first segment that starts with an underscore, without it ("bulk",
// "search", "cluster", "nodes"), else "index" below the root and "root"
// at it.
func apiOf(path string) string {
	for _, seg := range strings.Split(path, "/") {
		if len(seg) > 1 && seg[0] == '_' {
			return seg[1:]
		}
	}
	if strings.Trim(path, "/") == "" {
		return "root"
	}
	return "index"
}

// Counters is a snapshot of what the target has done since it started.
type Counters struct {
	// Upstream is the engine requests are forwarded to; empty in canned
	// mode.
	Upstream string `json:"upstream,omitempty"`
	// Requests counts requests by the API they were aimed at ("bulk",
	// "search", "cluster", "index", "root", ...; see apiOf), faulted ones
	// included; /_estarget/ requests are not counted.
	Requests map[string]int64 `json:"requests"`
	// Faults counts what the fault rules did.
	Faults FaultCounters `json:"faults"`
	// UpstreamErrors counts requests the upstream did not answer (502).
	UpstreamErrors int64 `json:"upstream_errors"`
	// Indices (data streams included) and Docs are the canned mode's
	// per-index counters.
	Indices int   `json:"indices"`
	Docs    int64 `json:"docs"`
}

// FaultCounters counts injected faults by kind.
type FaultCounters struct {
	Delayed     int64 `json:"delayed"`
	Stalled     int64 `json:"stalled"`
	Rejected429 int64 `json:"rejected_429"`
	Errors503   int64 `json:"errors_503"`
	Errors500   int64 `json:"errors_500"`
	Resets      int64 `json:"resets"`
	Truncated   int64 `json:"truncated"`
	Slowed      int64 `json:"slowed"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Counters {
	c := Counters{Upstream: s.Upstream(), Requests: map[string]int64{}}
	s.counters.mu.Lock()
	for api, n := range s.counters.requests {
		c.Requests[api] = n.Load()
	}
	s.counters.mu.Unlock()
	f := &s.counters.faults
	c.Faults = FaultCounters{Delayed: f[cDelayed].Load(), Stalled: f[cStalled].Load(), Rejected429: f[c429].Load(),
		Errors503: f[c503].Load(), Errors500: f[c500].Load(), Resets: f[cReset].Load(), Truncated: f[cTruncated].Load(),
		Slowed: f[cSlowed].Load()}
	c.UpstreamErrors = f[cUpstreamErrors].Load()
	c.Indices, c.Docs = s.store.totals()
	return c
}

var hdrProduct = []string{"Elasticsearch"}

// ServeHTTP runs one request through the fault rules to the upstream or
// the canned API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	path := r.URL.Path
	if path == "/_estarget" || strings.HasPrefix(path, "/_estarget/") {
		s.serveControl(w, r)
		return
	}
	if s.proxy == nil && s.flavor == FlavorElasticsearch {
		w.Header()["X-Elastic-Product"] = hdrProduct
	}
	s.counters.count(apiOf(path))
	fs := s.faults.Load()
	rule := fs.match(r.Method, path)
	var kind faultKind
	if rule != nil {
		var ok bool
		if kind, ok = s.beforeAnswer(w, r, fs, rule); !ok {
			return
		}
	}
	var a answer
	if s.proxy != nil {
		a = s.proxy.forward(s, r)
	} else {
		a = s.canned(r)
	}
	s.deliver(w, r, &a, fs, rule, kind)
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("request", "method", r.Method, "path", path, "status", a.status, "took", time.Since(start))
	}
}

// esError is one Elasticsearch exception as REST responses carry it.
type esError struct {
	status int
	typ    string
	reason string
	index  string
}

func errf(status int, typ, format string, args ...any) *esError {
	return &esError{status: status, typ: typ, reason: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *esError {
	return errf(http.StatusBadRequest, "illegal_argument_exception", format, args...)
}

func indexNotFound(name string) *esError {
	return &esError{status: http.StatusNotFound, typ: "index_not_found_exception", reason: "no such index [" + name + "]", index: name}
}

// body renders {"error":{"root_cause":[{...}],"type":...,"reason":...},"status":N}.
func (e *esError) body() []byte {
	cause := obj{"type": e.typ, "reason": e.reason}
	if e.index != "" {
		cause["index"] = e.index
	}
	top := obj{"root_cause": []obj{cause}}
	maps.Copy(top, cause)
	b, _ := json.Marshal(obj{"error": top, "status": e.status})
	return b
}

// serveControl serves the target's own namespace, which is never faulted:
//
//	GET  /_estarget/faults   the faults in effect
//	PUT  /_estarget/faults   replace them (Faults' JSON form)
//	GET  /_estarget/stats    Counters as JSON
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	var rep reply
	switch r.URL.Path {
	case "/_estarget/faults":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			rep = jsonReply(http.StatusOK, s.CurrentFaults())
		case http.MethodPut, http.MethodPost:
			body, e := readBody(r)
			if e != nil {
				rep = errorReply(e)
				break
			}
			var f Faults
			if err := json.Unmarshal(body, &f); err != nil {
				rep = errorReply(badRequest("estarget: %v", err))
			} else if err := s.SetFaults(f); err != nil {
				rep = errorReply(badRequest("estarget: %v", err))
			} else {
				rep = jsonReply(http.StatusOK, s.CurrentFaults())
			}
		default:
			rep = methodNotAllowed(r, "GET, HEAD, PUT")
		}
	case "/_estarget/stats":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			rep = methodNotAllowed(r, "GET, HEAD")
			break
		}
		rep = jsonReply(http.StatusOK, s.Stats())
	default:
		rep = errorReply(badRequest("estarget: no control endpoint [%s]: see /_estarget/faults and /_estarget/stats", r.URL.Path))
	}
	a := rep.answer()
	s.deliver(w, r, &a, nil, nil, faultNone)
}
