package report

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"rally/metrics"
	"rally/telemetry"
)

// Race statuses.
const (
	StatusCompleted = "completed"
	StatusAborted   = "aborted"
	StatusFailed    = "failed"
)

// Race is one benchmark run as stored in race.json: what ran, against what,
// how it ended and what it measured. Its JSON form is what `--report-format
// json` prints and is kept stable: fields are added, never renamed.
type Race struct {
	// ID is the race's id (see NewRaceID) and the name of its directory.
	ID      string    `json:"id"`
	Created time.Time `json:"created"`

	Track       string         `json:"track"`
	Challenge   string         `json:"challenge"`
	TrackParams map[string]any `json:"track-params,omitempty"`
	TestMode    bool           `json:"test-mode"`

	// TargetHosts are the cluster's addresses; never with credentials
	// (Store.Save refuses userinfo).
	TargetHosts []string `json:"target-hosts"`
	// Distribution is "elasticsearch" or "opensearch".
	Distribution        string `json:"distribution,omitempty"`
	DistributionVersion string `json:"distribution-version,omitempty"`

	RallyVersion string            `json:"rally-version,omitempty"`
	UserTags     map[string]string `json:"user-tags,omitempty"`
	// Hosts are the load-driver hosts used.
	Hosts []string `json:"hosts,omitempty"`

	// Pipeline is how the target came to be (benchmark-only when the
	// target was given); Car the car the nodes were configured with.
	Pipeline string `json:"pipeline,omitempty"`
	Car      string `json:"car,omitempty"`
	// Telemetry names the telemetry devices that ran (--telemetry); what
	// they wrote is in the race's telemetry/ directory, or with the
	// nodes' logs.
	Telemetry []string `json:"telemetry,omitempty"`

	// OnError is the race's --on-error policy.
	OnError string `json:"on-error,omitempty"`
	// Status is StatusCompleted, StatusAborted or StatusFailed; Error says
	// why when it is not completed.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`

	// LostHosts are the load drivers lost while the race ran: when, in
	// which step, why, and the clients they ran. What they measured up to
	// their last metrics delta is kept in the summary.
	LostHosts []LostHost `json:"lost-hosts,omitempty"`
	// Gaps name metric deltas that a load driver sent but the coordinator
	// never merged; a race with a gap is Incomplete.
	Gaps       []Gap `json:"gaps,omitempty"`
	Incomplete bool  `json:"incomplete,omitempty"`
	// HostRequests counts the requests (warmup included) each load driver
	// measured, by task and host.
	HostRequests map[string]map[string]int64 `json:"host-requests,omitempty"`
	// LoadDrivers is what each load driver's process used of its machine
	// in each step it ran a share of; Saturation says when it may have
	// been the bottleneck.
	LoadDrivers []DriverLoad `json:"load-drivers,omitempty"`

	Summary metrics.Summary `json:"summary"`
	// PerSecond is each task's throughput second by second, by task name:
	// what the summary's throughput figures were computed from, and what
	// a metrics store gets as throughput samples.
	PerSecond map[string]TaskSeconds `json:"throughput-per-second,omitempty"`
	// Nodes are what each node of the cluster did during the race, by
	// node name; absent when the target's node stats were not read.
	Nodes []NodeTelemetry `json:"nodes,omitempty"`
	// HostTelemetry is what the hosts of the target's nodes did during
	// the race, by host name, sampled from /proc on each: the host's CPU,
	// memory, disks and network, and each node's processes (CPU, RSS,
	// threads, I/O). Absent for a benchmark-only race (rally did not
	// start the nodes, so it does not know their processes).
	HostTelemetry map[string]telemetry.Summary `json:"host-telemetry,omitempty"`
	// CorpusPush is, by load-driver host, what the coordinator pushed of
	// the race's documents files before it (--corpus-source push): the
	// slices its clients read, and what it sent of them.
	CorpusPush map[string]CorpusPush `json:"corpus-push,omitempty"`
}

// NodeTelemetry is one node's figures over a race: the end of the race
// less its start, as the node stats API reported them (Rally's node-stats
// telemetry). A figure the node did not report at both ends (CPU time on
// some platforms, disk traffic off Linux) or that went down between them
// (the node restarted) is absent, not zero.
type NodeTelemetry struct {
	Name    string `json:"name"`
	Host    string `json:"host,omitempty"`
	IP      string `json:"ip,omitempty"`
	Version string `json:"version,omitempty"`
	// Duration is the time between the two reads by the node's clock.
	Duration time.Duration `json:"duration-ns,omitempty"`
	// GCFigures are the node's garbage collection; the cluster's GC rows
	// are their sums over the nodes.
	metrics.GCFigures
	CPUTime *time.Duration `json:"cpu-time-ns,omitempty"`
	// CPUPercent is CPUTime over Duration in percent of one core.
	CPUPercent *float64 `json:"cpu-percent,omitempty"`
	// DiskWriteBytes and DiskReadBytes are the traffic of the devices
	// holding the node's data paths (fs.io_stats), from every process that
	// uses them.
	DiskWriteBytes *int64 `json:"disk-write-bytes,omitempty"`
	DiskReadBytes  *int64 `json:"disk-read-bytes,omitempty"`
	// HeapUsedBytes is the heap in use at the end of the race,
	// HeapMaxBytes the heap's maximum size.
	HeapUsedBytes *int64 `json:"heap-used-bytes,omitempty"`
	HeapMaxBytes  *int64 `json:"heap-max-bytes,omitempty"`
}

// TaskSeconds is a task's throughput second by second: the summed weight
// (requests, or documents for bulk) of the samples that ended in each
// second that saw one, all clients summed, seconds counted from the race's
// Created time; measurement and warmup samples apart.
type TaskSeconds struct {
	Measured []metrics.Bucket `json:"measured,omitempty"`
	Warmup   []metrics.Bucket `json:"warmup,omitempty"`
}

// LostHost is a load driver lost during a race.
type LostHost struct {
	Host   string    `json:"host"`
	At     time.Time `json:"at"`
	Step   int       `json:"step"`
	Reason string    `json:"reason"`
	// Clients are the client indexes the host ran in that step, by task.
	Clients map[string][]int `json:"clients,omitempty"`
	// LastDelta is the sequence number of the host's last merged metrics
	// delta, by task.
	LastDelta map[string]uint64 `json:"last-delta,omitempty"`
}

// Gap is a run of metric deltas of one host and task that never arrived.
type Gap struct {
	Host string `json:"host"`
	Task string `json:"task"`
	// Missing are the deltas' sequence numbers.
	Missing []uint64 `json:"missing"`
}

// raceIDTime is the time part of a race id: UTC, to the second, so that ids
// sort by creation time.
const raceIDTime = "20060102T150405Z"

// NewRaceID returns a new race id for a race created at now, e.g.
// "20261125T101500Z-3f2a9c": the UTC time to the second, then 6 random hex
// digits that keep two races of the same second apart. Ids sort by time.
func NewRaceID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return now.UTC().Format(raceIDTime) + "-" + hex.EncodeToString(b[:])
}

// DriverLoad is what one load driver used of its machine during one step.
type DriverLoad struct {
	Host  string   `json:"host"`
	Step  int      `json:"step"`
	Tasks []string `json:"tasks"`
	telemetry.DriverLoad
	// Saturation says why the driver may have been the bottleneck ("" when
	// it was not): see telemetry.DriverLoad.Saturation.
	Saturation string `json:"saturation,omitempty"`
}
