package race

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"rally/driver"
	"rally/spelling"
)

// Device is a telemetry device as esrally names them (--telemetry).
type Device struct {
	Name        string
	Description string
	// NodeStart devices change how a node starts (JVM options), so they
	// are given where the nodes start: rally up, or a from-distribution
	// race; the others run during any race.
	NodeStart bool
	// Params are the --telemetry-params keys the device reads.
	Params []string
}

// Devices are the telemetry devices rally has. Each node host's /proc
// figures (CPU, memory, disk and network I/O of the host and the nodes'
// processes) and the node-stats summary are always collected for nodes
// rally started; these add detail.
var Devices = []Device{
	{Name: "node-stats", Description: "Samples the node stats API (JVM memory and GC, thread pools, breakers, OS, process CPU, transport; indices on request) every node-stats-sample-interval seconds (default 1) into telemetry/node-stats.jsonl of the race, one flattened document per node and sample, as esrally's node-stats device records them.",
		Params: []string{"node-stats-sample-interval", "node-stats-include-indices"}},
	{Name: "segment-stats", Description: "Writes the index segments (GET /_cat/segments?v) at the race's end into telemetry/segment-stats.log of the race."},
	{Name: "gc", Description: "Enables the JVM's GC log on each node (-Xlog:gc*...), in the node's log directory as gc.log, fetched with the node's logs.", NodeStart: true},
	{Name: "jfr", Description: "Enables Java Flight Recorder on each node, written when the node stops to profile.jfr in its log directory (fetched with its logs); recording-template names a JFR settings file or template.", NodeStart: true,
		Params: []string{"recording-template"}},
}

