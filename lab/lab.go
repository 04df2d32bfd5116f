package lab

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Options says what lab Start builds.
type Options struct {
	// Hosts is how many hosts to start (1 to MaxHosts).
	Hosts int
	// Provisioners is how many hosts, the last ones, are provisioner
	// hosts only (nodes, no load). Zero keeps the default: every host
	// drives load, and of 3 or more the last is a provisioner too.
	Provisioners int
	// NodesPerHost is the inventory's nodes of each provisioner host
	// (zero: the inventory's default, one).
	NodesPerHost int
	// RunAs is the unprivileged user of the machine that nodes run as on
	// the hosts (the inventory's run_as); the hosts share the machine's
	// users and its JDKs under /usr/lib/jvm.
	RunAs string
	// Dir is where keys, configs, logs and state go. It is created if it
	// does not exist. Empty means a new temporary directory, which Close
	// removes; a directory given here is left in place.
	Dir string
}

// MaxHosts is the most hosts one lab can have: hosts take .11 and up of a /24.
const MaxHosts = 200

// Host is one lab host as the outside sees it.
type Host struct {
	// Name is the host's inventory name: h1, h2, ...
	Name string `json:"name"`
	// Address is the host's IPv4 address on the lab bridge.
	Address string `json:"address"`
	// Port is sshd's port (22).
	Port int `json:"port"`
	// Netns is the name of the host's network namespace (see ip netns list).
	Netns string `json:"netns"`
	// InitPID is the PID, in the machine's PID namespace, of the first
	// process of the host's PID namespace (sshd). Killing it kills the host.
	InitPID int `json:"init_pid"`
	// Roles are the host's roles in the inventory.
	Roles []string `json:"roles"`
}

// Process is a process running inside a lab host.
type Process struct {
	// PID is the process ID in the machine's PID namespace (usable with
	// kill from the machine).
	PID int
	// HostPID is the process ID as the host itself sees it (1 is sshd).
	HostPID int
	// Command is the full command line, arguments separated by spaces
	// (the name in brackets when the process has no command line).
	Command string
}

// Lab is a running set of test hosts. Its methods are safe for concurrent use.
type Lab struct {
	mu    sync.Mutex
	st    state
	dir   string
	owned map[string]*launcher // sshd launchers this process started, by host name
}

// state is lab.json: everything Open needs to inspect and tear down a lab
// started by another process.
type state struct {
	RunID   string      `json:"run_id"`
	Dir     string      `json:"dir"`
	OwnsDir bool        `json:"owns_dir"` // Start created Dir, Close removes it
	Bridge  string      `json:"bridge"`
	Subnet  string      `json:"subnet"` // e.g. 10.213.7.0/24, "" until chosen
	Gateway string      `json:"gateway"`
	Closed  bool        `json:"closed"`
	RunAs   string      `json:"run_as,omitempty"`
	Nodes   int         `json:"nodes,omitempty"` // per provisioner host
	Hosts   []hostState `json:"hosts"`
}

// hostState is what lab.json records of one host.
type hostState struct {
	Host
	Veth          string `json:"veth"`       // machine side of the veth pair
	InitStart     uint64 `json:"init_start"` // start time of InitPID, to tell it from a reused PID
	LauncherPID   int    `json:"launcher_pid"`
	LauncherStart uint64 `json:"launcher_start"`
}

const stateFile = "lab.json"

