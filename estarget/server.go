package estarget

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value is an Elasticsearch 8.15.0
// target named "elasticsearch" without faults.
type Options struct {
	// Flavor is FlavorElasticsearch (default) or FlavorOpenSearch.
	Flavor string
	// Version is MAJOR.MINOR.PATCH or only a major ("9" means 9.0.0);
	// empty means 8.15.0 for Elasticsearch and 2.17.0 for OpenSearch.
	Version string
	// ClusterName defaults to the flavor's default ("elasticsearch" or
	// "opensearch").
	ClusterName string
	// NodeName defaults to "estarget".
	NodeName string
	// Faults are injected from the start; see SetFaults for runtime changes.
	Faults Faults
	// ForceMergeDelay is how long each _forcemerge call takes, so that
	// drivers polling for completion have something to wait for.
	ForceMergeDelay time.Duration
	// NoRootAPI answers GET / with 405 as Elasticsearch 8 and 9 builds
	// without the rest-root module (the integ-test archives) do, so that
	// clients must learn the version elsewhere (the nodes info API).
	NoRootAPI bool
	// Logger receives one debug line per request and info lines for state
	// changes; nil discards.
	Logger *slog.Logger
}

// Validate reports the first option New could not honour.
func (o Options) Validate() error {
	switch o.Flavor {
	case "", FlavorElasticsearch, FlavorOpenSearch:
	default:
		return &optionError{"flavor " + `"` + o.Flavor + `"` + ": want elasticsearch or opensearch"}
	}
	flavor := o.Flavor
	if flavor == "" {
		flavor = FlavorElasticsearch
	}
	if _, err := resolveVersion(flavor, o.Version); err != nil {
		return err
	}
	if o.ForceMergeDelay < 0 {
		return &optionError{"force merge delay must not be negative"}
	}
	return o.Faults.Validate()
}

type optionError struct{ msg string }

func (e *optionError) Error() string { return "estarget options: " + e.msg }

// Server is the in-memory test target. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	flavor      string
	version     versionInfo
	clusterName string
	clusterUUID string
	nodeID      string
	nodeName    string
	started     time.Time
	mergeDelay  time.Duration
	noRootAPI   bool
	log         *slog.Logger

	faults   atomic.Pointer[faultState]
	counters counters
	ids      idGenerator

	// mu guards everything in state.
	mu sync.RWMutex
	state
}

// New returns a Server for opts. Options should be checked with
// Options.Validate first; New falls back to defaults for values it cannot
// use (an unknown flavor or version, invalid faults) rather than failing.
func New(opts Options) *Server {
	s := &Server{
		flavor:     FlavorElasticsearch,
		nodeName:   opts.NodeName,
		started:    time.Now(),
		mergeDelay: max(opts.ForceMergeDelay, 0),
		noRootAPI:  opts.NoRootAPI,
		log:        opts.Logger,
	}
	if opts.Flavor == FlavorOpenSearch {
		s.flavor = FlavorOpenSearch
	}
	v, err := resolveVersion(s.flavor, opts.Version)
	if err != nil {
		v, _ = resolveVersion(s.flavor, "")
	}
	s.version = v
	s.clusterName = opts.ClusterName
	if s.clusterName == "" {
		s.clusterName = s.flavor
	}
	if s.nodeName == "" {
		s.nodeName = "estarget"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.clusterUUID = randomUUID()
	s.nodeID = randomUUID()
	s.ids.init()
	s.state.init()
	f := opts.Faults
	if f.Validate() != nil {
		f = Faults{}
	}
	s.faults.Store(newFaultState(f, s.started))
	return s
}

// SetFaults replaces the injected faults at runtime; stall windows and the
// seeded sequence restart from now. Invalid faults are refused and the
// current ones stay.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faults.Store(newFaultState(f, time.Now()))
	s.log.Info("faults set", "latency", f.Latency, "jitter", f.Jitter, "stall_every", f.StallEvery,
		"stall_for", f.StallFor, "rate_429", f.Rate429, "rate_5xx", f.Rate5xx, "seed", f.Seed)
	return nil
}

// CurrentFaults returns the faults in effect.
func (s *Server) CurrentFaults() Faults { return s.faults.Load().f }

// randomUUID returns a 22-character URL-safe id like Elasticsearch's
// cluster and node UUIDs.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// idGenerator makes 20-character document ids the way Elasticsearch's
// time-based UUIDs look: 15 bytes (6 of time, 3 of sequence, 6 of node)
// in URL-safe base64.
type idGenerator struct {
	node [6]byte
	seq  atomic.Uint32
}

