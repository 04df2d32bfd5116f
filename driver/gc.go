package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"rally/metrics"
)

// GCCollector is a class of JVM garbage collector as Rally's report groups
// them: its rows are per class, summed over nodes.
type GCCollector string

// The collector classes of Rally's report rows. Other collectors
// (generational ZGC, Shenandoah, G1's concurrent cycles) have no row in
// Rally's report and are not read.
const (
	GCYoung     GCCollector = "young"
	GCOld       GCCollector = "old"
	GCZGCCycles GCCollector = "zgc-cycles"
	GCZGCPauses GCCollector = "zgc-pauses"
)

// gcClasses maps the collector names of the node stats API to their class.
// Elasticsearch and OpenSearch already report the generational collectors
// of the JDK (G1, Parallel, CMS, Serial) as "young" and "old" and every
// other collector under its JVM name; the JVM names are accepted too so a
// node that reports them raw is counted the same.
var gcClasses = map[string]GCCollector{
	"young": GCYoung, "G1 Young Generation": GCYoung, "ParNew": GCYoung, "PS Scavenge": GCYoung, "Copy": GCYoung,
	"old": GCOld, "G1 Old Generation": GCOld, "ConcurrentMarkSweep": GCOld, "PS MarkSweep": GCOld, "MarkSweepCompact": GCOld,
	"ZGC Cycles": GCZGCCycles,
	"ZGC Pauses": GCZGCPauses,
}

// GCCounts is one collector class's cumulative figures on one node.
type GCCounts struct {
	Count int64
	Time  time.Duration
}

// NodeGC is one node's figures by collector class; a class the node does
// not run is absent.
type NodeGC map[GCCollector]GCCounts

// GCSnapshot is the cluster's cumulative JVM garbage collection figures at
// one moment, by node name (names, unlike ids, are what Rally matches
// nodes by between the race's start and end).
type GCSnapshot map[string]NodeGC

// ReadGC reads the nodes' garbage collectors from `GET /_nodes/stats/jvm`
// (nodes.<id>.jvm.gc.collectors.<name>), which Elasticsearch and
// OpenSearch answer alike.
func ReadGC(ctx context.Context, c Client) (GCSnapshot, error) {
	req := Request{Method: "GET", Path: "/_nodes/stats/jvm"}
	var resp Response
	if err := c.Do(ctx, &req, &resp); err != nil {
		return nil, fmt.Errorf("gc figures: GET /_nodes/stats/jvm: %w", err)
	}
	if resp.Status != 200 {
		return nil, fmt.Errorf("gc figures: GET /_nodes/stats/jvm: HTTP %d: %s", resp.Status, snippet(resp.Body))
	}
	snap, err := parseGC(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("gc figures: GET /_nodes/stats/jvm: %w", err)
	}
	return snap, nil
}

// parseGC reads a node stats answer into a GCSnapshot.
func parseGC(body []byte) (GCSnapshot, error) {
	var st struct {
		Nodes map[string]struct {
			Name string `json:"name"`
			JVM  struct {
				GC struct {
					Collectors map[string]struct {
						CollectionCount        int64 `json:"collection_count"`
						CollectionTimeInMillis int64 `json:"collection_time_in_millis"`
					} `json:"collectors"`
				} `json:"gc"`
			} `json:"jvm"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, err
	}
	snap := GCSnapshot{}
	for id, n := range st.Nodes {
		name := n.Name
		if name == "" {
			name = id
		}
		node := NodeGC{}
		for collector, f := range n.JVM.GC.Collectors {
			class, ok := gcClasses[collector]
			if !ok {
				continue
			}
			sum := node[class]
			sum.Count += f.CollectionCount
			sum.Time += time.Duration(f.CollectionTimeInMillis) * time.Millisecond
			node[class] = sum
		}
		snap[name] = node
	}
	return snap, nil
}

// GCSince returns the garbage collection of the race between snapshots
// start and end, summed over the nodes in both, as Rally's JvmStatsSummary
// does: a node that joined during the race is left out (its collections
// before the race are unknown), and a figure that went down (the node
// restarted) counts as zero. A row group is available when some node ran
// its collectors at both ends.
func GCSince(start, end GCSnapshot) metrics.GCFigures {
	var g metrics.GCFigures
	for name, s := range start {
		e, ok := end[name]
		if !ok {
			continue
		}
		for class, before := range s {
			after, ok := e[class]
			if !ok {
				continue
			}
			count := max(after.Count-before.Count, 0)
			took := max(after.Time-before.Time, 0)
			switch class {
			case GCYoung:
				g.YoungGCCount += count
				g.YoungGCTime += took
				g.GCAvailable = true
			case GCOld:
				g.OldGCCount += count
				g.OldGCTime += took
				g.GCAvailable = true
			case GCZGCCycles:
				g.ZGCCyclesCount += count
				g.ZGCCyclesTime += took
				g.ZGCAvailable = true
			case GCZGCPauses:
				g.ZGCPausesCount += count
				g.ZGCPausesTime += took
				g.ZGCAvailable = true
			}
		}
	}
	return g
}
