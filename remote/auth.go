package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultIdentities are the files OpenSSH tries when none is configured.
var defaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// auth collects the public-key signers for one dial and remembers what it
// tried, so an authentication failure can say so.
type auth struct {
	signers []ssh.Signer
	tried   []string // "/path/id (ssh-ed25519)", "ssh-agent (2 keys)"
	skipped []string // "/path/id_rsa (encrypted; add it to ssh-agent)"
	agentC  net.Conn
}

// newAuth loads the identity files and connects to the agent. Unusable
// keys are noted, not fatal: the server may accept another one.
func newAuth(t Target) *auth {
	a := &auth{}
	files := t.IdentityFiles
	explicit := len(files) > 0
	if !explicit {
		home, _ := os.UserHomeDir()
		for _, name := range defaultIdentities {
			files = append(files, filepath.Join(home, ".ssh", name))
		}
	}
	for _, path := range files {
		s, err := loadSigner(path)
		switch {
		case err == nil:
			a.signers = append(a.signers, s)
			a.tried = append(a.tried, fmt.Sprintf("%s (%s)", path, s.PublicKey().Type()))
		case !explicit && errors.Is(err, fs.ErrNotExist):
			// An absent default identity is normal.
		default:
			a.skipped = append(a.skipped, fmt.Sprintf("%s (%v)", path, err))
		}
	}
	if sock := t.AgentSocket; sock != "" && !strings.EqualFold(sock, "none") {
		conn, err := net.DialTimeout("unix", sock, t.ConnectTimeout)
		if err != nil {
			a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent at %s (%v)", sock, err))
		} else {
			// A hung agent (one waiting for a confirmation, or forwarded
			// over a dead link) must not outlast the connect timeout: the
			// deadline covers listing the keys and signing the handshake.
			_ = conn.SetDeadline(time.Now().Add(t.ConnectTimeout))
			a.agentC = conn
			signers, err := agent.NewClient(conn).Signers()
			if err != nil {
				a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent at %s (%v)", sock, err))
			} else {
				a.signers = append(a.signers, signers...)
				a.tried = append(a.tried, fmt.Sprintf("ssh-agent (%d keys)", len(signers)))
			}
		}
	}
	return a
}

func loadSigner(path string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("not found: %w", fs.ErrNotExist)
		}
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("encrypted; add it to ssh-agent")
	}
	return s, err
}

// methods returns the auth methods for ssh.ClientConfig.
func (a *auth) methods() []ssh.AuthMethod {
	if len(a.signers) == 0 {
		return nil
	}
	return []ssh.AuthMethod{ssh.PublicKeys(a.signers...)}
}

// describe says what was tried, for ErrAuth messages.
func (a *auth) describe() string {
	var b strings.Builder
	if len(a.tried) == 0 {
		b.WriteString("no usable key (no identity file and no ssh-agent)")
	} else {
		b.WriteString("tried publickey with ")
		b.WriteString(strings.Join(a.tried, ", "))
	}
	if len(a.skipped) > 0 {
		b.WriteString("; skipped ")
		b.WriteString(strings.Join(a.skipped, ", "))
	}
	return b.String()
}

func (a *auth) close() {
	if a.agentC != nil {
		a.agentC.Close()
	}
}
