package remote_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"rally/remote"
	"rally/remote/sshtest"
)

func TestRun(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	c := dial(t, baseTarget(s))
	ctx := context.Background()

	tests := []struct {
		name       string
		cmd        string
		stdin      io.Reader
		wantOut    string
		wantErr    string
		wantStatus int
		wantSignal string
	}{
		{name: "stdout_and_status_zero", cmd: "echo hello", wantOut: "hello\n"},
		{name: "output_without_newline_is_kept", cmd: "printf abc", wantOut: "abc"},
		{name: "quotes_survive_the_wrapper", cmd: `echo "it's" '$HOME'`, wantOut: "it's $HOME\n"},
		{name: "non_zero_exit_is_a_status_not_an_error", cmd: "echo oops >&2; exit 3", wantErr: "oops\n", wantStatus: 3},
		{name: "stdin_is_delivered_then_closed", cmd: "cat; echo end", stdin: strings.NewReader("line1\nline2"), wantOut: "line1\nline2end\n"},
		{name: "signal_death_reports_the_signal", cmd: "kill -TERM $$", wantStatus: 143, wantSignal: "TERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Run(ctx, tt.cmd, tt.stdin)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if string(res.Stdout) != tt.wantOut || string(res.Stderr) != tt.wantErr || res.ExitStatus != tt.wantStatus || res.Signal != tt.wantSignal {
				t.Errorf("got stdout %q stderr %q status %d signal %q; want %q %q %d %q",
					res.Stdout, res.Stderr, res.ExitStatus, res.Signal, tt.wantOut, tt.wantErr, tt.wantStatus, tt.wantSignal)
			}
		})
	}

	t.Run("returns_when_the_command_exits_although_stdin_never_ends", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		done := make(chan error, 1)
		go func() {
			_, err := c.Run(ctx, "echo quick", pr)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Run waited for stdin after the command exited")
		}
	})

	t.Run("cancel_kills_the_remote_command", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		n := uniqueSeconds()
		_, err := c.Run(cctx, "sleep "+n, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Run returned %s after the deadline", d)
		}
		waitGone(t, c, "sleep "+bracketFirst(n))
	})

	t.Run("error_names_host_and_command_after_close", func(t *testing.T) {
		c2 := dial(t, baseTarget(s))
		c2.Close()
		_, err := c2.Run(ctx, "true", nil)
		if err == nil || !strings.HasPrefix(err.Error(), "h1 ("+s.Addr()+"): run \"true\"") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestStart(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	c := dial(t, baseTarget(s))
	ctx := context.Background()

	t.Run("streams_output_before_exit", func(t *testing.T) {
		p, err := c.Start(ctx, "while read l; do echo got:$l; echo warn:$l >&2; done; exit 4")
		if err != nil {
			t.Fatal(err)
		}
		stderr := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(p.Stderr)
			stderr <- string(b)
		}()
		out := bufio.NewReader(p.Stdout)
		for _, word := range []string{"a", "b", "c"} {
			if _, err := io.WriteString(p.Stdin, word+"\n"); err != nil {
				t.Fatal(err)
			}
			// The reply arrives while the command is still running.
			line, err := out.ReadString('\n')
			if err != nil || line != "got:"+word+"\n" {
				t.Fatalf("read %q, %v; want got:%s", line, err, word)
			}
		}
		p.Stdin.Close()
		rest, _ := io.ReadAll(out)
		err = p.Wait()
		var ee *remote.ExitError
		if !errors.As(err, &ee) || ee.Status != 4 || ee.Signal != "" || err.Error() != "exit status 4" {
			t.Errorf("Wait = %v, want *ExitError with status 4", err)
		}
		if len(rest) != 0 {
			t.Errorf("unexpected output after EOF: %q", rest)
		}
		if got := <-stderr; got != "warn:a\nwarn:b\nwarn:c\n" {
			t.Errorf("stderr = %q", got)
		}
		if again := p.Wait(); again != err {
			t.Errorf("second Wait = %v, want the same %v", again, err)
		}
	})

	t.Run("exit_zero_waits_nil", func(t *testing.T) {
		p, err := c.Start(ctx, "true")
		if err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, p.Stdout)
		go io.Copy(io.Discard, p.Stderr)
		if err := p.Wait(); err != nil {
			t.Errorf("Wait = %v", err)
		}
	})

	t.Run("cancel_kills_it", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		n := uniqueSeconds()
		p, err := c.Start(cctx, "sleep "+n+"; echo never")
		if err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, p.Stdout)
		go io.Copy(io.Discard, p.Stderr)
		cancel()
		waited := make(chan error, 1)
		go func() { waited <- p.Wait() }()
		select {
		case err := <-waited:
			if err == nil {
				t.Error("Wait = nil for a killed command")
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Wait did not return after cancel")
		}
		waitGone(t, c, "sleep "+bracketFirst(n))
	})

	t.Run("pid_is_the_process_group", func(t *testing.T) {
		n := uniqueSeconds()
		p, err := c.Start(ctx, "sleep "+n+" & sleep "+n+"; echo never")
		if err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, p.Stdout)
		go io.Copy(io.Discard, p.Stderr)
		if p.PID() <= 1 {
			t.Fatalf("PID() = %d", p.PID())
		}
		res, err := c.Run(ctx, fmt.Sprintf("pgrep -g %d -x sleep", p.PID()), nil)
		if err != nil || len(strings.Fields(string(res.Stdout))) != 2 {
			t.Fatalf("processes in group %d: %q, %v; want both sleeps", p.PID(), res.Stdout, err)
		}
		p.Kill()
		if err := p.Wait(); err == nil {
			t.Error("Wait = nil after Kill")
		}
		waitGone(t, c, "sleep "+bracketFirst(n))
	})
}

// uniqueSeconds returns a sleep duration that no other run uses, so
// pgrep finds only this test's processes.
func uniqueSeconds() string {
	return fmt.Sprintf("%d.%d", 600+rand.IntN(300), rand.IntN(1_000_000))
}

// bracketFirst turns "612.5" into "[6]12.5": a pattern that matches the
// number but not pgrep's own command line.
func bracketFirst(s string) string { return "[" + s[:1] + "]" + s[1:] }

// waitGone waits until no process on the host matches pattern (pgrep -f).
func waitGone(t *testing.T, c *remote.Client, pattern string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := c.Run(context.Background(), "pgrep -f '"+pattern+"'", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitStatus == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote %q still running: pids %s", pattern, res.Stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
