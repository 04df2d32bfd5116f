package coordinator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"rally/control"
	"rally/home"
	"rally/telemetry"
)

// The detach protocol: a detached coordinator is this executable started
// again in its own session, with a pipe as file descriptor 3. It writes its
// progress there, one line each, and ends with one of the two lines below
// (an error may span several "error: " lines). The parent relays the
// progress and returns once it read the end; a pipe that closes without
// either means the child died.
const (
	detachFD     = 3
	detachReady  = "ready"
	detachErrTag = "error: "
)

// DetachOptions say how to start a detached coordinator.
type DetachOptions struct {
	// Home and Cluster name the coordinator's log (its stdout and stderr
	// go there) and the control socket it will serve.
	Home    home.Dir
	Cluster string
	// Args are the command line of the child after the executable: the
	// CLI's own `up ... --serve-detached`, which then calls ServeDetached.
	Args []string
	// Self is the executable to start; empty means os.Executable().
	Self string
	// Progress receives the child's progress lines; nil discards them.
	Progress io.Writer
}

// Detached is a coordinator started in the background by StartDetached.
type Detached struct {
	// PID is the child's process id.
	PID int
	// LogPath is the coordinator log its output goes to.
	LogPath string

	socket   string
	cmd      *exec.Cmd
	pipe     *os.File
	progress io.Writer
	// relaying starts the relay once, on the first Wait, WaitAnswering
	// or Close, so that whatever the caller prints about the child
	// before comes before its progress.
	relaying sync.Once
	// closed is set by Close, so that the relay releases the child instead
	// of waiting for it to exit.
	closed atomic.Bool
	// done is closed when the relay ended, having reaped or released the
	// child; outcome is then what the child ended its progress with: nil
	// for ready, else its error.
	done    chan struct{}
	outcome error
}

// StartDetached starts a background coordinator: its own session (so
// the terminal's signals do not reach it), output appended to the
// cluster's coordinator.log. Its progress is relayed to opts.Progress from
// the first Wait or WaitAnswering until it says ready or fails; Close ends
// the relay early.
func StartDetached(opts DetachOptions) (*Detached, error) {
	self := opts.Self
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("start coordinator: %w", err)
		}
	}
	logPath := opts.Home.CoordinatorLog(opts.Cluster)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return nil, fmt.Errorf("start coordinator: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start coordinator: %w", err)
	}
	defer logFile.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start coordinator: %w", err)
	}
	cmd := exec.Command(self, opts.Args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{pw} // becomes descriptor 3 (detachFD)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return nil, fmt.Errorf("start coordinator: %w", err)
	}
	// Only the child may hold the write end, so the pipe ends when it exits.
	pw.Close()
	d := &Detached{
		PID: cmd.Process.Pid, LogPath: logPath, socket: opts.Home.Socket(opts.Cluster),
		cmd: cmd, pipe: pr, progress: opts.Progress, done: make(chan struct{}),
	}
	if d.progress == nil {
		d.progress = io.Discard
	}
	return d, nil
}

// startRelay starts copying the child's progress, once.
func (d *Detached) startRelay() {
	d.relaying.Do(func() { go d.relay() })
}

// relay copies the child's progress until the pipe ends, then settles the
// child: released when it said ready (it lives on, adopted by init),
// reaped otherwise.
func (d *Detached) relay() {
	defer close(d.done)
	ready, lastErr := relayProgress(d.pipe, d.progress)
	switch {
	case ready:
		_ = d.cmd.Process.Release()
	case d.closed.Load():
		_ = d.cmd.Process.Release()
		d.outcome = errStoppedWaiting
	default:
		_ = d.cmd.Wait()
		if lastErr == "" {
			lastErr = "coordinator exited before the cluster was up; see " + d.LogPath
		}
		d.outcome = errors.New(lastErr)
	}
}

// errStoppedWaiting is the outcome of a child whose progress was no
// longer read: whether it got up is the control socket's to tell.
var errStoppedWaiting = errors.New("stopped waiting for the coordinator")

// relayProgress copies progress lines from r to w until r ends, telling
// whether the child said ready and what error it reported.
func relayProgress(r io.ReadCloser, w io.Writer) (ready bool, lastErr string) {
	defer r.Close()
	var errLines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == detachReady:
			ready = true
		case strings.HasPrefix(line, detachErrTag):
			errLines = append(errLines, strings.TrimPrefix(line, detachErrTag))
		default:
			fmt.Fprintln(w, line)
		}
	}
	return ready, strings.Join(errLines, "\n")
}

// Wait waits until the child said ready (nil) or failed (its error). When
// ctx ends first the child is left forming the cluster on its own and
// Wait returns ctx's error.
func (d *Detached) Wait(ctx context.Context) error {
	d.startRelay()
	select {
	case <-d.done:
		return d.outcome
	case <-ctx.Done():
		d.Close()
		return ctx.Err()
	}
}

// WaitAnswering waits until the child's control socket answers a status
// request, for a caller that follows the bring-up through the socket
// rather than the progress lines. It fails when the child exits first or
// nothing answers within max.
func (d *Detached) WaitAnswering(ctx context.Context, max time.Duration) (*control.Client, error) {
	d.startRelay()
	client := control.NewClient(d.socket)
	deadline := time.Now().Add(max)
	for {
		if _, err := client.Status(ctx); err == nil {
			return client, nil
		}
		select {
		case <-d.done:
			if d.outcome != nil {
				return nil, d.outcome
			}
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("coordinator's control socket did not answer within %s; see %s", max, d.LogPath)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops relaying progress and leaves the child running on its own.
// It returns once the relay ended; the child, if it writes progress after
// that, gets EPIPE, which it ignores.
func (d *Detached) Close() {
	d.startRelay()
	d.closed.Store(true)
	// Closing the read end unblocks the relay's read.
	_ = d.pipe.Close()
	<-d.done
}

// DetachedProgress is the child's side of the detach protocol: it writes
// progress lines to the parent, then Ready or Fail.
type DetachedProgress struct {
	f *os.File
}

// ServeDetached returns the progress pipe a detached coordinator was
// started with (descriptor 3).
func ServeDetached() *DetachedProgress {
	return &DetachedProgress{f: os.NewFile(detachFD, "progress")}
}

// Write sends progress to the parent, which prints it line by line.
func (p *DetachedProgress) Write(b []byte) (int, error) { return p.f.Write(b) }

// Ready tells the parent that the cluster is up and closes the pipe.
func (p *DetachedProgress) Ready() error {
	_, err := fmt.Fprintln(p.f, detachReady)
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Fail tells the parent why bring-up failed and closes the pipe.
func (p *DetachedProgress) Fail(cause error) error {
	var b strings.Builder
	for _, line := range strings.Split(cause.Error(), "\n") {
		b.WriteString(detachErrTag + line + "\n")
	}
	_, err := io.WriteString(p.f, b.String())
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WaitGone waits up to max for the local process pid to exit and tells
// whether it did. A zombie counts as gone: a detached coordinator's parent
// is init, which may reap it late.
func WaitGone(ctx context.Context, pid int, max time.Duration) bool {
	deadline := time.Now().Add(max)
	for {
		if err := syscall.Kill(pid, 0); err != nil || zombie(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// zombie tells whether pid has exited and waits for its parent to reap it.
func zombie(pid int) bool {
	p, err := telemetry.ReadProcess("/proc", pid)
	return err == nil && p.State == 'Z'
}
