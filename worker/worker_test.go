package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/actor"
)

// coordinator is an actor system serving a loopback listener that a test
// can cut and bring back, as a dropped SSH tunnel would be.
type coordinator struct {
	t    *testing.T
	sys  *actor.System
	addr string

	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
	served chan error
}

func newCoordinator(t *testing.T, token string) *coordinator {
	t.Helper()
	c := &coordinator{t: t, sys: actor.NewSystem(actor.Options{
		Version:           "test",
		HeartbeatInterval: 20 * time.Millisecond,
		Expiry:            500 * time.Millisecond,
	})}
	c.sys.Expect("h1", token)
	c.listen("127.0.0.1:0")
	t.Cleanup(func() {
		c.cut()
		c.sys.Close()
	})
	return c
}

func (c *coordinator) listen(addr string) {
	c.t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.l, c.addr, c.served = l, l.Addr().String(), make(chan error, 1)
	served := c.served
	c.mu.Unlock()
	go func() { served <- c.sys.Serve(context.Background(), &trackingListener{Listener: l, c: c}, "h1") }()
}

// cut closes the listener and every connection it accepted.
func (c *coordinator) cut() {
	c.mu.Lock()
	l, conns, served := c.l, c.conns, c.served
	c.l, c.conns = nil, nil
	c.mu.Unlock()
	if l == nil {
		return
	}
	l.Close()
	<-served
	for _, nc := range conns {
		nc.Close()
	}
}

type trackingListener struct {
	net.Listener
	c *coordinator
}

func (l *trackingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err == nil {
		l.c.mu.Lock()
		l.c.conns = append(l.c.conns, nc)
		l.c.mu.Unlock()
	}
	return nc, err
}

// syncBuffer is a bytes.Buffer safe to write from the worker and read from
// the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// worker is one worker.Run going on in the background.
type worker struct {
	cfg    Config
	stdin  *io.PipeWriter
	stdout *syncBuffer
	done   chan error
}

func startWorker(t *testing.T, addr, token string) *worker {
	t.Helper()
	r, w := io.Pipe()
	wk := &worker{
		cfg: Config{
			Name: "h1", TunnelAddr: addr, Workdir: t.TempDir(), Grace: time.Second,
			Build: "cafe", Version: "test", Stdin: r,
		},
		stdin:  w,
		stdout: &syncBuffer{},
		done:   make(chan error, 1),
	}
	wk.cfg.Stdout = wk.stdout
	ctx, cancel := context.WithCancel(context.Background())
	go func() { wk.done <- Run(ctx, wk.cfg) }()
	go func() { _, _ = io.WriteString(w, token+"\n") }()
	t.Cleanup(func() {
		cancel()
		w.Close()
		select {
		case <-wk.done:
		case <-time.After(5 * time.Second):
			t.Error("worker.Run did not return after cancel")
		}
		if t.Failed() {
			log, _ := os.ReadFile(LogFile(wk.cfg.Workdir))
			t.Logf("worker.log:\n%s", log)
		}
	})
	return wk
}

func (w *worker) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-w.done:
		w.done <- err
		return err
	case <-time.After(within):
		t.Fatalf("worker.Run did not return within %s", within)
		return nil
	}
}

