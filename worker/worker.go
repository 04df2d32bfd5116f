package worker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"rally/actor"
)

// DefaultGrace is how long the worker keeps redialing a lost link.
const DefaultGrace = 30 * time.Second

// Redial timing: the first retry after 200 ms, doubling to 2 s, so a tunnel
// that comes back is found within 2 s while a dead one costs little. One
// attempt (dial and handshake) gets what is left of the grace period, at
// least 1 s and at most attemptTimeout.
const (
	firstBackoff   = 200 * time.Millisecond
	maxBackoff     = 2 * time.Second
	attemptTimeout = 5 * time.Second
	maxTokenLine   = 4096
)

// ErrStdinClosed is returned (wrapped) when stdin ends: the SSH session
// that started the worker, and so the coordinator, is gone.
var ErrStdinClosed = errors.New("stdin closed: the SSH session that started the worker is gone")

// Config is what `rally worker` is started with. The token is not part of
// it: it arrives on Stdin.
type Config struct {
	// Name is the inventory host name the worker joins as.
	Name string
	// TunnelAddr is the loopback end of the coordinator's reverse tunnel on
	// this host, e.g. "127.0.0.1:1900".
	TunnelAddr string
	// Workdir is the absolute rally directory on this host (run/, logs/).
	Workdir string
	// Grace is how long a lost link is redialed before the worker gives up
	// (DefaultGrace).
	Grace time.Duration
	// Build (sha256 hex of this binary) and Version go into the hello.
	Build, Version string
	// Stdin carries the token on its first line, then stays open for as
	// long as the coordinator's SSH session lives.
	Stdin io.Reader
	// Stdout gets one line once joined ("joined h1 pid 1234"); may be nil.
	Stdout io.Writer
	// Logger receives the worker's log; nil logs to <Workdir>/logs/worker.log.
	Logger *slog.Logger
	// LogCopy, when set with a nil Logger, also gets every log line (the
	// coordinator reads the worker's stderr and shows the lines live).
	LogCopy io.Writer
	// Setup registers the application's handlers (the load driver's) on
	// every new link before it runs; nil registers none. Its context ends
	// when that link does, so work started for it stops with it.
	Setup func(ctx context.Context, m *actor.Member, log *slog.Logger)
}

func (c Config) validate() (Config, error) {
	switch {
	case c.Name == "":
		return c, errors.New("worker: no member name")
	case c.TunnelAddr == "":
		return c, errors.New("worker: no tunnel address")
	case !filepath.IsAbs(c.Workdir):
		return c, fmt.Errorf("worker: workdir %q is not an absolute path", c.Workdir)
	case c.Stdin == nil:
		return c, errors.New("worker: no stdin to read the token from")
	case c.Grace < 0:
		return c, fmt.Errorf("worker: negative grace %s", c.Grace)
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	return c, nil
}

// PIDFile is where a worker under workdir writes its PID.
func PIDFile(workdir string) string { return filepath.Join(workdir, "run", "worker.pid") }

// LogFile is where a worker under workdir logs by default.
func LogFile(workdir string) string { return filepath.Join(workdir, "logs", "worker.log") }

// Run is the worker process: it reads the token, writes the PID file, joins
// the coordinator and stays joined until told to stop (nil), until the link
// has been gone for longer than Grace, until stdin ends (ErrStdinClosed),
// or until ctx ends. It removes the PID file before it returns.
func Run(ctx context.Context, cfg Config) (err error) {
	cfg, err = cfg.validate()
	if err != nil {
		return err
	}
	for _, dir := range []string{filepath.Dir(PIDFile(cfg.Workdir)), filepath.Dir(LogFile(cfg.Workdir))} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		f, err := os.OpenFile(LogFile(cfg.Workdir), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("worker: open log: %w", err)
		}
		defer f.Close()
		var w io.Writer = f
		if cfg.LogCopy != nil {
			w = io.MultiWriter(f, cfg.LogCopy)
		}
		log = slog.New(slog.NewTextHandler(w, nil))
	}
	pid := os.Getpid()
	log = log.With("member", cfg.Name, "pid", pid)
	log.Info("worker starting", "tunnel", cfg.TunnelAddr, "workdir", cfg.Workdir, "version", cfg.Version, "build", cfg.Build, "grace", cfg.Grace)
	defer func() {
		switch {
		case err == nil:
			log.Info("worker exiting: stopped by the coordinator")
		case errors.Is(err, ErrStdinClosed):
			log.Warn("worker exiting: stdin closed, the SSH session is gone")
		default:
			log.Error("worker exiting", "err", err)
		}
	}()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	token, err := readToken(ctx, cfg.Stdin, func() { cancel(ErrStdinClosed) })
	if err != nil {
		return err
	}

	pidPath := PIDFile(cfg.Workdir)
	pidLine := []byte(strconv.Itoa(pid) + "\n")
	if err := os.WriteFile(pidPath, pidLine, 0o644); err != nil {
		return fmt.Errorf("worker: write pid file: %w", err)
	}
	defer removeOwnPIDFile(pidPath, pidLine, log)

	hello := actor.Hello{
		Protocol: actor.ProtocolVersion,
		Name:     cfg.Name,
		Token:    token,
		Build:    cfg.Build,
		Version:  cfg.Version,
		PID:      pid,
		Facts:    Facts(),
	}
	return stayJoined(ctx, cfg, hello, log)
}