func (g *idGenerator) init() {
	_, _ = rand.Read(g.node[:])
	var b [3]byte
	_, _ = rand.Read(b[:])
	g.seq.Store(uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]))
}

func (g *idGenerator) next() string {
	seq := g.seq.Add(1)
	ts := uint64(time.Now().UnixMilli())
	var raw [15]byte
	// Sequence bytes first, as Elasticsearch does, so that ids sharing a
	// millisecond differ early.
	raw[0], raw[1], raw[2] = byte(seq>>16), byte(seq>>8), byte(seq)
	for i := 0; i < 6; i++ {
		raw[3+i] = byte(ts >> (8 * (5 - i)))
	}
	copy(raw[9:], g.node[:])
	var out [20]byte
	base64.RawURLEncoding.Encode(out[:], raw[:])
	return string(out[:])
}

// endpoint names the API a request was routed to, for Counters.
type endpoint uint8

const (
	epRoot endpoint = iota
	epBulk
	epSearch
	epCount
	epScroll
	epPIT
	epDoc
	epIndexCreate
	epIndexDelete
	epIndexGet
	epIndexExists
	epSettings
	epMapping
	epHealth
	epClusterSettings
	epCat
	epStats
	epNodesStats
	epNodesInfo
	epRefresh
	epFlush
	epForceMerge
	epRecovery
	epTasks
	epTemplate
	epIndexTemplate
	epComponentTemplate
	epDataStream
	epPipeline
	epControl
	epUnknown
	numEndpoints
)

var endpointNames = [numEndpoints]string{
	"root", "bulk", "search", "count", "scroll", "point_in_time", "doc",
	"indices.create", "indices.delete", "indices.get", "indices.exists", "indices.settings", "indices.mapping",
	"cluster.health", "cluster.settings", "cat",
	"indices.stats", "nodes.stats", "nodes.info",
	"indices.refresh", "indices.flush", "indices.forcemerge", "indices.recovery", "tasks",
	"template", "index_template", "component_template", "data_stream", "ingest.pipeline",
	"estarget", "unknown",
}

type counters struct {
	requests    [numEndpoints]atomic.Int64
	delayed     atomic.Int64
	stalled     atomic.Int64
	injected429 atomic.Int64
	injected5xx atomic.Int64
	inFlight    atomic.Int64
	httpOpen    atomic.Int64
	httpTotal   atomic.Int64
}

// Counters is a snapshot of what the target has done since it started.
type Counters struct {
	// Requests counts requests by endpoint ("bulk", "search",
	// "cluster.health", ...); requests answered by an injected fault are
	// counted under the endpoint they were aimed at.
	Requests map[string]int64 `json:"requests"`
	// Indices is the number of indices (data stream backing indices
	// included); DocsStored the live documents in them; DocsDeleted the
	// deleted or overwritten ones not yet merged away; StoreBytes the raw
	// source bytes kept for both.
	Indices     int   `json:"indices"`
	DataStreams int   `json:"data_streams"`
	DocsStored  int64 `json:"docs_stored"`
	DocsDeleted int64 `json:"docs_deleted"`
	StoreBytes  int64 `json:"store_bytes"`
	// Faults counts injected faults.
	Faults FaultCounters `json:"faults"`
}

