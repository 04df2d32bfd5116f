package driver

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"rally/metrics"
)

// nodeStatsPath asks the node stats API for the three groups the race's
// node telemetry reads; the other groups (indices, thread pools, ...) are
// large and unused.
const nodeStatsPath = "/_nodes/stats/jvm,process,fs"

// nodeInfoPath asks the nodes info API for every node's base members only
// (name, host, ip, version, roles): the _none metric leaves out settings,
// plugins and the rest. Elasticsearch 7 to 9 and OpenSearch 2 and 3 accept
// it.
const nodeInfoPath = "/_nodes/_all/_none"

// NodeStats is one node's cumulative figures at one moment. A figure the
// node did not report is nil, not zero: CPU time where the platform has
// none, disk figures off Linux (Elasticsearch and OpenSearch read them
// from /proc/diskstats).
type NodeStats struct {
	Name string
	// Host is the node's publish host as the stats show it.
	Host string
	// At is when the node took the figures, by its own clock; zero when it
	// did not say.
	At time.Time
	GC NodeGC
	// CPUTime is the node process's CPU time (process.cpu.total_in_millis).
	CPUTime *time.Duration
	// DiskReadBytes and DiskWriteBytes are fs.io_stats.total's
	// read_kilobytes and write_kilobytes in bytes: the traffic of the
	// devices that hold the node's data paths, from every process using
	// them, not the node's alone.
	DiskReadBytes, DiskWriteBytes *int64
	// HeapUsedBytes and HeapMaxBytes are jvm.mem's heap_used_in_bytes and
	// heap_max_in_bytes.
	HeapUsedBytes, HeapMaxBytes *int64
}

// NodeStatsSnapshot is the nodes' figures at one moment, by node name
// (names, unlike ids, are what Rally matches nodes by between the race's
// start and end).
type NodeStatsSnapshot map[string]NodeStats

// GC returns the garbage collection part of the snapshot.
func (s NodeStatsSnapshot) GC() GCSnapshot {
	g := GCSnapshot{}
	for name, n := range s {
		g[name] = n.GC
	}
	return g
}

// ReadNodeStats reads every node's cumulative figures with one
// `GET /_nodes/stats/jvm,process,fs`, which Elasticsearch and OpenSearch
// answer alike.
func ReadNodeStats(ctx context.Context, c Client) (NodeStatsSnapshot, error) {
	body, err := getNodes(ctx, c, nodeStatsPath)
	if err != nil {
		return nil, fmt.Errorf("node stats: %w", err)
	}
	snap, err := parseNodeStats(body)
	if err != nil {
		return nil, fmt.Errorf("node stats: GET %s: %w", nodeStatsPath, err)
	}
	return snap, nil
}

// NodeInfo is what the nodes info API says of a node that its stats do
// not: the version it runs and its bare IP address (the stats' ip carries
// the transport port).
type NodeInfo struct {
	Name, Host, IP, Version string
}

