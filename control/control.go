// Package control is the local API of a running coordinator: HTTP with JSON
// over a unix socket (mode 0600) under ~/.rally/run/. The CLI commands
// status, down, race and tui are its clients; this package holds the wire
// types both sides share, the client, the listener set-up, and how a
// command finds the cluster it is about (Resolve).
//
// It must not know how a cluster is formed: the coordinator implements the
// handler behind these routes.
package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"rally/actor"
	"rally/race"
)

// Routes of the API. All answers are JSON; errors are {"error": "..."}.
const (
	PathStatus = "/v1/status" // GET: Status
	PathDown   = "/v1/down"   // POST DownRequest: DownReport (the coordinator exits after answering)
	PathEvents = "/v1/events" // GET: a stream of Event, one JSON object per line
	// PathRace: POST RaceRequest: RaceStarted; DELETE: abort the running
	// race; GET: the running race's progress, or with ?id= that race's
	// progress (also once it ended, while the coordinator runs).
	PathRace = "/v1/race"
)

// Host phases during bring-up, in order, then joined or failed; a joined
// host whose worker exited is restarting until it joined again or failed.
const (
	PhasePending    = "pending"
	PhaseConnect    = "connect"
	PhaseUpload     = "upload"
	PhaseTunnel     = "tunnel"
	PhaseStart      = "start"
	PhaseJoined     = "joined"
	PhaseFailed     = "failed"
	PhaseLost       = "lost"
	PhaseRestarting = "restarting" // the worker exited while the SSH link lived; Error says why and which try
	PhaseStopped    = "stopped"
	PhaseTornDown   = "torn-down"
	ClusterForming  = "forming"
	ClusterUp       = "up"
	ClusterDown     = "tearing-down"
)

// Status is what `rally status` prints: the cluster as the coordinator
// sees it, and the actor system's Thespian-like status.
type Status struct {
	Cluster     string          `json:"cluster"`
	Phase       string          `json:"phase"`
	Coordinator CoordinatorInfo `json:"coordinator"`
	Hosts       []HostStatus    `json:"hosts"`
	// Uploads counts worker binaries pushed by this coordinator.
	Uploads int `json:"uploads"`
	// UploadedBytes is the sum of bytes pushed.
	UploadedBytes int64        `json:"uploaded_bytes"`
	Actors        actor.Status `json:"actors"`
	// Nodes are the Elasticsearch or OpenSearch nodes the coordinator
	// started on provisioner hosts; races target them by default.
	Nodes []NodeStatus `json:"nodes,omitempty"`
}

// NodeStatus is a node started on a provisioner host.
type NodeStatus struct {
	Host    string `json:"host"`
	Name    string `json:"name"`
	HTTP    string `json:"http"` // host:port
	PID     int    `json:"pid,omitempty"`
	Engine  string `json:"engine"`
	Version string `json:"version"`
	JDK     string `json:"jdk,omitempty"`
	// Health is the cluster's health, HeapUsed and HeapMax the node's
	// JVM heap and CPUPercent its process's recent CPU use (of the host's
	// whole CPU, as the node stats API reports it), as last read
	// (Checked); empty while the node does not answer.
	Health     string    `json:"health,omitempty"`
	HeapUsed   int64     `json:"heap_used_bytes,omitempty"`
	HeapMax    int64     `json:"heap_max_bytes,omitempty"`
	CPUPercent int       `json:"cpu_percent,omitempty"`
	Checked    time.Time `json:"checked,omitzero"`
}

// CoordinatorInfo identifies the running coordinator.
type CoordinatorInfo struct {
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Build   string    `json:"build"`
	Socket  string    `json:"socket"`
	Started time.Time `json:"started"`
	// Inventory is the absolute path of the hosts.yaml it was started with.
	Inventory string `json:"inventory"`
}

// HostStatus is one inventory host as the coordinator drives it.
type HostStatus struct {
	Name     string   `json:"name"`
	Address  string   `json:"address"`
	Roles    []string `json:"roles"`
	Phase    string   `json:"phase"`
	Error    string   `json:"error,omitempty"`
	Platform string   `json:"platform,omitempty"`
	// Binary is the absolute path of the worker binary on the host.
	Binary   string `json:"binary,omitempty"`
	Uploaded bool   `json:"uploaded"`
	// UploadSent and UploadTotal show upload progress in bytes.
	UploadSent  int64 `json:"upload_sent"`
	UploadTotal int64 `json:"upload_total"`
	TunnelPort  int   `json:"tunnel_port,omitempty"`
	WorkerPID   int   `json:"worker_pid,omitempty"`
	// Restarts counts how often the host's worker was started again
	// after it exited while the SSH link lived.
	Restarts int `json:"restarts,omitempty"`
}

// EventKind says what an Event is about, and so which of its fields are set.
type EventKind string

// Kinds of events on the stream.
const (
	EventHost    EventKind = "host"    // a host's phase changed: Host, Phase, Text (the error), HostStatus
	EventLog     EventKind = "log"     // a log line of the coordinator or a worker: Host, Text
	EventActor   EventKind = "actor"   // the actor system's event: Host (the member), Phase (an actor.Event kind), Text
	EventCluster EventKind = "cluster" // the cluster's phase changed: Phase
	EventRace    EventKind = "race"    // a race's progress, and its report once it ended: Race
	// EventProvision is a line of progress of the nodes' provisioning:
	// Host (empty for the cluster as a whole), Text.
	EventProvision EventKind = "provision"
)

