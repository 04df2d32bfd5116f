package inventory

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Role is what a host does in a benchmark.
type Role string

const (
	// RoleLoadDriver hosts run benchmark clients.
	RoleLoadDriver Role = "load-driver"
	// RoleProvisioner hosts install, start and stop Elasticsearch nodes.
	RoleProvisioner Role = "provisioner"
)

// Roles lists every valid role, in the order they are documented.
var Roles = []Role{RoleLoadDriver, RoleProvisioner}

// HostName is the inventory's name for a host (not its address). It is a
// safe name ([A-Za-z0-9._-]) and may be used as a path component.
type HostName string

// Defaults applied by the inventory itself. SSH user and port have no
// default here on purpose: the SSH layer takes them from ~/.ssh/config first.
const (
	DefaultCluster         = "default"
	DefaultCoordinatorPort = 1900
	DefaultWorkdir         = "~/.rally"
)

// SSH holds how to reach a host. A zero field means "not set": the SSH layer
// fills it from ~/.ssh/config and then from its own defaults (current user,
// port 22, ssh-agent keys, ~/.ssh/known_hosts).
type SSH struct {
	User string
	Port int
	// IdentityFile is an absolute or inventory-relative local path with ~
	// expanded; it was readable when the inventory was loaded.
	IdentityFile string
	// KnownHosts is a local path with ~ expanded; it need not exist yet.
	KnownHosts string
	// Jump is a bastion as [user@]host[:port]; see ParseJump.
	Jump           string
	ConnectTimeout time.Duration
}

// merge returns s with every field that o sets replaced by o's value.
func (s SSH) merge(o SSH) SSH {
	if o.User != "" {
		s.User = o.User
	}
	if o.Port != 0 {
		s.Port = o.Port
	}
	if o.IdentityFile != "" {
		s.IdentityFile = o.IdentityFile
	}
	if o.KnownHosts != "" {
		s.KnownHosts = o.KnownHosts
	}
	if o.Jump != "" {
		s.Jump = o.Jump
	}
	if o.ConnectTimeout != 0 {
		s.ConnectTimeout = o.ConnectTimeout
	}
	return s
}

// Host is one machine of the inventory.
type Host struct {
	Name HostName
	// Address is what to dial: an IP address, a DNS name or a Host alias
	// of ~/.ssh/config. It never contains a user or a port.
	Address string
	Roles   []Role
	// SSH is the inventory's ssh defaults merged with this host's override.
	SSH SSH
	// Workdir is rally's directory on the remote host, exactly as written
	// (default "~/.rally"); a leading ~ means the SSH user's home there.
	Workdir string
	// Nodes is how many Elasticsearch or OpenSearch nodes a provisioner
	// host runs (default 1; 0 on other hosts).
	Nodes int
	// RunAs is the unprivileged user a provisioner host's nodes run as
	// (the host's run_as, else the inventory's); empty means the SSH
	// user, which then must not be root.
	RunAs string
	// Line is where the host's entry starts in the file.
	Line int
}

// MaxNodesPerHost bounds a host's nodes.
const MaxNodesPerHost = 16

// Has reports whether the host has role r.
func (h Host) Has(r Role) bool { return slices.Contains(h.Roles, r) }

// Inventory is a parsed and validated hosts.yaml.
type Inventory struct {
	File            string // as given to Load or Parse
	Cluster         string // a safe name, default "default"
	CoordinatorPort int    // default 1900
	SSH             SSH    // the defaults block, before any host override
	RunAs           string // the default run_as of provisioner hosts
	Hosts           []Host // at least one, in file order
}

// Load reads and parses the inventory file at path. Every error it returns
// is a Problems, including when the file cannot be read.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read inventory: %v", unwrapPathError(err)), Err: err}}
	}
	return Parse(path, data)
}

// unwrapPathError drops the *fs.PathError wrapper whose path the problem
// already names, keeping messages like "no such file or directory".
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Host returns the host called name.
func (inv *Inventory) Host(name HostName) (Host, bool) {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// WithRole returns the hosts that have role r, in file order.
func (inv *Inventory) WithRole(r Role) []Host {
	var out []Host
	for _, h := range inv.Hosts {
		if h.Has(r) {
			out = append(out, h)
		}
	}
	return out
}

// Summary describes the inventory in one line, e.g.
// "cluster demo, 3 hosts (2 load-driver, 1 provisioner)". A host with both
// roles counts once in each.
func (inv *Inventory) Summary() string {
	parts := make([]string, 0, len(Roles))
	for _, r := range Roles {
		if n := len(inv.WithRole(r)); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	return fmt.Sprintf("cluster %s, %s (%s)", inv.Cluster, plural(len(inv.Hosts), "host"), strings.Join(parts, ", "))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
