package coordinator

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/control"
	"rally/home"
)

// The detached child in these tests is a shell script speaking the
// protocol on descriptor 3 the way ServeDetached's caller does (that side
// is TestDetachedProgress's); a test binary would run TestMain again.
var childScripts = map[string]string{
	"ready": `printf 'h1: joined\nh2: joined\n' >&3; echo 'a log line' >&2; echo ready >&3`,
	"fail":  `echo 'h1: connect' >&3; printf 'error: h1: host key changed\nerror: h2: host key unknown\n' >&3; exit 1`,
	"die":   `echo 'h1: connect' >&3; exit 3`,
	"hang":  `echo 'h1: connect' >&3; exec sleep 60`,
}

// startChild starts a detached child running the script of mode, with a
// rally home of its own.
func startChild(t *testing.T, mode string, progress *bytes.Buffer) (*Detached, home.Dir) {
	t.Helper()
	// Unix socket paths are short (108 bytes): a short root.
	root, err := os.MkdirTemp("", "dt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	dir := home.Dir(filepath.Join(root, "h"))
	opts := DetachOptions{Home: dir, Cluster: "demo", Self: "/bin/sh", Args: []string{"-c", childScripts[mode]}}
	if progress != nil {
		opts.Progress = progress
	}
	d, err := StartDetached(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, dir
}

// kill stops a child the test left running.
func kill(t *testing.T, pid int) {
	t.Helper()
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if !WaitGone(context.Background(), pid, 5*time.Second) {
		t.Errorf("child %d did not exit after SIGKILL", pid)
	}
}

func TestDetached(t *testing.T) {
	ctx := context.Background()

	t.Run("ready_relays_progress_and_leaves_the_child_be", func(t *testing.T) {
		var progress bytes.Buffer
		d, _ := startChild(t, "ready", &progress)
		if err := d.Wait(ctx); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if got, want := progress.String(), "h1: joined\nh2: joined\n"; got != want {
			t.Errorf("progress %q, want %q", got, want)
		}
		if !WaitGone(ctx, d.PID, 5*time.Second) {
			t.Errorf("child %d still runs", d.PID)
		}
		// Its stderr went to the coordinator log.
		if b, err := os.ReadFile(d.LogPath); err != nil || !strings.Contains(string(b), "a log line") {
			t.Errorf("coordinator log %s: %q, %v", d.LogPath, b, err)
		}
	})

	t.Run("an_error_comes_back_whole", func(t *testing.T) {
		var progress bytes.Buffer
		d, _ := startChild(t, "fail", &progress)
		err := d.Wait(ctx)
		if err == nil || err.Error() != "h1: host key changed\nh2: host key unknown" {
			t.Fatalf("Wait: %v, want the child's two-line error", err)
		}
		if progress.String() != "h1: connect\n" {
			t.Errorf("progress %q", progress.String())
		}
	})

	t.Run("a_child_that_dies_silently_points_at_its_log", func(t *testing.T) {
		d, _ := startChild(t, "die", nil)
		err := d.Wait(ctx)
		if err == nil || !strings.Contains(err.Error(), "coordinator exited before the cluster was up; see "+d.LogPath) {
			t.Fatalf("Wait: %v", err)
		}
	})

	t.Run("giving_up_waiting_leaves_the_child_running", func(t *testing.T) {
		var progress bytes.Buffer
		d, _ := startChild(t, "hang", &progress)
		defer kill(t, d.PID)
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if err := d.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait: %v, want the context's error", err)
		}
		if err := syscall.Kill(d.PID, 0); err != nil {
			t.Errorf("child %d gone after Wait gave up: %v", d.PID, err)
		}
		d.Close() // a second Close is harmless
	})

	t.Run("wait_answering_returns_a_client_of_the_socket", func(t *testing.T) {
		d, dir := startChild(t, "hang", nil)
		defer kill(t, d.PID)
		defer d.Close()
		// The socket answers a little after the child started, as a
		// coordinator's does once it listens.
		time.Sleep(100 * time.Millisecond)
		l, err := control.Listen(dir.Socket("demo"))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			control.WriteJSON(w, http.StatusOK, control.Status{Cluster: "demo"})
		})}
		go srv.Serve(l)
		defer srv.Close()
		client, err := d.WaitAnswering(ctx, 10*time.Second)
		if err != nil {
			t.Fatalf("WaitAnswering: %v", err)
		}
		if st, err := client.Status(ctx); err != nil || st.Cluster != "demo" {
			t.Errorf("status %+v, %v", st, err)
		}
	})

	t.Run("wait_answering_gives_up_after_max", func(t *testing.T) {
		d, _ := startChild(t, "hang", nil)
		defer kill(t, d.PID)
		defer d.Close()
		_, err := d.WaitAnswering(ctx, 200*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "control socket did not answer within 200ms") {
			t.Fatalf("WaitAnswering: %v", err)
		}
	})

	t.Run("wait_answering_reports_a_child_that_failed", func(t *testing.T) {
		d, _ := startChild(t, "fail", nil)
		defer d.Close()
		_, err := d.WaitAnswering(ctx, 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), "host key changed") {
			t.Fatalf("WaitAnswering: %v, want the child's error", err)
		}
	})
}

func TestRelayProgress(t *testing.T) {
	tests := []struct {
		name      string
		send      string
		wantOut   string
		wantReady bool
		wantErr   string
	}{
		{"ready_after_progress", "h1: joined\nready\n", "h1: joined\n", true, ""},
		{"error_lines_join", "h1: connect\nerror: first\nerror: second\n", "h1: connect\n", false, "first\nsecond"},
		{"a_pipe_that_just_ends", "h1: connect\n", "h1: connect\n", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				pw.WriteString(tt.send)
				pw.Close()
			}()
			var out bytes.Buffer
			ready, lastErr := relayProgress(pr, &out)
			if out.String() != tt.wantOut || ready != tt.wantReady || lastErr != tt.wantErr {
				t.Errorf("relayed %q, ready %v, error %q; want %q, %v, %q", out.String(), ready, lastErr, tt.wantOut, tt.wantReady, tt.wantErr)
			}
		})
	}
}

func TestDetachedProgress(t *testing.T) {
	for _, fail := range []bool{false, true} {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		p := &DetachedProgress{f: pw}
		go func() {
			p.Write([]byte("h1: joined\n"))
			if fail {
				p.Fail(errors.New("bring-up: h2: refused\nh3: refused"))
			} else {
				p.Ready()
			}
		}()
		var out bytes.Buffer
		ready, lastErr := relayProgress(pr, &out)
		if out.String() != "h1: joined\n" || ready == fail {
			t.Errorf("fail=%v: relayed %q, ready %v", fail, out.String(), ready)
		}
		if fail && lastErr != "bring-up: h2: refused\nh3: refused" {
			t.Errorf("error %q", lastErr)
		}
	}
}

func TestWaitGone(t *testing.T) {
	ctx := context.Background()
	t.Run("an_exited_unreaped_child_is_gone", func(t *testing.T) {
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Not reaped until the end: a zombie meanwhile.
		defer cmd.Wait()
		if !WaitGone(ctx, cmd.Process.Pid, 10*time.Second) {
			t.Errorf("WaitGone(%d) = false for an exited child", cmd.Process.Pid)
		}
	})
	t.Run("a_running_process_is_not", func(t *testing.T) {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer cmd.Process.Kill()
		if WaitGone(ctx, cmd.Process.Pid, 100*time.Millisecond) {
			t.Errorf("WaitGone(%d) = true for a running process", cmd.Process.Pid)
		}
	})
}
