package driver

import (
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