// Start builds a lab of opts.Hosts hosts and returns once every host's sshd
// accepts connections. On error it removes whatever it had made. If ctx has
// no deadline, Start gives up after 30 s.
func Start(ctx context.Context, opts Options) (l *Lab, err error) {
	if opts.Hosts < 1 || opts.Hosts > MaxHosts {
		return nil, fmt.Errorf("lab: start: %d hosts asked, want 1 to %d", opts.Hosts, MaxHosts)
	}
	if opts.Provisioners < 0 || opts.Provisioners >= opts.Hosts {
		return nil, fmt.Errorf("lab: start: %d provisioner hosts of %d: want fewer, so that a host drives load", opts.Provisioners, opts.Hosts)
	}
	if err := Check(); err != nil {
		return nil, fmt.Errorf("lab: start: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	dir, owns, err := prepareDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("lab: start: %w", err)
	}
	id, err := newRunID()
	if err != nil {
		if owns {
			os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("lab: start: %w", err)
	}
	l = &Lab{dir: dir, owned: map[string]*launcher{}}
	l.st = state{RunID: id, Dir: dir, OwnsDir: owns, Bridge: "rlb" + id, RunAs: opts.RunAs, Nodes: opts.NodesPerHost}
	for i := 1; i <= opts.Hosts; i++ {
		name := fmt.Sprintf("h%d", i)
		roles := []string{"load-driver"}
		switch {
		case opts.Provisioners > 0 && i > opts.Hosts-opts.Provisioners:
			roles = []string{"provisioner"}
		case opts.Provisioners == 0 && opts.Hosts >= 3 && i == opts.Hosts:
			roles = append(roles, "provisioner")
		}
		l.st.Hosts = append(l.st.Hosts, hostState{
			Host: Host{Name: name, Port: 22, Netns: fmt.Sprintf("rl%s-%s", id, name), Roles: roles},
			Veth: fmt.Sprintf("rl%s%s", id, name),
		})
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.Close())
			l = nil
		}
	}()
	// Record the names before creating anything, so a crash leaves a state
	// file that "rally-lab down" can clean up from.
	if err := l.save(); err != nil {
		return l, fmt.Errorf("lab: start: %w", err)
	}
	if err := l.makeKeys(ctx); err != nil {
		return l, fmt.Errorf("lab: start: %w", err)
	}
	if err := l.makeNetwork(ctx); err != nil {
		return l, fmt.Errorf("lab: start: %w", err)
	}
	if err := l.writeClientFiles(); err != nil {
		return l, fmt.Errorf("lab: start: %w", err)
	}
	if err := l.startHosts(ctx); err != nil {
		return l, fmt.Errorf("lab: start: %w", err)
	}
	return l, nil
}

// prepareDir creates the lab directory and refuses one that holds a lab
// still running.
func prepareDir(dir string) (string, bool, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "rally-lab-")
		if err != nil {
			return "", false, fmt.Errorf("create lab dir: %w", err)
		}
		return d, true, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, fmt.Errorf("lab dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", false, fmt.Errorf("create lab dir: %w", err)
	}
	st, err := readState(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", false, err
	case !st.Closed:
		return "", false, fmt.Errorf("lab dir %s holds lab %s that is still up (run rally-lab down --dir %s first)", abs, st.RunID, abs)
	}
	return abs, false, nil
}

// newRunID returns 6 random characters of [a-z0-9]; with the rl prefix and
// a host suffix they keep interface names under the kernel's 15 bytes.
func newRunID() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// Open reattaches to the lab that Start wrote into dir, for example to tear
// down a lab that the rally-lab command started. Closing a lab opened this
// way kills its hosts as well.
func Open(dir string) (*Lab, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lab: open %s: %w", dir, err)
	}
	st, err := readState(abs)
	if err != nil {
		return nil, fmt.Errorf("lab: open: %w", err)
	}
	return &Lab{st: st, dir: abs, owned: map[string]*launcher{}}, nil
}

func readState(dir string) (state, error) {
	var st state
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, fmt.Errorf("read lab state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("read lab state %s: %w", filepath.Join(dir, stateFile), err)
	}
	return st, nil
}

// save writes lab.json atomically. The caller holds l.mu or owns l alone.
func (l *Lab) save() error {
	data, err := json.MarshalIndent(l.st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab state: %w", err)
	}
	return writeFileAtomic(filepath.Join(l.dir, stateFile), append(data, '\n'), 0o644)
}

func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Hosts returns the lab's hosts in order (h1 first).
func (l *Lab) Hosts() []Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Host, len(l.st.Hosts))
	for i, h := range l.st.Hosts {
		out[i] = h.Host
		out[i].Roles = append([]string(nil), h.Roles...)
	}
	return out
}

// Host returns the host called name.
func (l *Lab) Host(name string) (Host, error) {
	h, err := l.hostState(name)
	return h.Host, err
}

func (l *Lab) hostState(name string) (hostState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.st.Hosts {
		if h.Name == name {
			return h, nil
		}
	}
	names := make([]string, len(l.st.Hosts))
	for i, h := range l.st.Hosts {
		names[i] = h.Name
	}
	return hostState{}, fmt.Errorf("lab %s: no host %q (hosts: %v)", l.st.RunID, name, names)
}

