package track

import (
	"encoding/json"
	"time"
)

// Track is a rendered, validated Rally track. Every path in it is absolute;
// every duration is a time.Duration; nothing downstream re-parses strings.
type Track struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Dir is the directory the track was loaded from (absolute).
	Dir string `json:"dir"`
	// SchemaVersion is the track's "version" (1 or 2).
	SchemaVersion int `json:"version"`

	Indices             []Index      `json:"indices,omitempty"`
	DataStreams         []DataStream `json:"data-streams,omitempty"`
	Templates           []Template   `json:"templates,omitempty"` // legacy index templates
	ComposableTemplates []Template   `json:"composable-templates,omitempty"`
	ComponentTemplates  []Template   `json:"component-templates,omitempty"`
	Corpora             []Corpus     `json:"corpora,omitempty"`
	Operations          []Operation  `json:"operations,omitempty"`
	Challenges          []Challenge  `json:"challenges"`
	// Params are the track parameters the track was rendered with.
	Params map[string]any `json:"params,omitempty"`
}

// Index is an entry of "indices": a name and the (already loaded) body.
type Index struct {
	Name string `json:"name"`
	// Body is the parsed JSON of the index body file (settings, mappings),
	// nil when the track gives none.
	Body json.RawMessage `json:"body,omitempty"`
	// Types is schema-1 only; kept to report, never sent to 7.x+ clusters.
	Types []string `json:"types,omitempty"`
}

// DataStream is an entry of "data-streams".
type DataStream struct {
	Name string `json:"name"`
}

// Template is a legacy, composable or component template.
type Template struct {
	Name                  string          `json:"name"`
	IndexPattern          string          `json:"index-pattern,omitempty"`
	DeleteMatchingIndices bool            `json:"delete-matching-indices,omitempty"`
	Body                  json.RawMessage `json:"body"`
}

// Corpus is an entry of "corpora".
type Corpus struct {
	Name      string      `json:"name"`
	BaseURL   string      `json:"base-url,omitempty"`
	Documents []Documents `json:"documents"`
}

// Documents is one documents file of a corpus (Rally's "documents" entry),
// with corpus-level defaults (base-url, target-*) already applied.
type Documents struct {
	SourceFile                string `json:"source-file"`
	BaseURL                   string `json:"base-url,omitempty"`
	SourceFormat              string `json:"source-format,omitempty"` // "bulk" (the only one Rally knows)
	DocumentCount             int64  `json:"document-count"`
	CompressedBytes           int64  `json:"compressed-bytes,omitempty"`
	UncompressedBytes         int64  `json:"uncompressed-bytes,omitempty"`
	TargetIndex               string `json:"target-index,omitempty"`
	TargetDataStream          string `json:"target-data-stream,omitempty"`
	TargetType                string `json:"target-type,omitempty"`
	IncludesActionAndMetaData bool   `json:"includes-action-and-meta-data,omitempty"`
	// Meta is the corpus/documents "meta" object, kept for reporting.
	Meta map[string]any `json:"meta,omitempty"`
}

// Operation is a named operation: its type and every other key as params.
type Operation struct {
	Name string `json:"name"`
	Type string `json:"operation-type"`
	// Params holds all keys of the operation object except name and
	// operation-type, as decoded JSON (map[string]any, []any, float64,
	// string, bool, nil; numbers decoded with UseNumber as json.Number).
	Params map[string]any `json:"params,omitempty"`
	// ParamSource is the "param-source" key, set when the operation needs a
	// custom parameter source from a track.py.
	ParamSource string `json:"param-source,omitempty"`
	// CustomRunner is true when Type is not a built-in operation type (it
	// then names a runner registered by a track.py).
	CustomRunner bool `json:"custom-runner,omitempty"`
}

// Challenge is one challenge with its schedule.
type Challenge struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Default     bool   `json:"default,omitempty"`
	// UserInfo is "user-info", shown by info.
	UserInfo string `json:"user-info,omitempty"`
	// Parameters are challenge-level "parameters" (kept for info).
	Parameters map[string]any `json:"parameters,omitempty"`
	Schedule   []Step         `json:"schedule"`
}

// Step is one element of a schedule: either a single task or a parallel
// block. Steps run one after another with a join point between them.
type Step struct {
	// Tasks has one element for a plain task, several for a parallel block.
	Tasks    []Task `json:"tasks"`
	Parallel bool   `json:"parallel,omitempty"`
	// CompletedBy names the task of a parallel block whose end ends the
	// block ("completed-by"); empty when the block waits for all tasks.
	CompletedBy string `json:"completed-by,omitempty"`
}

// Schedule names how intended start times are spaced.
type Schedule string

// The schedules a task may use.
const (
	ScheduleDeterministic Schedule = "deterministic"
	SchedulePoisson       Schedule = "poisson"
)

// Task is one task of a schedule: an operation with how to run it.
type Task struct {
	Name      string    `json:"name"`
	Operation Operation `json:"operation"`
	Clients   int       `json:"clients"`
	// WarmupIterations/Iterations are per client, as in Rally; zero means
	// unset.
	WarmupIterations int           `json:"warmup-iterations,omitempty"`
	Iterations       int           `json:"iterations,omitempty"`
	WarmupTimePeriod time.Duration `json:"warmup-time-period,omitempty"`
	TimePeriod       time.Duration `json:"time-period,omitempty"`
	RampUpTimePeriod time.Duration `json:"ramp-up-time-period,omitempty"`
	// TargetThroughput is in operations per second across all clients of
	// the task; zero means as fast as possible. TargetInterval, when set,
	// is converted to TargetThroughput = Clients / interval.
	TargetThroughput float64  `json:"target-throughput,omitempty"`
	Schedule         Schedule `json:"schedule,omitempty"`
	// IgnoreResponseErrorLevel is "" or "non-fatal".
	IgnoreResponseErrorLevel string   `json:"ignore-response-error-level,omitempty"`
	IncludeInReporting       bool     `json:"include-in-reporting"`
	Tags                     []string `json:"tags,omitempty"`
	// Params are task-level keys that are not scheduling properties; they
	// override the operation's params of the same name (Rally merges them).
	Params map[string]any `json:"params,omitempty"`
}