// Telemetry is what --telemetry and --telemetry-params ask for.
type Telemetry struct {
	Devices []string       `json:"devices,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
}

// ParseTelemetry checks a --telemetry list and its --telemetry-params:
// unknown devices and parameters are refused, with the nearest name.
func ParseTelemetry(list string, params map[string]any) (Telemetry, error) {
	var t Telemetry
	names := make([]string, len(Devices))
	for i, d := range Devices {
		names[i] = d.Name
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !slices.Contains(names, item) {
			return t, fmt.Errorf("unknown telemetry device %q%s (rally list telemetry lists them)", item, hint(item, names))
		}
		if !slices.Contains(t.Devices, item) {
			t.Devices = append(t.Devices, item)
		}
	}
	var known []string
	for _, d := range Devices {
		known = append(known, d.Params...)
	}
	for k, v := range params {
		if !slices.Contains(known, k) {
			return t, fmt.Errorf("unknown telemetry parameter %q%s (known: %s)", k, hint(k, known), strings.Join(known, ", "))
		}
		switch k {
		case "node-stats-sample-interval":
			if f, ok := number(v); !ok || f <= 0 {
				return t, fmt.Errorf("telemetry parameter node-stats-sample-interval: want a number of seconds above zero, got %v", v)
			}
		case "node-stats-include-indices":
			if _, ok := v.(bool); !ok {
				return t, fmt.Errorf("telemetry parameter node-stats-include-indices: want true or false, got %v", v)
			}
		}
	}
	t.Params = params
	return t, nil
}

// Has tells whether device is on.
func (t Telemetry) Has(device string) bool { return slices.Contains(t.Devices, device) }

// NodeStart returns the devices of t that are set when nodes start.
func (t Telemetry) NodeStart() []string {
	var out []string
	for _, d := range Devices {
		if d.NodeStart && t.Has(d.Name) {
			out = append(out, d.Name)
		}
	}
	return out
}

// Race returns the devices of t that run during a race.
func (t Telemetry) Race() []string {
	var out []string
	for _, d := range Devices {
		if !d.NodeStart && t.Has(d.Name) {
			out = append(out, d.Name)
		}
	}
	return out
}

func hint(word string, known []string) string {
	if best, ok := spelling.Nearest(word, known, max(2, len(word)/3)); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// nodeStatsRecorder is esrally's node-stats device: it samples the node
// stats API and appends one flattened document per node and sample.
type nodeStatsRecorder struct {
	client   driver.Client
	interval time.Duration
	path     string
	metrics  string
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	samples  int
	err      error
}

// nodeStatsSections are the node stats esrally's device records.
const nodeStatsSections = "jvm,os,process,thread_pool,breaker,transport"

func startNodeStats(client driver.Client, t Telemetry, dir string) (*nodeStatsRecorder, error) {
	interval := time.Second
	if f, ok := number(t.Params["node-stats-sample-interval"]); ok {
		interval = time.Duration(f * float64(time.Second))
	}
	metrics := nodeStatsSections
	if t.Params["node-stats-include-indices"] == true {
		metrics += ",indices"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &nodeStatsRecorder{client: client, interval: interval, path: filepath.Join(dir, "node-stats.jsonl"),
		metrics: metrics, stop: make(chan struct{}), done: make(chan struct{})}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	go r.run(f)
	return r, nil
}

func (r *nodeStatsRecorder) run(f *os.File) {
	defer close(r.done)
	w := bufio.NewWriter(f)
	defer func() {
		if err := w.Flush(); err != nil {
			r.note(err)
		}
		if err := f.Close(); err != nil {
			r.note(err)
		}
	}()
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		r.sample(w)
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
	}
}

func (r *nodeStatsRecorder) note(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

func (r *nodeStatsRecorder) sample(w *bufio.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), max(r.interval, 5*time.Second))
	defer cancel()
	req := driver.Request{Method: "GET", Path: "/_nodes/stats/" + r.metrics}
	var resp driver.Response
	if err := r.client.Do(ctx, &req, &resp); err != nil {
		r.note(fmt.Errorf("GET %s: %w", req.Path, err))
		return
	}
	if resp.Status != 200 {
		r.note(fmt.Errorf("GET %s: HTTP %d", req.Path, resp.Status))
		return
	}
	docs, err := flattenNodeStats(resp.Body, time.Now())
	if err != nil {
		r.note(err)
		return
	}
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			r.note(err)
			return
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	r.mu.Lock()
	r.samples++
	r.mu.Unlock()
}

// finish stops the sampling and says how many samples were written.
func (r *nodeStatsRecorder) finish() (int, error) {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samples, r.err
}

// flattenNodeStats turns a node stats answer into one document per node:
// nested numbers keyed by their path joined with "_" under each section's
// prefix, as esrally's node-stats device writes them (jvm_mem_heap_used_in_bytes,
// thread_pool_search_queue, breakers_parent_tripped, ...); lists are left
// out.
func flattenNodeStats(body []byte, at time.Time) ([]map[string]any, error) {
	var resp struct {
		Nodes map[string]map[string]any `json:"nodes"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("node stats: %w", err)
	}
	ids := make([]string, 0, len(resp.Nodes))
	for id := range resp.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var docs []map[string]any
	for _, id := range ids {
		n := resp.Nodes[id]
		doc := map[string]any{"@timestamp": at.UTC().Format(time.RFC3339Nano), "name": "node-stats", "node_id": id}
		if s, ok := n["name"].(string); ok {
			doc["node_name"] = s
		}
		if s, ok := n["host"].(string); ok {
			doc["host"] = s
		}
		for _, section := range []string{"indices", "thread_pool", "breakers", "transport", "os", "process", "jvm"} {
			if v, ok := n[section].(map[string]any); ok {
				flatten(doc, section, v)
			}
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

func flatten(into map[string]any, prefix string, v map[string]any) {
	for k, x := range v {
		key := prefix + "_" + k
		switch x := x.(type) {
		case map[string]any:
			flatten(into, key, x)
		case float64, bool:
			into[key] = x
		}
	}
}

// raceDevices are the telemetry devices running during one race.
type raceDevices struct {
	c         *Conductor
	p         *Plan
	dir       string // the race's telemetry directory
	nodeStats *nodeStatsRecorder
}

// startDevices starts the race's devices that sample during the race;
// one that cannot start is logged, and the race goes on without it.
func (c *Conductor) startDevices(p *Plan, id string) *raceDevices {
	d := &raceDevices{c: c, p: p, dir: filepath.Join(c.cfg.Store.Dir, id, "telemetry")}
	if p.Request.Telemetry.Has("node-stats") {
		client, err := driver.NewClient("", p.Targets[0], p.Options)
		if err == nil {
			d.nodeStats, err = startNodeStats(client, p.Request.Telemetry, d.dir)
		}
		if err != nil {
			c.log.Warn("telemetry device node-stats not started", "err", err)
		}
	}
	return d
}

// finish stops the sampling devices and runs those of the race's end.
func (d *raceDevices) finish(ctx context.Context) {
	if d.nodeStats != nil {
		n, err := d.nodeStats.finish()
		closeClient(d.nodeStats.client)
		if err != nil {
			d.c.log.Warn("telemetry device node-stats", "samples", n, "err", err)
		} else {
			d.c.log.Info("telemetry device node-stats", "samples", n, "file", d.nodeStats.path)
		}
	}
	if d.p.Request.Telemetry.Has("segment-stats") {
		if err := d.segmentStats(ctx); err != nil {
			d.c.log.Warn("telemetry device segment-stats", "err", err)
		}
	}
}

// segmentStats is esrally's segment-stats device: the index segments at
// the race's end, as _cat/segments prints them.
func (d *raceDevices) segmentStats(ctx context.Context) error {
	client, err := driver.NewClient("", d.p.Targets[0], d.p.Options)
	if err != nil {
		return err
	}
	defer closeClient(client)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := driver.Request{Method: "GET", Path: "/_cat/segments?v"}
	var resp driver.Response
	if err := client.Do(sctx, &req, &resp); err != nil {
		return err
	}
	if resp.Status != 200 {
		return fmt.Errorf("GET /_cat/segments: HTTP %d", resp.Status)
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.dir, "segment-stats.log"), resp.Body, 0o644)
}