// RunID returns the random id that names this lab's namespaces and links.
func (l *Lab) RunID() string { return l.st.RunID }

// Subnet returns the lab's IPv4 subnet, e.g. "10.213.7.0/24".
func (l *Lab) Subnet() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.Subnet
}

// Gateway returns the bridge's address on the machine, the address by which
// the hosts reach the machine (e.g. "10.213.7.1").
func (l *Lab) Gateway() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.Gateway
}

// Bridge returns the name of the lab's bridge on the machine.
func (l *Lab) Bridge() string { return l.st.Bridge }

// Dir returns the lab directory.
func (l *Lab) Dir() string { return l.dir }

// IdentityFile returns the private key every host accepts for root.
func (l *Lab) IdentityFile() string { return filepath.Join(l.dir, "id_ed25519") }

// KnownHostsFile returns the known_hosts file listing every host's key.
func (l *Lab) KnownHostsFile() string { return filepath.Join(l.dir, "known_hosts") }

// InventoryFile returns the lab's hosts.yaml.
func (l *Lab) InventoryFile() string { return filepath.Join(l.dir, "hosts.yaml") }

// SSHConfigFile returns an ssh_config naming every host, for "ssh -F".
func (l *Lab) SSHConfigFile() string { return filepath.Join(l.dir, "ssh_config") }

// hostDir is where a host's sshd files live; the host itself sees this
// directory (and nothing else of the lab dir) at hostMount.
func (l *Lab) hostDir(name string) string { return filepath.Join(l.dir, name) }

// LogFile returns the file that collects a host's sshd log (sshd -e) and the
// output of processes started with Spawn.
func (l *Lab) LogFile(name string) string { return filepath.Join(l.hostDir(name), "sshd.log") }

// Close kills every process of every host, deletes the lab's links,
// namespaces and bridge, and removes the lab directory if Start created it.
// It only kills processes the lab started. Calling it again does nothing.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st.Closed {
		return nil
	}
	var errs []error
	for _, h := range l.st.Hosts {
		if err := l.killHost(h); err != nil {
			errs = append(errs, err)
		}
	}
	for _, h := range l.st.Hosts {
		if err := deleteLink(h.Veth); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.Name, err))
		}
		if err := deleteNetns(h.Netns); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.Name, err))
		}
	}
	if err := deleteLink(l.st.Bridge); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("lab %s: close: %w", l.st.RunID, errors.Join(errs...))
	}
	l.st.Closed = true
	if l.st.OwnsDir {
		if err := os.RemoveAll(l.dir); err != nil {
			return fmt.Errorf("lab %s: close: remove %s: %w", l.st.RunID, l.dir, err)
		}
		return nil
	}
	if err := l.save(); err != nil {
		return fmt.Errorf("lab %s: close: %w", l.st.RunID, err)
	}
	return nil
}

// killHost kills the host's PID namespace by killing its first process (the
// kernel then kills every other process in it) and waits until the
// launcher has reaped it and exited. The launcher is killed only if it
// hangs on: killed first, it would leave the first process a zombie of
// PID 1, which not every PID 1 reaps. The caller holds l.mu.
func (l *Lab) killHost(h hostState) error {
	var errs []error
	if h.InitPID > 0 {
		if err := killIfOurs(h.InitPID, h.InitStart); err != nil {
			errs = append(errs, fmt.Errorf("%s: kill init pid %d: %w", h.Name, h.InitPID, err))
		}
		if err := waitReaped(h.InitPID, h.InitStart, h.LauncherPID, 5*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.Name, err))
		}
	}
	if h.LauncherPID > 0 {
		if ln := l.owned[h.Name]; ln != nil {
			select {
			case <-ln.done:
			case <-time.After(2 * time.Second):
			}
		} else {
			waitGone(h.LauncherPID, h.LauncherStart, 2*time.Second)
		}
		if err := killIfOurs(h.LauncherPID, h.LauncherStart); err != nil {
			errs = append(errs, fmt.Errorf("%s: kill launcher pid %d: %w", h.Name, h.LauncherPID, err))
		}
		if err := waitGone(h.LauncherPID, h.LauncherStart, 2*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("%s: launcher: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}