// waitJoins waits until the worker has printed n joined lines: the
// coordinator counts a member joined before its welcome is out, the worker
// only once the welcome is in.
func (w *worker) waitJoins(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for strings.Count(w.stdout.String(), "joined h1") < n {
		if time.Now().After(deadline) {
			t.Fatalf("stdout %q, want %d joined lines", w.stdout.String(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (w *worker) stillRunning(t *testing.T) {
	t.Helper()
	select {
	case err := <-w.done:
		t.Fatalf("worker.Run returned %v, want it still running", err)
	default:
	}
}

func waitJoined(t *testing.T, sys *actor.System) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := sys.WaitMembers(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
}

func pidFileGone(t *testing.T, workdir string) {
	t.Helper()
	if _, err := os.Stat(PIDFile(workdir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file after exit: %v, want it removed", err)
	}
}

func TestRun(t *testing.T) {
	t.Run("joins_heartbeats_and_leaves_its_traces", func(t *testing.T) {
		c := newCoordinator(t, "tok")
		w := startWorker(t, c.addr, "tok")
		waitJoined(t, c.sys)
		deadline := time.Now().Add(2 * time.Second)
		for c.sys.Status().Received[actor.TypeHeartbeat] < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("heartbeats received: %v", c.sys.Status().Received)
			}
			time.Sleep(5 * time.Millisecond)
		}
		pid := os.Getpid()
		want := fmt.Sprintf("joined h1 pid %d\n", pid)
		if got := w.stdout.String(); got != want {
			t.Errorf("stdout = %q, want %q", got, want)
		}
		if b, err := os.ReadFile(PIDFile(w.cfg.Workdir)); err != nil || string(b) != fmt.Sprintf("%d\n", pid) {
			t.Errorf("pid file = %q, %v", b, err)
		}
		var ms actor.MemberStatus
		for _, m := range c.sys.Status().Members {
			ms = m
		}
		if ms.PID != pid || ms.Build != "cafe" || ms.Facts.CPUs < 1 || ms.Facts.OS == "" {
			t.Errorf("member status = %+v", ms)
		}
		log, err := os.ReadFile(LogFile(w.cfg.Workdir))
		if err != nil || !strings.Contains(string(log), "msg=joined") {
			t.Errorf("worker.log = %q, %v", log, err)
		}
		if strings.Contains(string(log), "tok") {
			t.Errorf("the token is in the log: %q", log)
		}
		w.stillRunning(t)
	})

	t.Run("stop_returns_nil_and_removes_the_pid_file", func(t *testing.T) {
		c := newCoordinator(t, "tok")
		w := startWorker(t, c.addr, "tok")
		waitJoined(t, c.sys)
		if err := c.sys.StopMember(context.Background(), "h1", "test over"); err != nil {
			t.Fatal(err)
		}
		if err := w.wait(t, 2*time.Second); err != nil {
			t.Fatalf("Run = %v, want nil after stop", err)
		}
		pidFileGone(t, w.cfg.Workdir)
	})

	t.Run("coordinator_gone_gives_up_after_grace_and_not_before", func(t *testing.T) {
		c := newCoordinator(t, "tok")
		w := startWorker(t, c.addr, "tok")
		waitJoined(t, c.sys)
		w.waitJoins(t, 1)
		c.cut()
		gone := time.Now()
		time.Sleep(800 * time.Millisecond)
		w.stillRunning(t)
		err := w.wait(t, 3*time.Second)
		took := time.Since(gone)
		if err == nil || !strings.Contains(err.Error(), "grace 1s") {
			t.Errorf("Run = %v, want a lost-link error naming the grace", err)
		}
		if took < time.Second || took > 2*time.Second {
			t.Errorf("gave up %s after the link was cut, want about the 1s grace", took)
		}
		t.Logf("gave up %s after the cut: %v", took, err)
		pidFileGone(t, w.cfg.Workdir)
	})

	t.Run("link_back_within_grace_rejoins", func(t *testing.T) {
		c := newCoordinator(t, "tok")
		events, cancel := c.sys.Subscribe(32)
		defer cancel()
		w := startWorker(t, c.addr, "tok")
		waitJoined(t, c.sys)
		w.waitJoins(t, 1)
		addr := c.addr
		c.cut()
		time.Sleep(400 * time.Millisecond)
		c.listen(addr)
		var rejoined bool
		timeout := time.After(3 * time.Second)
		for !rejoined {
			select {
			case ev := <-events:
				rejoined = ev.Kind == actor.EventJoined && strings.Contains(ev.Detail, "rejoined after lost")
			case <-timeout:
				t.Fatal("no rejoin within 3s")
			}
		}
		w.stillRunning(t)
		w.waitJoins(t, 2)
		if err := c.sys.StopMember(context.Background(), "h1", "done"); err != nil {
			t.Fatal(err)
		}
		if err := w.wait(t, 2*time.Second); err != nil {
			t.Errorf("Run = %v after stop, want nil", err)
		}
	})

	t.Run("stdin_closed_returns_promptly", func(t *testing.T) {
		c := newCoordinator(t, "tok")
		w := startWorker(t, c.addr, "tok")
		waitJoined(t, c.sys)
		closed := time.Now()
		w.stdin.Close()
		err := w.wait(t, 2*time.Second)
		if !errors.Is(err, ErrStdinClosed) {
			t.Errorf("Run = %v, want ErrStdinClosed", err)
		}
		if took := time.Since(closed); took > 300*time.Millisecond {
			t.Errorf("returned %s after stdin closed, want promptly", took)
		}
		pidFileGone(t, w.cfg.Workdir)
		log, _ := os.ReadFile(LogFile(w.cfg.Workdir))
		if !strings.Contains(string(log), "stdin closed") {
			t.Errorf("worker.log does not say stdin closed: %q", log)
		}
	})

	t.Run("wrong_token_is_an_error_at_once", func(t *testing.T) {
		c := newCoordinator(t, "tok")
		w := startWorker(t, c.addr, "not-the-token")
		err := w.wait(t, 900*time.Millisecond) // well before the grace
		var rej *actor.RejectedError
		if !errors.As(err, &rej) || rej.Reason != actor.RejectWrongToken {
			t.Errorf("Run = %v, want a wrong-token rejection", err)
		}
		pidFileGone(t, w.cfg.Workdir)
	})

	t.Run("no_coordinator_at_start_gives_up_after_grace", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		start := time.Now()
		w := startWorker(t, addr, "tok")
		err = w.wait(t, 3*time.Second)
		if took := time.Since(start); err == nil || took < time.Second || took > 2*time.Second {
			t.Errorf("Run = %v after %s, want an error after about the 1s grace", err, took)
		}
	})
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		cfg   Config
		stdin string
		want  string
	}{
		{"relative_workdir", Config{Name: "h1", TunnelAddr: "127.0.0.1:1", Workdir: "rally"}, "tok\n", "not an absolute path"},
		{"no_name", Config{TunnelAddr: "127.0.0.1:1", Workdir: dir}, "tok\n", "no member name"},
		{"stdin_ends_before_the_token", Config{Name: "h1", TunnelAddr: "127.0.0.1:1", Workdir: dir}, "tok", "read token from stdin: EOF"},
		{"empty_token", Config{Name: "h1", TunnelAddr: "127.0.0.1:1", Workdir: dir}, "\n", "empty token"},
		{"token_line_too_long", Config{Name: "h1", TunnelAddr: "127.0.0.1:1", Workdir: dir}, strings.Repeat("t", 5000) + "\n", "longer than 4096"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Stdin = strings.NewReader(tc.stdin)
			err := Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
