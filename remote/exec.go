package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Result is what a finished remote command produced.
type Result struct {
	Stdout, Stderr []byte
	// ExitStatus is the command's exit status; 128+n when it was killed by
	// signal n.
	ExitStatus int
	// Signal names the signal that killed the command ("KILL"), if any.
	Signal string
}

// Run runs cmd through the remote user's shell and waits for it. stdin,
// when non-nil, is copied to the command's standard input and then closed.
// A non-zero exit is not an error: it is in Result.ExitStatus. Cancelling
// ctx kills the command (SIGKILL by signal request, then the session is
// closed) and returns ctx's error.
//
// Run returns as soon as the command exits, even if stdin has not reached
// EOF; a stdin whose Read blocks keeps one goroutine alive until it returns.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader) (Result, error) {
	var res Result
	sess, err := c.ssh.NewSession()
	if err != nil {
		return res, fmt.Errorf("%s: run %q: open session: %w", c.target, cmd, err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout = &stdout
	sess.Stderr = &stderr
	var in io.WriteCloser
	if stdin != nil {
		// Our own copy, not Session.Stdin: Session.Wait would wait for the
		// copy to finish, so a stdin that never ends would hang Run.
		if in, err = sess.StdinPipe(); err != nil {
			return res, fmt.Errorf("%s: run %q: %w", c.target, cmd, err)
		}
	}
	if err := sess.Start(cmd); err != nil {
		return res, fmt.Errorf("%s: run %q: %w", c.target, cmd, err)
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
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		return res, fmt.Errorf("%s: run %q: %w", c.target, cmd, ctx.Err())
	}
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	status, signal, err := exitStatus(err)
	res.ExitStatus, res.Signal = status, signal
	if err != nil {
		return res, fmt.Errorf("%s: run %q: %w", c.target, cmd, err)
	}
	return res, nil
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

	sess     *ssh.Session
	stop     func() bool
	waitOnce sync.Once
	waitErr  error
}

// Start starts cmd and returns at once. Cancelling ctx kills the command
// and closes the session.
func (c *Client) Start(ctx context.Context, cmd string) (*Process, error) {
	sess, err := c.ssh.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: start %q: open session: %w", c.target, cmd, err)
	}
	p := &Process{sess: sess}
	fail := func(err error) (*Process, error) {
		sess.Close()
		return nil, fmt.Errorf("%s: start %q: %w", c.target, cmd, err)
	}
	if p.Stdin, err = sess.StdinPipe(); err != nil {
		return fail(err)
	}
	if p.Stdout, err = sess.StdoutPipe(); err != nil {
		return fail(err)
	}
	if p.Stderr, err = sess.StderrPipe(); err != nil {
		return fail(err)
	}
	if err := sess.Start(cmd); err != nil {
		return fail(err)
	}
	p.stop = context.AfterFunc(ctx, func() {
		sess.Signal(ssh.SIGKILL)
		sess.Close()
	})
	return p, nil
}

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
			p.waitErr = err
		case status != 0 || signal != "":
			p.waitErr = &ExitError{Status: status, Signal: signal}
		}
	})
	return p.waitErr
}

// Signal sends sig (ssh.SIGTERM, ...) to the command. OpenSSH honours
// signal requests for commands without a pty.
func (p *Process) Signal(sig ssh.Signal) error {
	return p.sess.Signal(sig)
}

// Close closes the session without waiting; the command sees EOF on stdin
// and EPIPE on output.
func (p *Process) Close() error {
	return p.sess.Close()
}