// readToken returns the first line of stdin and keeps reading the rest in
// the background, calling gone when stdin ends. That reader is the one
// goroutine Run cannot stop (a blocked Read cannot be interrupted); it ends
// with stdin, which in the real process is at exit at the latest.
func readToken(ctx context.Context, stdin io.Reader, gone func()) (string, error) {
	type result struct {
		token string
		err   error
	}
	got := make(chan result, 1)
	go func() {
		br := bufio.NewReaderSize(stdin, maxTokenLine)
		line, err := br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				err = fmt.Errorf("first line longer than %d bytes", maxTokenLine)
			}
			got <- result{err: fmt.Errorf("worker: read token from stdin: %w", err)}
			return
		}
		got <- result{token: string(bytes.TrimRight(line, "\r\n"))}
		_, _ = io.Copy(io.Discard, br)
		gone()
	}()
	select {
	case r := <-got:
		if r.err == nil && r.token == "" {
			r.err = errors.New("worker: empty token on stdin")
		}
		return r.token, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("worker: waiting for the token on stdin: %w", context.Cause(ctx))
	}
}

// stayJoined joins and rejoins until stopped, or until the link has been
// gone for longer than the grace period.
func stayJoined(ctx context.Context, cfg Config, hello actor.Hello, log *slog.Logger) error {
	lostAt := time.Now() // no link yet: the grace period runs from the start
	backoff := firstBackoff
	for {
		down := time.Since(lostAt)
		// An attempt may run a little past the grace period rather than cut
		// a handshake that is under way.
		m, err := join(ctx, cfg, hello, min(attemptTimeout, max(cfg.Grace-down, time.Second)), log)
		if err == nil {
			fmt.Fprintf(cfg.Stdout, "joined %s pid %d\n", cfg.Name, hello.PID)
			log.Info("joined", "tunnel", cfg.TunnelAddr, "rtt", m.RTT(), "clock_offset", m.ClockOffset())
			linkCtx, endLink := context.WithCancel(ctx)
			if cfg.Setup != nil {
				cfg.Setup(linkCtx, m, log)
			}
			err = m.Run(ctx)
			endLink()
			if errors.Is(err, actor.ErrStopped) {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("worker %s: %w", cfg.Name, context.Cause(ctx))
			}
			log.Warn("link lost, redialing", "err", err, "grace", cfg.Grace)
			lostAt, backoff = time.Now(), firstBackoff
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("worker %s: %w", cfg.Name, context.Cause(ctx))
		}
		var rej *actor.RejectedError
		if errors.As(err, &rej) && rej.Reason != actor.RejectAlreadyJoined {
			// Retrying cannot help: wrong token, another run, another
			// protocol. (Already joined clears once the coordinator sees
			// the old connection gone.)
			return fmt.Errorf("worker %s: %w", cfg.Name, err)
		}
		down = time.Since(lostAt)
		if down >= cfg.Grace {
			return fmt.Errorf("worker %s: no link to the coordinator at %s for %s (grace %s): %w",
				cfg.Name, cfg.TunnelAddr, down.Round(time.Millisecond), cfg.Grace, err)
		}
		wait := min(backoff, cfg.Grace-down)
		log.Info("join failed, retrying", "err", err, "in", wait, "down_for", down.Round(time.Millisecond))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("worker %s: %w", cfg.Name, context.Cause(ctx))
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// join dials the tunnel and says hello, within timeout.
func join(ctx context.Context, cfg Config, hello actor.Hello, timeout time.Duration, log *slog.Logger) (*actor.Member, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(actx, "tcp", cfg.TunnelAddr)
	if err != nil {
		return nil, err // net's error names the address already
	}
	return actor.Join(actx, c, hello, actor.WithLogger(log))
}

// removeOwnPIDFile removes the PID file unless another worker has written
// its own there meanwhile.
func removeOwnPIDFile(path string, ours []byte, log *slog.Logger) {
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(b, ours) {
		log.Warn("pid file not removed: it is gone or names another process", "path", path)
		return
	}
	if err := os.Remove(path); err != nil {
		log.Warn("pid file not removed", "path", path, "err", err)
	}
}
