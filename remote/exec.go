package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// Commands run as /bin/sh -c, whatever the user's login shell is (bash,
// zsh, fish), after that shell has printed "rally-pid:<its PID>" on stdout,
// which Run and Start consume together with anything the login shell's
// startup files printed before it. sshd puts every non-pty session in a
// process group of its own (setsid), whose leader is this shell, so the
// PID is also the group to kill: OpenSSH refuses signal requests for root
// logins ("session signalling requires privilege separation"), and a
// command without a pty gets no SIGHUP when its session closes, so killing
// the group is the only reliable way to stop it.
const runWrapper = `exec /bin/sh -c 'echo "` + pidMarker + `$$"; eval "$1"' rally-run `

const pidMarker = "rally-pid:"

// maxPreamble bounds what is held back while looking for the PID line; past
// it the output is passed through as is.
const maxPreamble = 64 << 10

// parsePIDLine returns the PID from a "rally-pid:123" line, or 0.
func parsePIDLine(line []byte) int {
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte(pidMarker))
	if !ok {
		return 0
	}
	pid, err := strconv.Atoi(string(rest))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

func wrapCommand(cmd string) string { return runWrapper + ShellQuote(cmd) }

// ShellQuote quotes s as one word for a POSIX shell: single quotes around
// it, each single quote inside closed, escaped and reopened.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Result is what a finished remote command produced.
type Result struct {
	Stdout, Stderr []byte
	// ExitStatus is the command's exit status; 128+n when it was killed by
	// signal n.
	ExitStatus int
	// Signal names the signal that killed the command ("KILL"), if any.
	Signal string
}