// ReadNodeInfo reads every node's name, addresses and version with
// `GET /_nodes/_all/_none`, by node name.
func ReadNodeInfo(ctx context.Context, c Client) (map[string]NodeInfo, error) {
	body, err := getNodes(ctx, c, nodeInfoPath)
	if err != nil {
		return nil, fmt.Errorf("node info: %w", err)
	}
	var info struct {
		Nodes map[string]struct {
			Name    string `json:"name"`
			Host    string `json:"host"`
			IP      string `json:"ip"`
			Version string `json:"version"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("node info: GET %s: %w", nodeInfoPath, err)
	}
	out := map[string]NodeInfo{}
	for id, n := range info.Nodes {
		name := cmp.Or(n.Name, id)
		out[name] = NodeInfo{Name: name, Host: n.Host, IP: n.IP, Version: n.Version}
	}
	return out, nil
}

// getNodes sends GET path and returns the body of a 200 answer.
func getNodes(ctx context.Context, c Client, path string) ([]byte, error) {
	req := Request{Method: "GET", Path: path}
	var resp Response
	if err := c.Do(ctx, &req, &resp); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.Status != 200 {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", path, resp.Status, snippet(resp.Body))
	}
	return bytes.Clone(resp.Body), nil // the client's buffer is reused by its next request
}

// nodeStatsJSON is what ReadNodeStats reads of one node. Pointers tell a
// figure the node did not report from a zero.
type nodeStatsJSON struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	Timestamp int64  `json:"timestamp"`
	Process   struct {
		CPU struct {
			TotalInMillis *int64 `json:"total_in_millis"`
		} `json:"cpu"`
	} `json:"process"`
	JVM struct {
		Mem struct {
			HeapUsedInBytes *int64 `json:"heap_used_in_bytes"`
			HeapMaxInBytes  *int64 `json:"heap_max_in_bytes"`
		} `json:"mem"`
		GC struct {
			Collectors map[string]struct {
				CollectionCount        int64 `json:"collection_count"`
				CollectionTimeInMillis int64 `json:"collection_time_in_millis"`
			} `json:"collectors"`
		} `json:"gc"`
	} `json:"jvm"`
	FS struct {
		IOStats struct {
			Total struct {
				ReadKilobytes  *int64 `json:"read_kilobytes"`
				WriteKilobytes *int64 `json:"write_kilobytes"`
			} `json:"total"`
		} `json:"io_stats"`
	} `json:"fs"`
}

// parseNodeStats reads a node stats answer into a snapshot. A node without
// a name goes by its id. Negative figures are how the nodes say "unknown"
// (process.cpu.total_in_millis is -1 where the JVM cannot tell), so they
// are nil too.
func parseNodeStats(body []byte) (NodeStatsSnapshot, error) {
	var st struct {
		Nodes map[string]nodeStatsJSON `json:"nodes"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, err
	}
	snap := NodeStatsSnapshot{}
	for id, n := range st.Nodes {
		name := cmp.Or(n.Name, id)
		s := NodeStats{Name: name, Host: n.Host, GC: NodeGC{},
			DiskReadBytes:  scaled(n.FS.IOStats.Total.ReadKilobytes, 1024),
			DiskWriteBytes: scaled(n.FS.IOStats.Total.WriteKilobytes, 1024),
			HeapUsedBytes:  scaled(n.JVM.Mem.HeapUsedInBytes, 1),
			HeapMaxBytes:   scaled(n.JVM.Mem.HeapMaxInBytes, 1),
		}
		if n.Timestamp > 0 {
			s.At = time.UnixMilli(n.Timestamp)
		}
		if ns := scaled(n.Process.CPU.TotalInMillis, int64(time.Millisecond)); ns != nil {
			d := time.Duration(*ns)
			s.CPUTime = &d
		}
		for collector, f := range n.JVM.GC.Collectors {
			class, ok := gcClasses[collector]
			if !ok {
				continue
			}
			sum := s.GC[class]
			sum.Count += f.CollectionCount
			sum.Time += time.Duration(f.CollectionTimeInMillis) * time.Millisecond
			s.GC[class] = sum
		}
		snap[name] = s
	}
	return snap, nil
}

// scaled returns *v·unit, or nil when v is nil, negative or too large to
// scale.
func scaled(v *int64, unit int64) *int64 {
	if v == nil || *v < 0 || *v > math.MaxInt64/unit {
		return nil
	}
	x := *v * unit
	return &x
}

// NodeUsage is what one node did between two snapshots, and its heap at
// the second. A figure is nil when either snapshot lacks it, or when it
// went down between them (the node restarted, so what it did is unknown).
type NodeUsage struct {
	Name string
	Host string
	// Elapsed is the time between the snapshots by the node's clock; zero
	// when the node did not date its figures.
	Elapsed time.Duration
	// GC is the node's garbage collection as GCSince counts it (a figure
	// that went down counts zero), so that the nodes' add up to the
	// cluster's rows.
	GC      metrics.GCFigures
	CPUTime *time.Duration
	// CPUPercent is CPUTime over Elapsed in percent of one core (200 is two
	// cores busy throughout).
	CPUPercent                    *float64
	DiskReadBytes, DiskWriteBytes *int64
	HeapUsedBytes, HeapMaxBytes   *int64
}

// NodeUsageSince returns what each node in both snapshots did between
// them, by node name. Nodes in one snapshot only are left out, as GCSince
// leaves them out of its sums, which are the sums of the nodes' GC here.
func NodeUsageSince(start, end NodeStatsSnapshot) []NodeUsage {
	var out []NodeUsage
	for name, s := range start {
		e, ok := end[name]
		if !ok {
			continue
		}
		u := NodeUsage{Name: name, Host: cmp.Or(e.Host, s.Host),
			GC:             GCSince(GCSnapshot{name: s.GC}, GCSnapshot{name: e.GC}),
			CPUTime:        since(s.CPUTime, e.CPUTime),
			DiskReadBytes:  since(s.DiskReadBytes, e.DiskReadBytes),
			DiskWriteBytes: since(s.DiskWriteBytes, e.DiskWriteBytes),
			HeapUsedBytes:  e.HeapUsedBytes,
			HeapMaxBytes:   e.HeapMaxBytes,
		}
		if !s.At.IsZero() && !e.At.IsZero() {
			u.Elapsed = max(e.At.Sub(s.At), 0)
		}
		if u.CPUTime != nil && u.Elapsed > 0 {
			pct := float64(*u.CPUTime) / float64(u.Elapsed) * 100
			u.CPUPercent = &pct
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b NodeUsage) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// since returns end - start, or nil when either is missing or the figure
// went down.
func since[T int64 | time.Duration](start, end *T) *T {
	if start == nil || end == nil || *end < *start {
		return nil
	}
	d := *end - *start
	return &d
}