// Event is one line of the event stream: a host's phase changed, a log
// line, the actor system's event, the cluster's phase, or race progress.
type Event struct {
	Time       time.Time   `json:"time"`
	Kind       EventKind   `json:"kind"`
	Host       string      `json:"host,omitempty"`
	Phase      string      `json:"phase,omitempty"`
	Text       string      `json:"text,omitempty"`
	HostStatus *HostStatus `json:"host_status,omitempty"`
	// Race is set on EventRace events: the running race's progress, and
	// its report once it ended.
	Race *RaceProgress `json:"race,omitempty"`
}

// The race's wire types belong to package race; these names keep the
// control API readable.
type (
	RaceRequest  = race.Request
	RaceStarted  = race.Started
	RaceProgress = race.Progress
	RaceState    = race.State
	TaskProgress = race.TaskProgress
	TaskState    = race.TaskState
)

// Race states, as race.State.
const (
	RaceRunning   = race.StateRunning
	RaceCompleted = race.StateCompleted
	RaceAborted   = race.StateAborted
	RaceFailed    = race.StateFailed
)

// Task states, as race.TaskState.
const (
	TaskWaiting = race.TaskWaiting
	TaskRunning = race.TaskRunning
	TaskDone    = race.TaskDone
)

// DownRequest asks the coordinator to tear the cluster down.
type DownRequest struct {
	KeepFiles bool `json:"keep_files"`
}

// DownReport says what teardown did on each host.
type DownReport struct {
	Cluster string       `json:"cluster"`
	Hosts   []HostReport `json:"hosts"`
}

// HostReport is teardown's account of one host.
type HostReport struct {
	Name           string   `json:"name"`
	WorkersStopped int      `json:"workers_stopped"`
	NodesStopped   int      `json:"nodes_stopped,omitempty"`
	FilesRemoved   int      `json:"files_removed"`
	LogsFetched    []string `json:"logs_fetched,omitempty"`
	Error          string   `json:"error,omitempty"`
}

// APIError is the coordinator's refusal of a request.
type APIError struct {
	Status int
	Msg    string
}

func (e *APIError) Error() string { return "coordinator: " + e.Msg }

// Is makes errors.Is(err, ErrInvalidRequest) true for a request the
// coordinator found invalid (HTTP 422): bad input, the user's to fix.
func (e *APIError) Is(target error) bool {
	return target == ErrInvalidRequest && e.Status == http.StatusUnprocessableEntity
}

// ErrInvalidRequest matches requests the coordinator refused as invalid.
var ErrInvalidRequest = errors.New("invalid request")

// ErrNotRunning means no coordinator answers on the socket.
var ErrNotRunning = errors.New("no coordinator is running")

// Client talks to a coordinator's control socket.
type Client struct {
	Socket string
	http   *http.Client
}

// NewClient returns a client for the socket at path. It does not connect.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &Client{Socket: path, http: &http.Client{Transport: tr}}
}

// Status fetches the coordinator's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.call(ctx, http.MethodGet, PathStatus, nil, &st)
	return st, err
}

// Down asks the coordinator to tear the cluster down and waits for its report.
func (c *Client) Down(ctx context.Context, req DownRequest) (DownReport, error) {
	var rep DownReport
	err := c.call(ctx, http.MethodPost, PathDown, req, &rep)
	return rep, err
}

// StartRace asks the coordinator to start a race; it returns at once with
// the race's id. Progress arrives as EventRace events.
func (c *Client) StartRace(ctx context.Context, req RaceRequest) (RaceStarted, error) {
	var rs RaceStarted
	err := c.call(ctx, http.MethodPost, PathRace, req, &rs)
	return rs, err
}

// AbortRace aborts the running race.
func (c *Client) AbortRace(ctx context.Context) error {
	var ok struct{}
	return c.call(ctx, http.MethodDelete, PathRace, nil, &ok)
}

// Race returns the running race's progress, or nil when none runs.
func (c *Client) Race(ctx context.Context) (*RaceProgress, error) {
	var rp *RaceProgress
	err := c.call(ctx, http.MethodGet, PathRace, nil, &rp)
	return rp, err
}

// RaceByID returns the progress of the race with this id, running or
// ended; nil when the coordinator does not know it.
func (c *Client) RaceByID(ctx context.Context, id string) (*RaceProgress, error) {
	var rp *RaceProgress
	err := c.call(ctx, http.MethodGet, PathRace+"?id="+url.QueryEscape(id), nil, &rp)
	return rp, err
}

// Events streams events until ctx ends or the coordinator closes the stream.
func (c *Client) Events(ctx context.Context, fn func(Event)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://coordinator"+PathEvents, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.wrap(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("control events: bad line: %w", err)
		}
		fn(ev)
	}
	return sc.Err()
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://coordinator"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.wrap(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("control %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := fmt.Sprintf("%s: HTTP %d", path, resp.StatusCode)
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &APIError{Status: resp.StatusCode, Msg: msg}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("control %s: decode answer: %w", path, err)
	}
	return nil
}

func (c *Client) wrap(err error) error {
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w (socket %s)", ErrNotRunning, c.Socket)
	}
	return fmt.Errorf("control socket %s: %w", c.Socket, err)
}

// Listen creates the control socket at path with mode 0600 (its directory
// 0700). A stale socket whose coordinator is gone is replaced; a live one
// is an error.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: a coordinator is already running", path)
		}
		_ = os.Remove(path)
	}
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}

// WriteJSON answers with v as JSON, or an error object for a non-200 code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err, ok := v.(error); ok {
		v = map[string]string{"error": err.Error()}
	}
	_ = json.NewEncoder(w).Encode(v)
}
