package remote_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"rally/remote"
	"rally/remote/sshtest"
)

// baseTarget reaches s with its client key and known_hosts file, ignoring
// the machine's own SSH config and agent.
func baseTarget(s *sshtest.Server) remote.Target {
	return remote.Target{
		Name:           "h1",
		Address:        s.Host,
		Port:           s.Port,
		IdentityFiles:  []string{s.ClientKeyFile},
		KnownHostsFile: s.KnownHostsFile,
		AgentSocket:    "none",
		SSHConfigFile:  "none",
		ConnectTimeout: 5 * time.Second,
	}
}

func dial(t testing.TB, tg remote.Target) *remote.Client {
	t.Helper()
	c, err := remote.Dial(context.Background(), tg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustEcho proves the connection runs commands.
func mustEcho(t *testing.T, c *remote.Client) {
	t.Helper()
	res, err := c.Run(context.Background(), "echo ok", nil)
	if err != nil || string(res.Stdout) != "ok\n" {
		t.Fatalf("Run(echo ok) = %q, %v", res.Stdout, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDialHostKeys(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})

	t.Run("known_host_connects", func(t *testing.T) {
		mustEcho(t, dial(t, baseTarget(s)))
	})

	t.Run("unknown_host_is_a_HostKeyError_and_nothing_runs", func(t *testing.T) {
		tg := baseTarget(s)
		tg.Name = "h2"
		tg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, tg.KnownHostsFile, "")
		before := strings.Count(s.Log(), "Accepted publickey")

		c, err := remote.Dial(context.Background(), tg)
		if err == nil {
			c.Close()
			t.Fatal("Dial succeeded for a host missing from known_hosts")
		}
		var hk *remote.HostKeyError
		if !errors.As(err, &hk) {
			t.Fatalf("error %v (%T) is not a *HostKeyError", err, err)
		}
		if hk.Changed {
			t.Error("unknown key reported as changed")
		}
		if want := ssh.FingerprintSHA256(s.HostKeys[0]); hk.Fingerprint != want || hk.KeyType != "ssh-ed25519" {
			t.Errorf("key = %s %s, want ssh-ed25519 %s", hk.KeyType, hk.Fingerprint, want)
		}
		wantPrefix := "h2 (" + s.Addr() + "): host key unknown: ssh-ed25519 SHA256:"
		if msg := err.Error(); !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, tg.KnownHostsFile) || !strings.Contains(msg, "--accept-new-host-keys") {
			t.Errorf("message %q: want prefix %q, the file and the flag", msg, wantPrefix)
		}
		if errors.Is(err, remote.ErrAuth) || errors.Is(err, remote.ErrUnreachable) {
			t.Error("host key error also matches ErrAuth/ErrUnreachable")
		}
		if got := readFile(t, tg.KnownHostsFile); got != "" {
			t.Errorf("known_hosts written without AcceptNewHostKey: %q", got)
		}
		time.Sleep(100 * time.Millisecond) // let sshd flush its log
		if after := strings.Count(s.Log(), "Accepted publickey"); after != before {
			t.Errorf("server accepted a login (%d -> %d) although the host key was rejected", before, after)
		}
	})

	t.Run("accept_new_appends_then_strict_dial_works", func(t *testing.T) {
		tg := baseTarget(s)
		tg.KnownHostsFile = filepath.Join(t.TempDir(), "sub", "known_hosts") // neither file nor directory exists
		tg.AcceptNewHostKey = true
		mustEcho(t, dial(t, tg))
		got := readFile(t, tg.KnownHostsFile)
		want := s.KnownHostsLine(s.HostKeys[0]) + "\n"
		if got != want {
			t.Fatalf("known_hosts = %q, want %q", got, want)
		}
		tg.AcceptNewHostKey = false
		mustEcho(t, dial(t, tg))
		if again := readFile(t, tg.KnownHostsFile); again != got {
			t.Errorf("known_hosts changed by a dial to a known host: %q", again)
		}
	})

	t.Run("concurrent_accept_new_writes_one_line", func(t *testing.T) {
		tg := baseTarget(s)
		tg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, tg.KnownHostsFile, "# no newline at end")
		tg.AcceptNewHostKey = true
		targets := []remote.Target{tg, tg, tg, tg, tg, tg}
		clients, errs := remote.DialAll(context.Background(), targets, 6)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("dial %d: %v", i, err)
			}
			clients[i].Close()
		}
		got := readFile(t, tg.KnownHostsFile)
		want := "# no newline at end\n" + s.KnownHostsLine(s.HostKeys[0]) + "\n"
		if got != want {
			t.Errorf("known_hosts = %q, want %q", got, want)
		}
	})

	t.Run("changed_key_is_an_error_even_with_accept_new", func(t *testing.T) {
		other := sshtest.NewKey(t, "ed25519")
		otherPub, err := ssh.NewPublicKey(other.Public())
		if err != nil {
			t.Fatal(err)
		}
		tg := baseTarget(s)
		tg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		content := "# managed by hand\n" + s.KnownHostsLine(otherPub) + "\n"
		writeFile(t, tg.KnownHostsFile, content)
		for _, accept := range []bool{false, true} {
			tg.AcceptNewHostKey = accept
			c, err := remote.Dial(context.Background(), tg)
			if err == nil {
				c.Close()
				t.Fatalf("accept=%v: Dial succeeded with a changed host key", accept)
			}
			var hk *remote.HostKeyError
			if !errors.As(err, &hk) || !hk.Changed {
				t.Fatalf("accept=%v: error %v is not a changed-key HostKeyError", accept, err)
			}
			if hk.Line != 2 || hk.Fingerprint != ssh.FingerprintSHA256(s.HostKeys[0]) {
				t.Errorf("accept=%v: line %d fingerprint %s, want line 2 and the server's key", accept, hk.Line, hk.Fingerprint)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "h1 ("+s.Addr()+"): host key changed: ") || !strings.Contains(msg, "man-in-the-middle") ||
				!strings.Contains(msg, tg.KnownHostsFile+":2") {
				t.Errorf("message %q", msg)
			}
		}
		if got := readFile(t, tg.KnownHostsFile); got != content {
			t.Errorf("known_hosts modified: %q", got)
		}
	})

	t.Run("hashed_known_hosts_entry", func(t *testing.T) {
		tg := baseTarget(s)
		tg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, tg.KnownHostsFile, readFile(t, s.KnownHostsFile))
		if out, err := exec.Command("ssh-keygen", "-H", "-f", tg.KnownHostsFile).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -H: %v\n%s", err, out)
		}
		if got := readFile(t, tg.KnownHostsFile); !strings.HasPrefix(got, "|1|") || strings.Contains(got, "127.0.0.1") {
			t.Fatalf("known_hosts not hashed: %q", got)
		}
		mustEcho(t, dial(t, tg))
	})
}

