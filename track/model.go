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
	// File is the track file that was rendered (absolute), usually
	// Dir/track.json.
	File string `json:"file,omitempty"`
	// SchemaVersion is the track's "version". Rally accepts only 2 today;
	// a track without "version" is taken as version 2, as Rally does.
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

	// Meta is the track's "meta" object (copied into every metrics record
	// by Rally).
	Meta map[string]any `json:"meta,omitempty"`
	// Dependencies are the track's "dependencies" (pip packages its
	// track.py needs); kept to report.
	Dependencies []string `json:"dependencies,omitempty"`
	// TrackPy is what the track's track.py registers, read as text; nil
	// when the track has no track.py. Check tells from it which
	// challenges need Python code rally does not run.
	TrackPy *TrackPy `json:"track-py,omitempty"`
	// TestMode is true when the track was loaded with LoadOptions.TestMode
	// and the test-mode rewrite (see testmode.go) has been applied.
	TestMode bool `json:"test-mode,omitempty"`
	// Warnings are problems that do not stop the track from loading:
	// unused track parameters when LoadOptions.AllowUnusedParams is set, a
	// rally.collect pattern that matched no file.
	Warnings []string `json:"warnings,omitempty"`
	// Rendered is the rendered track.json text (what was decoded). Errors
	// and problems are reported where their text is written in the
	// track's files, not at its position here (see origin.go).
	Rendered string `json:"-"`

	// origins finds where text of Rendered is written.
	origins *origins
}

// Index is an entry of "indices": a name and the (already loaded) body.
type Index struct {
	Name string `json:"name"`
	// Body is the parsed JSON of the index body file (settings, mappings),
	// nil when the track gives none.
	Body json.RawMessage `json:"body,omitempty"`
	// BodyFile is the absolute path of the body file ("" without body).
	BodyFile string `json:"body-file,omitempty"`
	// Types is schema-1 only; kept to report, never sent to 7.x+ clusters.
	Types []string `json:"types,omitempty"`
}

// DataStream is an entry of "data-streams".
type DataStream struct {
	Name string `json:"name"`
}

// Template is a legacy, composable or component template.
type Template struct {
	Name string `json:"name"`
	// IndexPattern is mandatory for legacy and composable templates and
	// empty for component templates.
	IndexPattern string `json:"index-pattern,omitempty"`
	// DeleteMatchingIndices defaults to true (Rally's default) for legacy
	// and composable templates; always false for component templates.
	DeleteMatchingIndices bool `json:"delete-matching-indices,omitempty"`
	// Body is the rendered template file, narrowed to "template-path" when
	// the track gives one.
	Body json.RawMessage `json:"body"`
	// File is the absolute path of the template file.
	File string `json:"file,omitempty"`
}

// Corpus is an entry of "corpora".
type Corpus struct {
	Name      string      `json:"name"`
	BaseURL   string      `json:"base-url,omitempty"`
	Documents []Documents `json:"documents"`
	// Meta is the corpus-level "meta" object.
	Meta map[string]any `json:"meta,omitempty"`
}

// Documents is one documents file of a corpus (Rally's "documents" entry),
// with corpus-level defaults (base-url, target-*) already applied.
type Documents struct {
	// SourceFile is the file to fetch, as the track names it
	// (e.g. "documents.json.bz2"); in test mode it is the "-1k" variant.
	SourceFile string `json:"source-file"`
	// DocumentFile is the uncompressed file the driver reads
	// ("documents.json" for "documents.json.bz2"); equal to SourceFile
	// when SourceFile is not an archive.
	DocumentFile string `json:"document-file"`
	// DocumentArchive is SourceFile when it is an archive (.bz2, .gz, .zst,
	// .zip, .tar, .tar.gz, .tgz, .tar.bz2), else "".
	DocumentArchive           string `json:"document-archive,omitempty"`
	BaseURL                   string `json:"base-url,omitempty"`
	SourceFormat              string `json:"source-format,omitempty"` // "bulk" (the only one Rally knows)
	DocumentCount             int64  `json:"document-count"`
	CompressedBytes           int64  `json:"compressed-bytes,omitempty"`   // 0: unknown (always in test mode)
	UncompressedBytes         int64  `json:"uncompressed-bytes,omitempty"` // 0: unknown (always in test mode)
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
	// operation-type, as decoded JSON (map[string]any, []any, string, bool,
	// nil; numbers decoded with UseNumber as json.Number). An operation
	// given only by name ("operation": "refresh") has no params.
	Params map[string]any `json:"params,omitempty"`
	// ParamSource is the "param-source" key, set when the operation needs a
	// custom parameter source from a track.py.
	ParamSource string `json:"param-source,omitempty"`
	// CustomRunner is true when Type is not a built-in operation type (it
	// then names a runner registered by a track.py).
	CustomRunner bool `json:"custom-runner,omitempty"`
	// Admin is true for Rally's administrative operation types (create-index,
	// refresh, ...); they are left out of reports unless
	// "include-in-reporting" says otherwise.
	Admin bool `json:"admin,omitempty"`
	// Meta is the operation's "meta" object.
	Meta map[string]any `json:"meta,omitempty"`

	// typePos and paramSourcePos are the offsets (plus one; 0: unknown)
	// in the rendered track of the operation's type and param-source.
	typePos, paramSourcePos int
}

