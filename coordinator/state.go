package coordinator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// State records everything the coordinator started anywhere, so that
// `rally down -i hosts.yaml` can clean up after a coordinator that crashed.
// It is written atomically (temp file, fsync, rename) after every change.
type State struct {
	Cluster     string       `json:"cluster"`
	Inventory   string       `json:"inventory"`
	Coordinator PIDRecord    `json:"coordinator"`
	Hosts       []HostRecord `json:"hosts"`
	Updated     time.Time    `json:"updated"`
}

// PIDRecord is a process on the coordinator's machine.
type PIDRecord struct {
	PID     int       `json:"pid"`
	Socket  string    `json:"socket"`
	Started time.Time `json:"started"`
}

// HostRecord is what was put on one host.
type HostRecord struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	// Workdir is the absolute remote workdir.
	Workdir string `json:"workdir,omitempty"`
	// CreatedWorkdir is true when rally made the workdir (down removes it
	// whole then; otherwise only the files rally put there).
	CreatedWorkdir bool `json:"created_workdir"`
	// Binary is the absolute path of the pushed worker binary.
	Binary     string `json:"binary,omitempty"`
	TunnelPort int    `json:"tunnel_port,omitempty"`
	WorkerPID  int    `json:"worker_pid,omitempty"`
	// Nodes are the engine nodes of a provisioner host.
	Nodes *NodeRecord `json:"nodes,omitempty"`
}

// stateFile guards one state file. Updates that come together share one
// write (group commit): with many hosts being brought up at once, each
// host's changes would otherwise wait in line for a file write and fsync
// apiece (about 12 ms each on this project's CI machine, four per host).
type stateFile struct {
	path string

	mu      sync.Mutex
	st      State
	version uint64 // changes made to st
	removed bool   // teardown removed the file: nothing writes it again

	// wmu is held while the file is written or removed; written is the
	// version last on disk, err what writing it gave.
	wmu     sync.Mutex
	written uint64
	err     error
}

// update applies fn to the state and returns once the change is on disk,
// written by this call or by one that took it along.
func (f *stateFile) update(fn func(*State)) error {
	f.mu.Lock()
	if f.removed {
		f.mu.Unlock()
		return errTearingDown
	}
	fn(&f.st)
	f.st.Updated = time.Now().UTC()
	f.version++
	v := f.version
	f.mu.Unlock()

	f.wmu.Lock()
	defer f.wmu.Unlock()
	if f.written >= v {
		return f.err // a write that began after fn took it along
	}
	f.mu.Lock()
	if f.removed {
		f.mu.Unlock()
		return errTearingDown
	}
	data, err := json.MarshalIndent(&f.st, "", "  ")
	latest := f.version
	f.mu.Unlock()
	if err == nil {
		err = writeState(f.path, data)
	}
	f.written, f.err = latest, err
	return err
}

// remove deletes the file for good: later updates fail with
// errTearingDown, and a write under way finishes first, so the file does
// not come back.
func (f *stateFile) remove() {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	os.Remove(f.path)
	f.removed = true
}

// host returns the record of name, adding it when missing. Callers hold mu
// through update.
func (s *State) host(name string) *HostRecord {
	for i := range s.Hosts {
		if s.Hosts[i].Name == name {
			return &s.Hosts[i]
		}
	}
	s.Hosts = append(s.Hosts, HostRecord{Name: name})
	return &s.Hosts[len(s.Hosts)-1]
}

// writeState writes data to path atomically: a temporary file, fsync,
// rename.
func writeState(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("state %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*.json")
	if err != nil {
		return fmt.Errorf("state %s: %w", path, err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	if werr == nil {
		werr = tmp.Sync()
	}
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("state %s: %w", path, werr)
	}
	return nil
}

// ReadState reads a state file; a missing file returns (nil, nil).
func ReadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return &st, nil
}