// Run runs cmd with /bin/sh -c on the host and waits for it. stdin, when
// non-nil, is copied to the command's standard input and then closed. A
// non-zero exit is not an error: it is in Result.ExitStatus. Cancelling ctx
// kills the command's process group and returns ctx's error at once.
//
// Run returns as soon as the command exits, even if stdin has not reached
// EOF; a stdin whose Read blocks keeps one goroutine alive until it returns.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader) (Result, error) {
	var res Result
	sess, err := c.ssh.NewSession()
	if err != nil {
		return res, fmt.Errorf("%s: run %q: open session: %w", c.target, brief(cmd), err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	pw := &pidWriter{w: &stdout}
	sess.Stdout = pw
	sess.Stderr = &stderr
	var in io.WriteCloser
	if stdin != nil {
		// Our own copy, not Session.Stdin: Session.Wait would wait for the
		// copy to finish, so a stdin that never ends would hang Run.
		if in, err = sess.StdinPipe(); err != nil {
			return res, fmt.Errorf("%s: run %q: %w", c.target, brief(cmd), err)
		}
	}
	if err := sess.Start(wrapCommand(cmd)); err != nil {
		return res, fmt.Errorf("%s: run %q: %w", c.target, brief(cmd), err)
	}
	if in != nil {
		go func() {
			io.Copy(in, stdin)
			in.Close()
		}()
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		// Not waiting for Wait here: a frozen host would never confirm the
		// close. The waiting goroutine ends when the session or the
		// connection does (keepalives bound the latter).
		c.kill(sess, int(pw.pid.Load()))
		return res, fmt.Errorf("%s: run %q: %w", c.target, brief(cmd), ctx.Err())
	}
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	status, signal, err := exitStatus(err)
	res.ExitStatus, res.Signal = status, signal
	if err != nil {
		return res, fmt.Errorf("%s: run %q: %w", c.target, brief(cmd), err)
	}
	if pw.pid.Load() == 0 {
		return res, fmt.Errorf("%s: run %q: /bin/sh did not start (stderr: %q)", c.target, brief(cmd), bytes.TrimSpace(res.Stderr))
	}
	return res, nil
}

// kill stops a session's command: a signal request (honoured for non-root
// users), then SIGKILL to its process group from a session of its own, then
// closing the session. The group kill runs in the background, owned by c:
// on a frozen host it waits until the connection is declared dead.
func (c *Client) kill(sess *ssh.Session, pgid int) {
	sess.Signal(ssh.SIGKILL)
	if pgid > 1 {
		c.goOwned(func() {
			s, err := c.ssh.NewSession()
			if err != nil {
				return
			}
			defer s.Close()
			s.Run(fmt.Sprintf("kill -s KILL -- -%d", pgid))
		})
	}
	sess.Close()
}

// pidWriter drops output up to and including the wrapper's PID line and
// passes the rest to w. Without a PID line in the first maxPreamble bytes
// it gives up and passes everything after them through.
type pidWriter struct {
	w       io.Writer
	held    []byte // partial line
	dropped int
	seen    bool // PID line found, or given up; only touched by the session's copy goroutine
	pid     atomic.Int64
}

func (p *pidWriter) Write(b []byte) (int, error) {
	n := len(b)
	if !p.seen {
		p.held = append(p.held, b...)
		b = nil
		for {
			i := bytes.IndexByte(p.held, '\n')
			if i < 0 {
				break
			}
			line := p.held[:i+1]
			p.held = p.held[i+1:]
			p.dropped += len(line)
			if pid := parsePIDLine(line); pid > 0 {
				p.pid.Store(int64(pid))
				p.seen = true
				b = p.held
				break
			}
		}
		if !p.seen && p.dropped+len(p.held) >= maxPreamble {
			p.seen = true
			b = p.held
		}
		if p.seen {
			p.held = nil
		}
	}
	if len(b) > 0 {
		if _, err := p.w.Write(b); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// exitStatus splits a Session.Wait error into an exit status and a real
// error (the connection died before the command reported its status).
func exitStatus(err error) (int, string, error) {
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, "", nil
	case errors.As(err, &ee):
		return ee.ExitStatus(), ee.Signal(), nil
	case errors.As(err, &missing):
		return -1, "", errors.New("command ended without an exit status (connection lost?)")
	default:
		return -1, "", err
	}
}

// Process is a command started with Start. Read Stdout and Stderr
// concurrently with the command: unread output eventually blocks it
// (SSH flow control). There is no pty, so the command gets no SIGHUP when
// the connection drops; it sees EOF on stdin and EPIPE on output.
type Process struct {
	// Stdin is the command's standard input; Close it to send EOF.
	Stdin io.WriteCloser
	// Stdout and Stderr stream the command's output until it exits.
	Stdout, Stderr io.Reader

	c        *Client
	sess     *ssh.Session
	pid      int
	stop     func() bool
	waitOnce sync.Once
	waitErr  error
}

// Start starts cmd with /bin/sh -c and returns once it runs. Cancelling ctx
// kills the command's process group and closes the session.
func (c *Client) Start(ctx context.Context, cmd string) (*Process, error) {
	sess, err := c.ssh.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: start %q: open session: %w", c.target, cmd, err)
	}
	p := &Process{c: c, sess: sess}
	fail := func(err error) (*Process, error) {
		sess.Close()
		return nil, fmt.Errorf("%s: start %q: %w", c.target, cmd, err)
	}
	if p.Stdin, err = sess.StdinPipe(); err != nil {
		return fail(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	if p.Stderr, err = sess.StderrPipe(); err != nil {
		return fail(err)
	}
	if err := sess.Start(wrapCommand(cmd)); err != nil {
		return fail(err)
	}
	// Wait for the wrapper's PID line; cancelling ctx meanwhile closes the
	// session, which ends the read.
	stopEarly := context.AfterFunc(ctx, func() { sess.Close() })
	br := bufio.NewReader(stdout)
	var pid, skipped int
	var line string
	for pid == 0 && err == nil && skipped < maxPreamble {
		line, err = br.ReadString('\n')
		skipped += len(line)
		pid = parsePIDLine([]byte(line))
	}
	if !stopEarly() {
		return fail(ctx.Err())
	}
	if pid == 0 {
		return fail(fmt.Errorf("/bin/sh did not start (last line %q, %v)", line, err))
	}
	p.pid, p.Stdout = pid, br
	p.stop = context.AfterFunc(ctx, func() { c.kill(sess, pid) })
	return p, nil
}

// PID returns the command's process id on the host, which is also its
// process group id: `kill -s TERM -- -PID` reaches everything it started.
func (p *Process) PID() int { return p.pid }

// Wait waits for the command to exit and releases the session. It returns
// nil for exit status 0, an *ExitError for a non-zero status or a signal,
// and another error when the connection was lost first. Calling it again
// returns the same result.
func (p *Process) Wait() error {
	p.waitOnce.Do(func() {
		err := p.sess.Wait()
		p.stop()
		p.sess.Close()
		status, signal, err := exitStatus(err)
		switch {
		case err != nil:
			p.waitErr = fmt.Errorf("%s: wait for process %d: %w", p.c.target, p.pid, err)
		case status != 0 || signal != "":
			p.waitErr = &ExitError{Status: status, Signal: signal}
		}
	})
	return p.waitErr
}

// Kill sends SIGKILL to the command's process group.
func (p *Process) Kill() {
	p.c.kill(p.sess, p.pid)
}

// Close closes the session without waiting; the command sees EOF on stdin
// and EPIPE on output but keeps running if it ignores them.
func (p *Process) Close() error {
	return p.sess.Close()
}

// brief shortens a command for an error message: its first line, at most
// 60 characters, so that a script does not flood the message.
func brief(cmd string) string {
	line, _, multi := strings.Cut(cmd, "\n")
	if len(line) > 60 {
		return line[:60] + "…"
	}
	if multi {
		return line + " …"
	}
	return line
}