// A server with several host keys must not look "changed" when known_hosts
// holds only the type the client would not prefer (x/crypto prefers ECDSA
// over Ed25519).
func TestDialOffersOnlyKnownHostKeyTypes(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ed25519", "ecdsa"}})
	for i, name := range []string{"only_ed25519_known", "only_ecdsa_known"} {
		t.Run(name, func(t *testing.T) {
			tg := baseTarget(s)
			tg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, tg.KnownHostsFile, s.KnownHostsLine(s.HostKeys[i])+"\n")
			mustEcho(t, dial(t, tg))
		})
	}
}

func TestDialAuth(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})

	t.Run("ssh_agent_key", func(t *testing.T) {
		key := sshtest.NewKey(t, "ed25519")
		pub, err := ssh.NewPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		s.Authorize(t, pub)
		t.Setenv("SSH_AUTH_SOCK", sshtest.StartAgent(t, key))
		t.Setenv("HOME", t.TempDir()) // no default identities
		tg := baseTarget(s)
		tg.IdentityFiles = nil
		tg.AgentSocket = "" // from $SSH_AUTH_SOCK
		mustEcho(t, dial(t, tg))
	})

	t.Run("wrong_key_is_ErrAuth_naming_what_was_tried", func(t *testing.T) {
		wrong := filepath.Join(t.TempDir(), "id_wrong")
		sshtest.WriteKey(t, wrong, "ed25519")
		tg := baseTarget(s)
		tg.IdentityFiles = []string{wrong, filepath.Join(t.TempDir(), "missing")}
		_, err := remote.Dial(context.Background(), tg)
		if !errors.Is(err, remote.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
		if errors.Is(err, remote.ErrUnreachable) {
			t.Error("auth failure also matches ErrUnreachable")
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "h1 ("+s.Addr()+"): authentication failed: tried publickey with "+wrong+" (ssh-ed25519)") ||
			!strings.Contains(msg, "missing (not found") {
			t.Errorf("message %q", msg)
		}
	})

	t.Run("encrypted_key_is_skipped_with_a_hint", func(t *testing.T) {
		enc := filepath.Join(t.TempDir(), "id_enc")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", enc).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		tg := baseTarget(s)
		tg.IdentityFiles = []string{enc}
		_, err := remote.Dial(context.Background(), tg)
		if !errors.Is(err, remote.ErrAuth) || !strings.Contains(err.Error(), "encrypted; add it to ssh-agent") {
			t.Fatalf("err = %v, want ErrAuth mentioning the encrypted key", err)
		}
	})
}

