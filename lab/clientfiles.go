package lab

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// writeClientFiles writes what a client on the machine needs to reach the
// hosts: known_hosts, ssh_config and the inventory.
func (l *Lab) writeClientFiles() error {
	if err := l.writeKnownHosts(); err != nil {
		return err
	}
	if err := os.WriteFile(l.SSHConfigFile(), []byte(l.sshConfig()), 0o644); err != nil {
		return fmt.Errorf("ssh_config: %w", err)
	}
	inv, err := l.inventory()
	if err != nil {
		return err
	}
	if err := os.WriteFile(l.InventoryFile(), inv, 0o644); err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	return nil
}

// knownHostsName is how known_hosts names an address: bare for port 22,
// [addr]:port otherwise.
func knownHostsName(addr string, port int) string {
	if port == 22 {
		return addr
	}
	return "[" + addr + "]:" + strconv.Itoa(port)
}

func (l *Lab) writeKnownHosts() error {
	var b strings.Builder
	for _, h := range l.st.Hosts {
		pub, err := os.ReadFile(filepath.Join(l.hostDir(h.Name), "ssh_host_ed25519_key.pub"))
		if err != nil {
			return fmt.Errorf("%s: known_hosts: %w", h.Name, err)
		}
		f := strings.Fields(string(pub))
		if len(f) < 2 {
			return fmt.Errorf("%s: known_hosts: host key %q is not \"type base64\"", h.Name, pub)
		}
		fmt.Fprintf(&b, "%s %s %s\n", knownHostsName(h.Address, h.Port), f[0], f[1])
	}
	if err := os.WriteFile(l.KnownHostsFile(), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	return nil
}

// sshConfig renders an ssh_config with one Host block per lab host.
func (l *Lab) sshConfig() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# rally lab %s: ssh -F %s h1\n", l.st.RunID, l.SSHConfigFile())
	for _, h := range l.st.Hosts {
		fmt.Fprintf(&b, "\nHost %s %s\n", h.Name, h.Address)
		fmt.Fprintf(&b, "  HostName %s\n  Port %d\n  User root\n", h.Address, h.Port)
		fmt.Fprintf(&b, "  IdentityFile \"%s\"\n  IdentitiesOnly yes\n", l.IdentityFile())
		fmt.Fprintf(&b, "  UserKnownHostsFile \"%s\"\n  GlobalKnownHostsFile /dev/null\n", l.KnownHostsFile())
		b.WriteString("  StrictHostKeyChecking yes\n  CheckHostIP no\n  UpdateHostKeys no\n  LogLevel ERROR\n")
	}
	return b.String()
}

// inventoryDoc is hosts.yaml as rally's inventory package reads it.
type inventoryDoc struct {
	Cluster     string `yaml:"cluster"`
	SSH         invSSH `yaml:"ssh"`
	Coordinator struct {
		Port int `yaml:"port"`
	} `yaml:"coordinator"`
	RunAs string    `yaml:"run_as,omitempty"`
	Hosts []invHost `yaml:"hosts"`
}

type invSSH struct {
	User         string `yaml:"user"`
	Port         int    `yaml:"port"`
	IdentityFile string `yaml:"identity_file"`
	KnownHosts   string `yaml:"known_hosts"`
}

type invHost struct {
	Name    string   `yaml:"name"`
	Address string   `yaml:"address"`
	Roles   []string `yaml:"roles,flow"`
	Nodes   int      `yaml:"nodes,omitempty"`
}

// CoordinatorPort is the coordinator port the lab's inventory names.
const CoordinatorPort = 1900

func (l *Lab) inventory() ([]byte, error) {
	doc := inventoryDoc{
		Cluster: "lab-" + l.st.RunID,
		SSH:     invSSH{User: "root", Port: 22, IdentityFile: l.IdentityFile(), KnownHosts: l.KnownHostsFile()},
	}
	doc.Coordinator.Port = CoordinatorPort
	doc.RunAs = l.st.RunAs
	for _, h := range l.st.Hosts {
		if net.ParseIP(h.Address) == nil {
			return nil, fmt.Errorf("inventory: %s has no address yet", h.Name)
		}
		ih := invHost{Name: h.Name, Address: h.Address, Roles: h.Roles}
		if slices.Contains(h.Roles, "provisioner") {
			ih.Nodes = l.st.Nodes
		}
		doc.Hosts = append(doc.Hosts, ih)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# rally lab %s; rally-lab down --dir %s removes its hosts\n", l.st.RunID, l.dir)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return b.Bytes(), nil
}
