// Package race runs a benchmark across the members of an actor system:
// the coordinator side (Conductor) plans each schedule step, spreads a
// task's clients round-robin over the load-driver members, waits at a join
// point between steps, ends a parallel block on every member when one of
// them completed it, merges the members' metric deltas (sequenced, so a
// gap is found and named) and saves the race, also when a member was lost
// or the race aborted; the member side (Serve) runs its share of each step
// with the driver's one step executor and ships metric deltas about once a
// second.
//
// Both sides speak through actor messages only, so a worker in this
// process (Local) and one on a remote host behave the same. Messages that
// carry state or measurements (Ready, Metrics, TaskComplete, StepDone from
// members; Start, Step, EndStep, Abort to them) travel reliably: they are
// acknowledged, or the link is declared broken and the member lost. It
// must not know about SSH, how members came to be, or the control socket.
package race

import (
	"encoding/json"
	"time"

	"rally/driver"
	"rally/metrics"
	"rally/telemetry"
	"rally/track"
)

// Message types of the race protocol.
const (
	MsgStart        = "race/start"         // coordinator → member: Start
	MsgReady        = "race/ready"         // member → coordinator: Ready (track loaded, corpora prepared)
	MsgPrepare      = "race/prepare"       // member → coordinator: Preparing (corpus progress; may be dropped)
	MsgStep         = "race/step"          // coordinator → member: Step
	MsgMetrics      = "race/metrics"       // member → coordinator: Metrics
	MsgTaskComplete = "race/task-complete" // member → coordinator: TaskComplete
	MsgEndStep      = "race/end-step"      // coordinator → member: EndStep
	MsgStepDone     = "race/step-done"     // member → coordinator: StepDone
	MsgAbort        = "race/abort"         // coordinator → member: Abort
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
	// TaskFilter is the race's --include-tasks or --exclude-tasks: the
	// member filters the schedule as the coordinator did.
	TaskFilter track.TaskFilter `json:"task_filter,omitzero"`
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
	// Corpus says how the race's documents files came to the member: the
	// pieces the coordinator pushed it (their checksums verified on its
	// host), and the source of the others.
	Corpus MemberCorpus `json:"corpus,omitzero"`
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
	// ClientLimit is this member's part of a parallel block's "clients"
	// (0: no limit).
	ClientLimit int `json:"client_limit,omitempty"`
	// StartAt is when the step's clients start, in the member's own clock:
	// the coordinator's planned start corrected by the member's measured
	// clock offset, so that members start together whatever their clocks
	// say.
	StartAt time.Time `json:"start_at"`
}

// TaskShare is the clients of one task that a member runs.
type TaskShare struct {
	// Task is the task's index in the step.
	Task          int   `json:"task"`
	ClientIndexes []int `json:"clients"`
}

// Metrics carries a task's merged delta from one member. Seq counts the
// member's deltas of that task in this race from 1, so the coordinator
// finds a duplicate or a gap.
type Metrics struct {
	RaceID string         `json:"race_id"`
	Step   int            `json:"step"`
	Seq    uint64         `json:"seq"`
	Delta  *metrics.Delta `json:"delta"`
}

// TaskComplete says a task whose end completes its parallel block (the
// block's completed-by task, any task under completed-by "any", or one
// with completes-parent) finished on the member; the coordinator then
// ends the block on every member.
type TaskComplete struct {
	RaceID string `json:"race_id"`
	Step   int    `json:"step"`
	Task   string `json:"task"`
}

// EndStep ends a step's tasks on a member after each client's current
// request: the block was completed.
type EndStep struct {
	RaceID string `json:"race_id"`
	Step   int    `json:"step"`
}

// StepDone reports how a member's share of a step ended. LastSeq is, by
// task, the sequence number of the last Metrics the member sent for it: the
// coordinator checks that it merged every one of them.
type StepDone struct {
	RaceID  string              `json:"race_id"`
	Index   int                 `json:"index"`
	Results []driver.TaskResult `json:"results"`
	LastSeq map[string]uint64   `json:"last_seq,omitempty"`
	Error   string              `json:"error,omitempty"`
	// Load is what the member's process used of its machine while it ran
	// the step (nil where /proc cannot be read).
	Load *telemetry.DriverLoad `json:"load,omitempty"`
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