// FaultCounters counts what the fault middleware did.
type FaultCounters struct {
	Delayed     int64 `json:"delayed"`
	Stalled     int64 `json:"stalled"`
	Rejected429 int64 `json:"rejected_429"`
	Errors5xx   int64 `json:"errors_5xx"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Counters {
	c := Counters{Requests: make(map[string]int64, numEndpoints)}
	for i := range s.counters.requests {
		if n := s.counters.requests[i].Load(); n > 0 {
			c.Requests[endpointNames[i]] = n
		}
	}
	c.Faults = FaultCounters{
		Delayed: s.counters.delayed.Load(), Stalled: s.counters.stalled.Load(),
		Rejected429: s.counters.injected429.Load(), Errors5xx: s.counters.injected5xx.Load(),
	}
	s.mu.RLock()
	c.Indices = len(s.indices)
	c.DataStreams = len(s.dataStreams)
	for _, ix := range s.indices {
		c.DocsStored += int64(ix.live)
		c.DocsDeleted += int64(ix.deleted)
		c.StoreBytes += ix.storeBytes
	}
	s.mu.RUnlock()
	return c
}

var (
	hdrProduct     = []string{"Elasticsearch"}
	hdrJSON        = []string{"application/json"}
	hdrCompat      = map[string][]string{}
	hdrCompatMu    sync.Mutex
	hdrText        = []string{"text/plain; charset=UTF-8"}
	hdrUnsupported = "X-Estarget-Unsupported"
)

// contentType answers a request asking for the versioned media type
// ("application/vnd.elasticsearch+json; compatible-with=8") in kind, as
// Elasticsearch does; anything else gets application/json.
func contentType(r *http.Request) []string {
	accept := r.Header.Get("Accept")
	i := strings.Index(accept, "compatible-with=")
	if i < 0 {
		return hdrJSON
	}
	v := accept[i+len("compatible-with="):]
	if j := strings.IndexAny(v, ",; "); j >= 0 {
		v = v[:j]
	}
	hdrCompatMu.Lock()
	defer hdrCompatMu.Unlock()
	h, ok := hdrCompat[v]
	if !ok {
		if len(hdrCompat) > 16 {
			return hdrJSON
		}
		h = []string{"application/vnd.elasticsearch+json;compatible-with=" + v}
		hdrCompat[v] = h
	}
	return h
}

// ServeHTTP routes one request through the fault middleware to its handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if s.flavor == FlavorElasticsearch {
		w.Header()["X-Elastic-Product"] = hdrProduct
	}
	q := reqPool.Get().(*req)
	*q = req{r: r, query: r.URL.RawQuery}
	defer func() {
		*q = req{}
		reqPool.Put(q)
	}()
	p := r.URL.Path
	for p != "" && q.nseg < len(q.segs) {
		var seg string
		seg, p, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/")
		if seg == "" {
			continue
		}
		q.segs[q.nseg] = seg
		q.nseg++
	}
	if p != "" && strings.Trim(p, "/") != "" {
		q.nseg = len(q.segs) + 1 // too deep for any route
	}
	if q.seg(0) == "_estarget" {
		q.ep = epControl
		s.counters.requests[epControl].Add(1)
		s.serveControl(w, r, q)
		return
	}
	s.counters.inFlight.Add(1)
	defer s.counters.inFlight.Add(-1)
	handler := s.route(q)
	s.counters.requests[q.ep].Add(1)
	w, ok := s.applyFaults(w, r)
	if ok {
		handler(s, w, q)
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "endpoint", endpointNames[q.ep],
			"took", time.Since(start))
	}
}

// writeJSON sends body with the negotiated content type, indenting it when
// the request asked for ?pretty.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.Header()["Content-Type"] = contentType(r)
	if strings.Contains(r.URL.RawQuery, "pretty") {
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			buf.WriteByte('\n')
			body = buf.Bytes()
		}
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err *esError) {
	e := getEnc()
	defer putEnc(e)
	err.writeTop(e)
	s.writeJSON(w, r, err.status, e.b)
}

// writeAck sends {"acknowledged":true}.
func (s *Server) writeAck(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, []byte(`{"acknowledged":true}`))
}

// maxContentLength is Elasticsearch's default http.max_content_length.
const maxContentLength = 100 << 20

// readBody returns the request body, gunzipped when the client compressed
// it (as Elasticsearch accepts with http.compression).
func readBody(r *http.Request) ([]byte, *esError) {
	if r.Body == nil {
		return nil, nil
	}
	var src io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, badRequest("request body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	var buf []byte
	if r.ContentLength > 0 && r.ContentLength <= maxContentLength && src == r.Body {
		buf = make([]byte, 0, r.ContentLength+1)
	}
	b := bytes.NewBuffer(buf)
	n, err := b.ReadFrom(io.LimitReader(src, maxContentLength+1))
	if err != nil {
		return nil, badRequest("cannot read request body: %v", err)
	}
	if n > maxContentLength {
		return nil, errf(http.StatusRequestEntityTooLarge, "content_too_long_exception",
			"request body is too large: more than %d bytes (http.max_content_length)", maxContentLength)
	}
	return b.Bytes(), nil
}

// decodeBody unmarshals a JSON request body into v; an empty body leaves v
// alone.
func decodeBody(body []byte, v any) *esError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return xContentError("failed to parse request body: %v", err)
	}
	return nil
}

// readJSONBody reads the request body and decodes it into v (an empty body
// leaves v alone); it returns the body for callers that keep it verbatim.
func readJSONBody(r *http.Request, v any) ([]byte, *esError) {
	body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	if e := decodeBody(body, v); e != nil {
		return nil, e
	}
	return body, nil
}
