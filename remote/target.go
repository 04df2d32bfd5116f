package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Defaults applied to zero Target fields.
const (
	DefaultPort              = 22
	DefaultConnectTimeout    = 10 * time.Second
	DefaultKeepaliveInterval = 5 * time.Second
	DefaultKeepaliveCountMax = 3
)

// Target says how to reach one host. Zero fields are filled from the
// user's ~/.ssh/config (looked up by Address, as OpenSSH looks up the host
// given on its command line) and then from defaults; fields that are set
// always win over the file.
type Target struct {
	// Name is the host's name in messages ("h2"); defaults to Address.
	Name string
	// Address is a host name, an IP address or an ~/.ssh/config alias.
	// A HostName in the config replaces it for dialing.
	Address string
	// Port defaults to the config's Port, then 22.
	Port int
	// User defaults to the config's User, then the current local user.
	User string
	// IdentityFiles are private key files tried in order, followed by the
	// config's IdentityFile entries. When both are empty the OpenSSH
	// defaults (~/.ssh/id_ed25519, id_ecdsa, id_rsa) that exist are used.
	// Keys held by ssh-agent are offered as well.
	IdentityFiles []string
	// AgentSocket is the ssh-agent socket; defaults to $SSH_AUTH_SOCK.
	// "none" disables the agent.
	AgentSocket string
	// KnownHostsFile defaults to the config's UserKnownHostsFile, then
	// ~/.ssh/known_hosts.
	KnownHostsFile string
	// AcceptNewHostKey appends an unknown host key to KnownHostsFile
	// instead of failing. A changed key is an error regardless.
	AcceptNewHostKey bool
	// Jump is a jump host "[user@]host[:port]", or a comma-separated chain
	// of them; defaults to the config's ProxyJump. "none" disables it.
	// Jump hosts use the same identities, agent and known_hosts file.
	Jump string
	// ConnectTimeout bounds the TCP connect plus SSH handshake (default 10s).
	ConnectTimeout time.Duration
	// KeepaliveInterval is the period of keepalive@openssh.com requests
	// (default 5s); negative disables keepalives.
	KeepaliveInterval time.Duration
	// KeepaliveCountMax is how many intervals a keepalive may go
	// unanswered before the connection is treated as dead (default 3).
	KeepaliveCountMax int
	// SSHConfigFile defaults to ~/.ssh/config; "none" disables it.
	SSHConfigFile string
}

// HostPort returns "address:port" as dialed.
func (t Target) HostPort() string {
	return net.JoinHostPort(t.Address, strconv.Itoa(t.Port))
}

// String returns "name (address:port)", the form used in error messages.
func (t Target) String() string {
	return hostLabel(t.Name, t.HostPort())
}

