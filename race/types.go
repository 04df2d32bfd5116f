package race

import (
	"time"

	"rally/report"
	"rally/track"
)

// Request is a race as the user asked for it: what `rally race` and the
// TUI's race key send to the coordinator.
type Request struct {
	TrackPath     string            `json:"track_path"`
	Challenge     string            `json:"challenge,omitempty"`
	TrackParams   map[string]any    `json:"track_params,omitempty"`
	TargetHosts   string            `json:"target_hosts"`
	ClientOptions string            `json:"client_options,omitempty"`
	TestMode      bool              `json:"test_mode,omitempty"`
	OnError       string            `json:"on_error,omitempty"`
	UserTags      map[string]string `json:"user_tags,omitempty"`
	// MinLoadDrivers lets a race start with fewer joined load drivers
	// than the inventory lists, or than LoadDriverHosts names (at least
	// this many); zero means all.
	MinLoadDrivers int `json:"min_load_drivers,omitempty"`
	// LoadDriverHosts are the cluster's load-driver hosts to race on
	// (esrally's --load-driver-hosts), by inventory name or address; empty
	// means every one. A race on this machine takes only localhost or
	// 127.0.0.1 (see CheckLocalLoadDrivers).
	LoadDriverHosts []string `json:"load_driver_hosts,omitempty"`
	// TaskFilter is --include-tasks or --exclude-tasks: which tasks of the
	// challenge's schedule run.
	TaskFilter track.TaskFilter `json:"task_filter,omitzero"`
	// Pipeline and Car say how the target came to be (esrally's
	// --pipeline and --car), for the race's record.
	Pipeline string `json:"pipeline,omitempty"`
	Car      string `json:"car,omitempty"`
	// Telemetry are the race's telemetry devices (--telemetry) and
	// their parameters; the node-start ones (gc, jfr) are recorded here
	// when the nodes were started with them.
	Telemetry Telemetry `json:"telemetry,omitzero"`
	// Corpus is how the documents files reach the load drivers
	// (--corpus-source and the push's bounds).
	Corpus CorpusOptions `json:"corpus,omitzero"`
}

// Started answers a Request.
type Started struct {
	ID string `json:"id"`
}

// State is how far a race got.
type State string

// Race states. A race that ended is never "running"; one that lost a load
// driver with --on-error continue may still be completed (the lost host
// is named in its LostHosts).
const (
	StateRunning   State = "running"
	StateCompleted State = "completed"
	StateAborted   State = "aborted"
	StateFailed    State = "failed"
)

// TaskState is how far a task of a race got.
type TaskState string

// Task states, in order.
const (
	TaskWaiting TaskState = "waiting"
	TaskRunning TaskState = "running"
	TaskDone    TaskState = "done"
)

// Progress is a race as it runs, and its end.
type Progress struct {
	ID        string         `json:"id"`
	Track     string         `json:"track"`
	Challenge string         `json:"challenge"`
	State     State          `json:"state"`
	Error     string         `json:"error,omitempty"`
	Started   time.Time      `json:"started"`
	Tasks     []TaskProgress `json:"tasks"`
	// Preparing is each load driver's latest corpus work before the race
	// ("download documents.json.bz2 12.3 of 45.6 MiB (27%)").
	Preparing map[string]string `json:"preparing,omitempty"`
	// CorpusPush is the push of the race's corpora to each load driver
	// before the race (--corpus-source push): its phase and bytes sent of
	// those the host lacked.
	CorpusPush map[string]report.CorpusPush `json:"corpus_push,omitempty"`
	// Lost names the load drivers lost during the race, with why.
	Lost map[string]string `json:"lost,omitempty"`
	// Report is the final summary report as text, once the race ended.
	Report string `json:"report,omitempty"`
}

// Ended tells whether the race is over.
func (p Progress) Ended() bool { return p.State != StateRunning && p.State != "" }

// TaskProgress is one task of a running race.
type TaskProgress struct {
	Task  string    `json:"task"`
	State TaskState `json:"state"`
	// Done is the fraction of the task completed (0..1), -1 when unknown.
	Done float64 `json:"done"`
	// Live figures so far.
	Requests       int64         `json:"requests"`
	Errors         int64         `json:"errors"`
	Throughput     float64       `json:"throughput"`
	Unit           string        `json:"unit"`
	LatencyP50     time.Duration `json:"latency_p50_ns"`
	LatencyP99     time.Duration `json:"latency_p99_ns"`
	ServiceTimeP50 time.Duration `json:"service_time_p50_ns"`
	ServiceTimeP99 time.Duration `json:"service_time_p99_ns"`
	// PerHost is requests by load-driver host.
	PerHost map[string]int64 `json:"per_host,omitempty"`
}
