// Package sshtest starts real OpenSSH servers (/usr/sbin/sshd) on
// 127.0.0.1 for tests of code that speaks SSH, plus an in-process ssh-agent.
// Every server runs as the test's user in a temporary directory with its
// own host keys, client key, authorized_keys and known_hosts file, and is
// killed (with everything it spawned) when the test ends.
//
// It is test support only: production code must not import it.
package sshtest

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// SSHD is the server binary; it must be an absolute path (sshd re-executes
// itself).
const SSHD = "/usr/sbin/sshd"

// Options adjust a server; the zero value is a plain server with one
// ed25519 host key.
type Options struct {
	// HostKeyTypes are the host key types to generate: "ed25519",
	// "ecdsa" (P-256) or "rsa" (2048 bits). Default: ed25519 only.
	HostKeyTypes []string
	// ExtraConfig lines are appended to sshd_config.
	ExtraConfig []string
}

// Server is a running sshd.
type Server struct {
	// Host is always "127.0.0.1"; Port is the port sshd listens on.
	Host string
	Port int
	// Dir holds the server's files.
	Dir string
	// HostKeys are the server's public host keys, in Options order.
	HostKeys []ssh.PublicKey
	// ClientKeyFile is an unencrypted private key that the server accepts;
	// ClientKey is the same key.
	ClientKeyFile string
	ClientKey     ssh.Signer
	// KnownHostsFile lists every host key of the server, in the
	// "[127.0.0.1]:port" form.
	KnownHostsFile string

	cmd    *exec.Cmd
	exited chan struct{}
	log    syncBuffer
}

// Start starts sshd and waits until it accepts connections.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, err := os.Stat(SSHD); err != nil {
		t.Fatalf("sshtest: OpenSSH server not installed: %v", err)
	}
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	types := opts.HostKeyTypes
	if len(types) == 0 {
		types = []string{"ed25519"}
	}
	s := &Server{Host: "127.0.0.1", Dir: t.TempDir()}
	var hostKeyLines []string
	for _, typ := range types {
		path := filepath.Join(s.Dir, "ssh_host_"+typ+"_key")
		signer := WriteKey(t, path, typ)
		s.HostKeys = append(s.HostKeys, signer.PublicKey())
		hostKeyLines = append(hostKeyLines, "HostKey "+path)
	}
	s.ClientKeyFile = filepath.Join(s.Dir, "id_client")
	s.ClientKey = WriteKey(t, s.ClientKeyFile, "ed25519")
	s.Authorize(t, s.ClientKey.PublicKey())

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := FreePort()
		if err != nil {
			t.Fatalf("sshtest: %v", err)
		}
		s.Port = port
		cfg := filepath.Join(s.Dir, "sshd_config")
		lines := append([]string{
			fmt.Sprintf("ListenAddress 127.0.0.1:%d", port),
			"PidFile none",
			"UsePAM no",
			"StrictModes no",
			"AuthorizedKeysFile " + filepath.Join(s.Dir, "authorized_keys"),
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PermitRootLogin prohibit-password",
			"Subsystem sftp internal-sftp",
			"AllowTcpForwarding yes",
			"PrintMotd no",
			"MaxStartups 200",
			"MaxSessions 100",
			"LogLevel VERBOSE",
		}, hostKeyLines...)
		lines = append(lines, opts.ExtraConfig...)
		if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if lastErr = s.start(cfg); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("sshtest: start sshd: %v\n%s", lastErr, s.Log())
	}
	t.Cleanup(s.Stop)

	var known []string
	for _, k := range s.HostKeys {
		known = append(known, s.KnownHostsLine(k))
	}
	s.KnownHostsFile = filepath.Join(s.Dir, "known_hosts")
	if err := os.WriteFile(s.KnownHostsFile, []byte(strings.Join(known, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// start runs sshd with cfg and waits for its banner; an error means it
// exited or never answered (e.g. the port was taken meanwhile).
func (s *Server) start(cfg string) error {
	s.log.Reset()
	cmd := exec.Command(SSHD, "-D", "-e", "-f", cfg)
	cmd.Stdout = &s.log
	cmd.Stderr = &s.log
	// Sessions inherit sshd's stderr; don't let Wait hang on the pipe if
	// one outlives sshd.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("sshd exited early")
		default:
		}
		if banner(s.Addr()) {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("sshd did not answer on %s within 10s", s.Addr())
}

func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// PID returns the listening sshd's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns what sshd has logged so far.
func (s *Server) Log() string { return s.log.String() }

// KnownHostsLine returns a known_hosts line for key at this server.
func (s *Server) KnownHostsLine(key ssh.PublicKey) string {
	return fmt.Sprintf("[%s]:%d %s", s.Host, s.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))
}

// Authorize adds pub to the server's authorized_keys.
func (s *Server) Authorize(t testing.TB, pub ssh.PublicKey) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(ssh.MarshalAuthorizedKey(pub)); err != nil {
		t.Fatal(err)
	}
}

// Freeze stops (SIGSTOP) sshd and every process it spawned, like a host
// that hangs: connections stay open but nothing answers.
func (s *Server) Freeze() {
	s.cmd.Process.Signal(syscall.SIGSTOP)
	// Repeat: a child could fork between the listing and the signal.
	for range 3 {
		for _, pid := range descendants(s.PID()) {
			syscall.Kill(pid, syscall.SIGSTOP)
		}
	}
}

// Thaw resumes what Freeze stopped.
func (s *Server) Thaw() {
	for _, pid := range descendants(s.PID()) {
		syscall.Kill(pid, syscall.SIGCONT)
	}
	s.cmd.Process.Signal(syscall.SIGCONT)
}

// Stop kills sshd and every process it spawned (sessions, commands) and
// waits for sshd to exit. It runs at test cleanup and is idempotent.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	kids := append(descendants(s.PID()), sessionProcesses(s.Port)...)
	s.cmd.Process.Kill()
	for _, pid := range kids {
		syscall.Kill(pid, syscall.SIGKILL)
		syscall.Kill(pid, syscall.SIGCONT)
	}
	<-s.exited
}