// resolved fills t's zero fields from the SSH config file and defaults.
// It reads the file but not the network.
func (t Target) resolved() (Target, error) {
	if t.Address == "" {
		if t.Name == "" {
			return t, errors.New("ssh target has neither name nor address")
		}
		t.Address = t.Name
	}
	alias := t.Address
	if t.Name == "" {
		t.Name = alias
	}
	home, _ := os.UserHomeDir()
	localUser := currentUser()

	cfg, err := loadSSHConfig(t.SSHConfigFile, home)
	if err != nil {
		return t, fmt.Errorf("%s: %w", t.Name, err)
	}
	get := func(key string) string {
		if cfg == nil {
			return ""
		}
		v, _ := cfg.Get(alias, key)
		return strings.TrimSpace(v)
	}

	if hn := get("HostName"); hn != "" {
		t.Address = strings.ReplaceAll(hn, "%h", alias)
	}
	if t.Port == 0 {
		if p := get("Port"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return t, fmt.Errorf("%s: ssh config %s: Port %q is not a port number", t.Name, configPath(t.SSHConfigFile, home), p)
			}
			t.Port = n
		} else {
			t.Port = DefaultPort
		}
	}
	if t.User == "" {
		t.User = get("User")
		if t.User == "" {
			t.User = localUser
		}
	}
	expand := func(p string) string {
		return expandTokens(p, home, localUser, alias, t.User)
	}
	ids := make([]string, 0, len(t.IdentityFiles))
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			ids = append(ids, p)
		}
	}
	for _, p := range t.IdentityFiles {
		add(expand(p))
	}
	if cfg != nil {
		vals, _ := cfg.GetAll(alias, "IdentityFile")
		for _, v := range vals {
			add(expand(strings.TrimSpace(v)))
		}
	}
	t.IdentityFiles = ids

	if t.AgentSocket == "" {
		t.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	if t.KnownHostsFile == "" {
		if v := strings.Fields(get("UserKnownHostsFile")); len(v) > 0 {
			t.KnownHostsFile = expand(v[0])
		} else {
			t.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
		}
	} else {
		t.KnownHostsFile = expand(t.KnownHostsFile)
	}
	if t.Jump == "" {
		t.Jump = get("ProxyJump")
	}
	if strings.EqualFold(t.Jump, "none") {
		t.Jump = ""
	}
	if t.ConnectTimeout <= 0 {
		t.ConnectTimeout = DefaultConnectTimeout
	}
	if t.KeepaliveInterval == 0 {
		t.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if t.KeepaliveCountMax <= 0 {
		t.KeepaliveCountMax = DefaultKeepaliveCountMax
	}
	return t, nil
}

// jumpTarget builds the target for one hop "[user@]host[:port]" of a
// ProxyJump chain; it shares t's credentials and host-key settings, and is
// itself resolved through the SSH config (but never jumps again, which
// could loop).
func (t Target) jumpTarget(hop string) (Target, error) {
	hop = strings.TrimSpace(hop)
	j := Target{
		IdentityFiles:     t.IdentityFiles,
		AgentSocket:       t.AgentSocket,
		KnownHostsFile:    t.KnownHostsFile,
		AcceptNewHostKey:  t.AcceptNewHostKey,
		Jump:              "none",
		ConnectTimeout:    t.ConnectTimeout,
		KeepaliveInterval: t.KeepaliveInterval,
		KeepaliveCountMax: t.KeepaliveCountMax,
		SSHConfigFile:     t.SSHConfigFile,
	}
	if strings.HasPrefix(hop, "ssh://") {
		hop = strings.TrimPrefix(hop, "ssh://")
	}
	if at := strings.LastIndex(hop, "@"); at >= 0 {
		j.User, hop = hop[:at], hop[at+1:]
	}
	host := hop
	if h, p, err := net.SplitHostPort(hop); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return j, fmt.Errorf("jump host %q: bad port %q", hop, p)
		}
		host, j.Port = h, n
	}
	if host == "" {
		return j, fmt.Errorf("jump host %q: no host", hop)
	}
	j.Address, j.Name = host, host
	return j.resolved()
}

// loadSSHConfig reads the SSH config file; a missing default file is not
// an error, a missing file the caller named is.
func loadSSHConfig(file, home string) (*ssh_config.Config, error) {
	if strings.EqualFold(file, "none") {
		return nil, nil
	}
	path := configPath(file, home)
	f, err := os.Open(path)
	if err != nil {
		if file == "" && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("ssh config %s: %w", path, err)
	}
	return cfg, nil
}

func configPath(file, home string) string {
	if file == "" {
		return filepath.Join(home, ".ssh", "config")
	}
	return expandTokens(file, home, "", "", "")
}

// expandTokens expands a leading ~ and the ssh_config tokens %d (home),
// %u (local user), %h (host alias), %r (remote user) and %%.
func expandTokens(p, home, localUser, host, remoteUser string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, p[2:])
	}
	if !strings.Contains(p, "%") {
		return p
	}
	r := strings.NewReplacer("%%", "%", "%d", home, "%u", localUser, "%h", host, "%r", remoteUser)
	return r.Replace(p)
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