func TestDialUnreachable(t *testing.T) {
	port, err := sshtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	tg := remote.Target{Name: "gone", Address: "127.0.0.1", Port: port, SSHConfigFile: "none", AgentSocket: "none",
		KnownHostsFile: filepath.Join(t.TempDir(), "kh")}
	_, err = remote.Dial(context.Background(), tg)
	if !errors.Is(err, remote.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if want := "gone (127.0.0.1:" + strconv.Itoa(port) + "): unreachable: "; !strings.HasPrefix(err.Error(), want) ||
		!strings.Contains(err.Error(), "refused") {
		t.Errorf("message %q, want prefix %q and the cause", err, want)
	}
}

func TestDialThroughJumpHost(t *testing.T) {
	jump := sshtest.Start(t, sshtest.Options{})
	dest := sshtest.Start(t, sshtest.Options{})
	dest.Authorize(t, jump.ClientKey.PublicKey())
	known := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, known, readFile(t, jump.KnownHostsFile)+readFile(t, dest.KnownHostsFile))

	check := func(t *testing.T, tg remote.Target) {
		c := dial(t, tg)
		mustEcho(t, c)
		// The connection runs inside the jump host's session: killing the
		// jump host's sshd and its sessions must end it.
		jump.Stop()
		select {
		case <-c.Done():
		case <-time.After(15 * time.Second):
			t.Fatal("connection survived the jump host: it did not go through it")
		}
	}

	t.Run("jump_field", func(t *testing.T) {
		tg := baseTarget(dest)
		tg.IdentityFiles = []string{jump.ClientKeyFile}
		tg.KnownHostsFile = known
		tg.Jump = "root@127.0.0.1:" + strconv.Itoa(jump.Port)
		check(t, tg)
	})

	t.Run("unknown_jump_host_names_the_jump", func(t *testing.T) {
		j2 := sshtest.Start(t, sshtest.Options{})
		tg := baseTarget(dest)
		tg.IdentityFiles = []string{jump.ClientKeyFile}
		tg.KnownHostsFile = known
		tg.Jump = "127.0.0.1:" + strconv.Itoa(j2.Port)
		_, err := remote.Dial(context.Background(), tg)
		var hk *remote.HostKeyError
		if !errors.As(err, &hk) || hk.Host != j2.Addr() {
			t.Fatalf("err = %v, want the jump host's HostKeyError", err)
		}
		if !strings.HasPrefix(err.Error(), "h1 ("+dest.Addr()+"): via jump host: ") {
			t.Errorf("message %q", err)
		}
	})
}

func TestDialProxyJumpFromSSHConfig(t *testing.T) {
	jump := sshtest.Start(t, sshtest.Options{})
	dest := sshtest.Start(t, sshtest.Options{})
	dest.Authorize(t, jump.ClientKey.PublicKey())
	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	writeFile(t, known, readFile(t, jump.KnownHostsFile)+readFile(t, dest.KnownHostsFile))
	cfg := filepath.Join(dir, "config")
	writeFile(t, cfg, "Host bastion\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(jump.Port)+"\n\n"+
		"Host inner\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(dest.Port)+"\n  ProxyJump bastion\n"+
		"  IdentityFile "+jump.ClientKeyFile+"\n  UserKnownHostsFile "+known+"\n")
	c := dial(t, remote.Target{Address: "inner", SSHConfigFile: cfg, AgentSocket: "none"})
	mustEcho(t, c)
	jump.Stop()
	select {
	case <-c.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("connection survived the jump host: ProxyJump was not used")
	}
}