// Challenge is one challenge with its schedule.
type Challenge struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Default     bool   `json:"default,omitempty"`
	// UserInfo is "user-info", shown by info.
	UserInfo string `json:"user-info,omitempty"`
	// Parameters are the track's "parameters" merged with the challenge's
	// own (challenge wins), as Rally does; kept for info.
	Parameters map[string]any `json:"parameters,omitempty"`
	Schedule   []Step         `json:"schedule"`
	// AutoGenerated is true for the challenge "default" made from a track
	// that has a top-level "schedule" instead of challenges.
	AutoGenerated bool `json:"auto-generated,omitempty"`
	// Meta is the challenge's "meta" object.
	Meta map[string]any `json:"meta,omitempty"`
}

// Step is one element of a schedule: either a single task or a parallel
// block. Steps run one after another with a join point between them.
type Step struct {
	// Tasks has one element for a plain task, several for a parallel block.
	Tasks    []Task `json:"tasks"`
	Parallel bool   `json:"parallel,omitempty"`
	// CompletedBy names the task of a parallel block whose end ends the
	// block ("completed-by"); "any" means the first task to finish ends it;
	// empty when the block waits for all tasks.
	CompletedBy string `json:"completed-by,omitempty"`
	// Clients is the parallel block's own "clients": when set, the block
	// runs with that many clients in total instead of the sum of its
	// tasks' clients (Rally's rule). Zero when unset and for plain tasks.
	Clients int `json:"clients,omitempty"`
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
	// TargetThroughput is in TargetThroughputUnit per second across all
	// clients of the task (each client gets TargetThroughput/Clients); zero
	// means as fast as possible. A "target-interval" of s seconds becomes
	// TargetThroughput = 1/s ops/s for the whole task, exactly as Rally
	// computes it (not per client).
	TargetThroughput float64 `json:"target-throughput,omitempty"`
	// TargetThroughputUnit is "ops/s" unless the track gave a string such as
	// "50 docs/s" (then "docs/s": bulk tasks throttle on documents).
	TargetThroughputUnit string `json:"target-throughput-unit,omitempty"`
	// TargetInterval is the "target-interval" as given (for info); zero
	// when the track used target-throughput.
	TargetInterval time.Duration `json:"target-interval,omitempty"`
	// Schedule is "deterministic" unless the task names another: esrally's
	// "poisson", or a custom scheduler of a track.py (which Check refuses:
	// the load driver knows only the two of esrally).
	Schedule Schedule `json:"schedule,omitempty"`
	// CompletesParent is true for the task named by its parallel block's
	// "completed-by".
	CompletesParent bool `json:"completes-parent,omitempty"`
	// IgnoreResponseErrorLevel is "" or "non-fatal".
	IgnoreResponseErrorLevel string `json:"ignore-response-error-level,omitempty"`
	// IncludeInReporting comes from the operation's "include-in-reporting"
	// (a task-level key overrides it); its default is true except for
	// administrative operation types (Rally's rule).
	IncludeInReporting bool     `json:"include-in-reporting"`
	Tags               []string `json:"tags,omitempty"`
	// Meta is the task's "meta" object.
	Meta map[string]any `json:"meta,omitempty"`
	// Params are the task's keys that are not decoded into the fields
	// above (e.g. "#COMMENT", parameters of a custom scheduler). Rally
	// hands them to the scheduler, not to the runner: they do not override
	// the operation's params.
	Params map[string]any `json:"params,omitempty"`

	// pos and schedulePos are the offsets (plus one; 0: unknown) in the
	// rendered track of the task and of its "schedule".
	pos, schedulePos int
}
