// Package race runs a benchmark across the members of an actor system:
// the coordinator side (Conduct) plans each schedule step, spreads a task's
// clients round-robin over the load-driver members, waits at a join point
// between steps, merges the members' metric deltas and saves the race; the
// member side (Serve) runs its share of each step with the driver and ships
// metric deltas about once a second.
//
// Both sides speak through actor messages only, so a worker in this
// process (Local) and one on a remote host behave the same. It must not
// know about SSH or how members came to be.
package race

import (
	"encoding/json"
	"time"

	"rally/driver"
	"rally/metrics"
)

// Message types of the race protocol.
const (
	MsgStart    = "race/start"     // coordinator → member: Start
	MsgReady    = "race/ready"     // member → coordinator: Ready (track loaded, corpora prepared)
	MsgPrepare  = "race/prepare"   // member → coordinator: Preparing (corpus download/decompression progress)
	MsgStep     = "race/step"      // coordinator → member: Step
	MsgMetrics  = "race/metrics"   // member → coordinator: Metrics
	MsgStepDone = "race/step-done" // member → coordinator: StepDone
	MsgAbort    = "race/abort"     // coordinator → member: Abort
)

// Start tells a member which race it takes part in and how to reach the
// target. The member loads the track itself (from TrackPath on its own
// host) so that corpora are read where the clients run.
type Start struct {
	RaceID    string         `json:"race_id"`
	TrackPath string         `json:"track_path"`
	Challenge string         `json:"challenge"`
	Params    map[string]any `json:"params,omitempty"`
	TestMode  bool           `json:"test_mode,omitempty"`
	// TargetHosts and ClientOptions are the user's strings, parsed on the
	// member (ClientOptions may hold secrets: it travels only inside the
	// authenticated tunnel and is never logged).
	TargetHosts   string `json:"target_hosts"`
	ClientOptions string `json:"client_options,omitempty"`
	OnError       string `json:"on_error,omitempty"`
	// Epoch is the race's time zero in the member's own clock (the
	// coordinator corrects it by the member's estimated clock offset), so
	// one-second throughput buckets align across hosts.
	Epoch time.Time `json:"epoch"`
	Seed  uint64    `json:"seed"`
}

// Ready answers Start.
type Ready struct {
	RaceID string `json:"race_id"`
	Error  string `json:"error,omitempty"`
}

// Preparing reports a member's progress on slow corpus work before a race:
// downloading, decompressing, building offset tables.
type Preparing struct {
	RaceID string `json:"race_id"`
	Kind   string `json:"kind"` // "download", "decompress", "offset-table"
	File   string `json:"file"`
	Done   int64  `json:"done"`
	Total  int64  `json:"total"` // 0 when unknown
	Final  bool   `json:"final"`
}

// Step runs one schedule step's share on a member.
type Step struct {
	RaceID string      `json:"race_id"`
	Index  int         `json:"index"`
	Shares []TaskShare `json:"shares"`
	// Delay is how long after receipt the step starts, so that members
	// start together whatever their clocks say.
	Delay time.Duration `json:"delay_ns"`
}

// TaskShare is the clients of one task that a member runs.
type TaskShare struct {
	// Task is the task's index in the step.
	Task          int   `json:"task"`
	ClientIndexes []int `json:"clients"`
	TotalClients  int   `json:"total_clients"`
	RampUpOffset  int   `json:"ramp_up_offset"`
	RampUpTotal   int   `json:"ramp_up_total"`
}

// Metrics carries a task's merged delta from one member.
type Metrics struct {
	RaceID string         `json:"race_id"`
	Delta  *metrics.Delta `json:"delta"`
}

// StepDone reports how a member's share of a step ended.
type StepDone struct {
	RaceID  string              `json:"race_id"`
	Index   int                 `json:"index"`
	Results []driver.TaskResult `json:"results"`
	Error   string              `json:"error,omitempty"`
}

// Abort stops a member's running step.
type Abort struct {
	RaceID string `json:"race_id"`
	Reason string `json:"reason"`
}

func decode[T any](body json.RawMessage) (T, error) {
	var v T
	err := json.Unmarshal(body, &v)
	return v, err
}
