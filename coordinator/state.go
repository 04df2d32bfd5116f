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

// stateFile guards one state file.
type stateFile struct {
	path    string
	mu      sync.Mutex
	st      State
	removed bool // teardown removed the file: nothing writes it again
}

func (f *stateFile) update(fn func(*State)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removed {
		return errTearingDown
	}
	fn(&f.st)
	f.st.Updated = time.Now().UTC()
	return writeState(f.path, &f.st)
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

func writeState(path string, st *State) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("state %s: %w", path, err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
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