// ConnectionProcesses lists the per-connection sshd processes of the
// server: killing them cuts the SSH links to it while the server itself
// keeps accepting (a network cut, as a client sees it).
func (s *Server) ConnectionProcesses() []int {
	var out []int
	for _, pid := range descendants(s.PID()) {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == SSHD {
			out = append(out, pid)
		}
	}
	return out
}

// descendants lists the processes below pid, read from /proc.
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parens.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	var out []int
	want := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if want[pp] && !want[p] {
				want[p] = true
				out = append(out, p)
				changed = true
			}
		}
	}
	return out
}

// sessionProcesses finds processes started by sessions of the sshd on
// port, including orphans that left its process tree when their session
// closed: their environment holds SSH_CONNECTION="client cport 127.0.0.1 port".
func sessionProcesses(port int) []int {
	suffix := []byte(" 127.0.0.1 " + strconv.Itoa(port))
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("SSH_CONNECTION=")); ok && bytes.HasSuffix(v, suffix) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WriteKey generates a private key of typ ("ed25519", "ecdsa", "rsa"),
// writes it to path in OpenSSH format (mode 0600) with its .pub beside it,
// and returns it as a signer.
func WriteKey(t testing.TB, path, typ string) ssh.Signer {
	t.Helper()
	priv := NewKey(t, typ)
	block, err := ssh.MarshalPrivateKey(priv, "sshtest")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	return signer
}

// NewKey generates a private key of typ ("ed25519", "ecdsa", "rsa").
func NewKey(t testing.TB, typ string) crypto.Signer {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch typ {
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("sshtest: unknown key type %q", typ)
	}
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// StartAgent serves an in-process ssh-agent holding keys on a unix socket
// and returns the socket's path; it stops when the test ends.
func StartAgent(t testing.TB, keys ...crypto.Signer) string {
	t.Helper()
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	// A short directory: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	closed := false
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				return
			}
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				agent.ServeAgent(keyring, c)
				c.Close()
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return sock
}

// syncBuffer is a bytes.Buffer safe for sshd's output and test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