func TestDialUsesSSHConfigForZeroFields(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	cfg := filepath.Join(t.TempDir(), "config")
	writeFile(t, cfg, "Host myalias\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(s.Port)+"\n  User root\n"+
		"  IdentityFile "+s.ClientKeyFile+"\n  UserKnownHostsFile "+s.KnownHostsFile+"\n")

	t.Run("config_fills_zero_fields", func(t *testing.T) {
		c := dial(t, remote.Target{Address: "myalias", SSHConfigFile: cfg, AgentSocket: "none"})
		mustEcho(t, c)
		got := c.Target()
		if got.Name != "myalias" || got.Address != "127.0.0.1" || got.Port != s.Port || got.User != "root" ||
			got.KnownHostsFile != s.KnownHostsFile || len(got.IdentityFiles) != 1 || got.IdentityFiles[0] != s.ClientKeyFile {
			t.Errorf("resolved target = %+v", got)
		}
	})

	t.Run("explicit_port_wins", func(t *testing.T) {
		port, err := sshtest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		_, err = remote.Dial(context.Background(), remote.Target{Address: "myalias", Port: port, SSHConfigFile: cfg, AgentSocket: "none"})
		if !errors.Is(err, remote.ErrUnreachable) || !strings.Contains(err.Error(), ":"+strconv.Itoa(port)) {
			t.Errorf("err = %v, want unreachable on the explicit port %d", err, port)
		}
	})
}

func TestDialAllBoundsParallelism(t *testing.T) {
	// A server that accepts TCP but never speaks SSH: each dial stays in
	// its handshake until the test closes the connection, so the number of
	// open connections is exactly the number of dials in flight.
	ln := listenLoopback(t)
	conns := make(chan netConn)
	go acceptAll(ln, conns)

	const n, parallel = 5, 2
	targets := make([]remote.Target, n)
	for i := range targets {
		targets[i] = remote.Target{Name: "h" + strconv.Itoa(i), Address: "127.0.0.1", Port: port(ln), SSHConfigFile: "none",
			AgentSocket: "none", KnownHostsFile: filepath.Join(t.TempDir(), "kh"), ConnectTimeout: 10 * time.Second}
	}
	type result struct {
		clients []*remote.Client
		errs    []error
	}
	done := make(chan result, 1)
	go func() {
		c, e := remote.DialAll(context.Background(), targets, parallel)
		done <- result{c, e}
	}()

	var open []netConn
	for remaining := n; remaining > 0; remaining-- {
		for len(open) < min(parallel, remaining) {
			select {
			case c := <-conns:
				open = append(open, c)
			case <-time.After(15 * time.Second):
				t.Fatalf("only %d dials in flight, want %d", len(open), min(parallel, remaining))
			}
		}
		select {
		case <-conns:
			t.Fatalf("more than %d dials in flight", parallel)
		case <-time.After(100 * time.Millisecond):
		}
		open[0].Close()
		open = open[1:]
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("DialAll did not return")
	}
	for i, err := range r.errs {
		if r.clients[i] != nil || !errors.Is(err, remote.ErrUnreachable) {
			t.Errorf("target %d: client %v, err %v; want ErrUnreachable", i, r.clients[i], err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), targets[i].Name+" (") {
			t.Errorf("error %d is out of order: %v", i, err)
		}
	}
}

func TestDialAllKeepsOrder(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	port, err := sshtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	bad := baseTarget(s)
	bad.Name, bad.Port = "bad", port
	targets := []remote.Target{baseTarget(s), bad, baseTarget(s), bad}
	clients, errs := remote.DialAll(context.Background(), targets, 0)
	for i := range targets {
		ok := i%2 == 0
		if ok != (clients[i] != nil) || ok != (errs[i] == nil) {
			t.Errorf("target %d: client %v err %v", i, clients[i], errs[i])
		}
		if clients[i] != nil {
			mustEcho(t, clients[i])
			clients[i].Close()
		}
	}
}
