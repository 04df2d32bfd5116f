package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/control"
	"rally/inventory"
	"rally/lab"
)

// hostState is what a lab host holds of rally: its processes other than
// the lab's own sshd, its listeners, and the files under /root/.rally.
type hostState struct {
	procs     []string
	workers   []string
	listeners []string
	files     []string
}

func inspect(t *testing.T, l *lab.Lab, host string) hostState {
	t.Helper()
	ctx := context.Background()
	var hs hostState
	procs, err := l.Processes(ctx, host)
	if err != nil {
		t.Fatalf("%s: processes: %v", host, err)
	}
	for _, p := range procs {
		if strings.Contains(p.Command, "sshd") {
			continue // the host's sshd and its per-connection children
		}
		hs.procs = append(hs.procs, p.Command)
		if strings.Contains(p.Command, " worker ") {
			hs.workers = append(hs.workers, p.Command)
		}
	}
	if hs.listeners, err = l.Listeners(ctx, host); err != nil {
		t.Fatalf("%s: listeners: %v", host, err)
	}
	files, err := l.Files(ctx, host, "/root/.rally")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s: files: %v", host, err)
	}
	hs.files = files
	return hs
}

// assertClean checks that a host holds nothing of rally: no process but
// sshd, no listener but sshd's, no file under the workdir.
func assertClean(t *testing.T, l *lab.Lab, host string) {
	t.Helper()
	var hs hostState
	eventually(t, 15*time.Second, host+" clean", func() (bool, string) {
		hs = inspect(t, l, host)
		for _, a := range hs.listeners {
			if !strings.HasSuffix(a, ":22") {
				return false, fmt.Sprintf("listener %s", a)
			}
		}
		if len(hs.procs) > 0 {
			return false, fmt.Sprintf("processes %q", hs.procs)
		}
		if len(hs.files) > 0 {
			return false, fmt.Sprintf("files %q", hs.files)
		}
		return true, ""
	})
}

func coordinatorPID(t *testing.T, u *user) int {
	t.Helper()
	return u.status().Coordinator.PID
}

// alive tells whether a process runs; a zombie (exited, not yet reaped by
// init) does not.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return !(i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z')
}

// TestLifecycle walks a cluster through up, status, a second up, a rogue
// connection, down, and up again over a kept build, on 3 lab hosts.
func TestLifecycle(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	inv := l.InventoryFile()

	t.Run("up_joins_every_host", func(t *testing.T) {
		r := u.must("up", "--detach", "-i", inv)
		for _, h := range l.Hosts() {
			if !strings.Contains(r.stdout, h.Name+": joined") {
				t.Errorf("up output lacks %q:\n%s", h.Name+": joined", r)
			}
		}
	})

	t.Run("status_lists_members_with_facts_and_fresh_heartbeats", func(t *testing.T) {
		var st control.Status
		eventually(t, 5*time.Second, "fresh heartbeats", func() (bool, string) {
			st = u.status()
			if len(st.Actors.Members) != 3 {
				return false, fmt.Sprintf("%d members", len(st.Actors.Members))
			}
			for _, m := range st.Actors.Members {
				if m.LastHeartbeat.IsZero() || time.Since(m.LastHeartbeat) > 3*time.Second {
					return false, fmt.Sprintf("%s: last heartbeat %v", m.Name, m.LastHeartbeat)
				}
			}
			return true, ""
		})
		for _, m := range st.Actors.Members {
			if m.State != "joined" || m.Facts.OS != "linux" || m.Facts.Arch == "" || m.Facts.CPUs < 1 ||
				m.Facts.MemoryBytes <= 0 || m.Facts.Kernel == "" || m.Facts.Hostname != m.Name || m.PID <= 0 {
				t.Errorf("member %+v", m)
			}
			if m.ExpiresIn <= 0 {
				t.Errorf("%s: expires in %v", m.Name, m.ExpiresIn)
			}
		}
		if st.Uploads != 3 {
			t.Errorf("uploads = %d, want 3", st.Uploads)
		}
		human := u.must("status").stdout
		for _, want := range []string{"HOST", "LAST HEARTBEAT", "ACTOR", "messages received: heartbeat", "dead letters"} {
			if !strings.Contains(human, want) {
				t.Errorf("status lacks %q:\n%s", want, human)
			}
		}
	})

	t.Run("workers_run_the_pushed_binary_and_tunnels_are_loopback_only", func(t *testing.T) {
		for _, h := range l.Hosts() {
			hs := inspect(t, l, h.Name)
			if len(hs.workers) != 1 || !strings.HasPrefix(hs.workers[0], "/root/.rally/bin/rally-") {
				t.Errorf("%s: workers %q, want one running /root/.rally/bin/rally-*", h.Name, hs.workers)
			}
			var tunnel bool
			for _, a := range hs.listeners {
				host, port, _ := net.SplitHostPort(a)
				if port == "1900" && host == "127.0.0.1" {
					tunnel = true
				}
				if host != "127.0.0.1" && port != "22" {
					t.Errorf("%s: non-loopback listener %s", h.Name, a)
				}
			}
			if !tunnel {
				t.Errorf("%s: no tunnel on 127.0.0.1:1900 in %q", h.Name, hs.listeners)
			}
		}
	})

	t.Run("second_up_changes_nothing", func(t *testing.T) {
		pid := coordinatorPID(t, u)
		r := u.must("up", "--detach", "-i", inv)
		if !strings.Contains(r.stdout, "already up") {
			t.Errorf("second up: %s", r)
		}
		st := u.status()
		if st.Coordinator.PID != pid || st.Uploads != 3 {
			t.Errorf("second up changed the cluster: pid %d→%d, uploads %d", pid, st.Coordinator.PID, st.Uploads)
		}
	})

	t.Run("connection_without_token_is_rejected_and_counted", func(t *testing.T) {
		before := u.status().Actors.Rejected
		// A well-formed hello frame with a wrong token, from a shell on h1.
		hello := `{"type":"hello","from":"h1","to":"coordinator","seq":1,"body":{"protocol":1,"name":"h1","token":"not-the-token"}}`
		script := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/1900; printf '\x00\x00\x%02x\x%02x%%s' '%s' >&3; sleep 1; cat <&3 | head -c 300`,
			len(hello)>>8, len(hello)&0xff, hello)
		out, _ := l.Exec(context.Background(), "h1", "bash", "-c", script)
		eventually(t, 5*time.Second, "rejected counted", func() (bool, string) {
			n := u.status().Actors.Rejected
			return n > before, fmt.Sprintf("rejected %d (before %d); peer saw %q", n, before, out)
		})
		st := u.status()
		if len(st.Actors.Members) != 3 {
			t.Errorf("members after rogue hello: %d", len(st.Actors.Members))
		}
		for _, m := range st.Actors.Members {
			if m.State != "joined" {
				t.Errorf("%s: %s after a rogue hello", m.Name, m.State)
			}
		}
	})

	t.Run("down_leaves_hosts_clean_and_stops_the_coordinator", func(t *testing.T) {
		pid := coordinatorPID(t, u)
		r := u.must("down")
		if !strings.Contains(r.stdout, "is down") {
			t.Errorf("down: %s", r)
		}
		for _, h := range l.Hosts() {
			assertClean(t, l, h.Name)
			if _, err := os.Stat(filepath.Join(u.home, "logs", filepathBase(inv, l), h.Name, "worker.log")); err != nil {
				t.Errorf("%s: worker log not fetched: %v", h.Name, err)
			}
		}
		eventually(t, 10*time.Second, "coordinator gone", func() (bool, string) {
			return !alive(pid), fmt.Sprintf("pid %d alive", pid)
		})
		if r := u.rally("status"); r.code != 1 {
			t.Errorf("status without coordinator: %s", r)
		}
		if r := u.must("down"); !strings.Contains(r.stdout, "nothing to tear down") {
			t.Errorf("second down: %s", r)
		}
	})

	t.Run("second_up_of_the_same_build_uploads_nothing", func(t *testing.T) {
		u.must("up", "--detach", "-i", inv)
		if n := u.status().Uploads; n != 3 {
			t.Fatalf("first up after down: uploads %d, want 3", n)
		}
		u.must("down", "--keep-files")
		before := map[string]string{}
		for _, h := range l.Hosts() {
			out, err := l.Exec(context.Background(), h.Name, "sh", "-c", "stat -c '%n %Y' /root/.rally/bin/rally-*")
			if err != nil {
				t.Fatalf("%s: binary kept? %v %s", h.Name, err, out)
			}
			before[h.Name] = string(out)
		}
		time.Sleep(1100 * time.Millisecond) // so a rewrite would change the mtime
		u.must("up", "--detach", "-i", inv)
		st := u.status()
		if st.Uploads != 0 || st.UploadedBytes != 0 {
			t.Errorf("uploads %d (%d bytes), want 0", st.Uploads, st.UploadedBytes)
		}
		for _, h := range st.Hosts {
			if h.Uploaded || h.Phase != control.PhaseJoined {
				t.Errorf("%s: uploaded=%v phase %s", h.Name, h.Uploaded, h.Phase)
			}
			out, _ := l.Exec(context.Background(), h.Name, "sh", "-c", "stat -c '%n %Y' /root/.rally/bin/rally-*")
			if string(out) != before[h.Name] {
				t.Errorf("%s: binary changed: %q → %q", h.Name, before[h.Name], out)
			}
		}
		u.must("down")
		for _, h := range l.Hosts() {
			assertClean(t, l, h.Name)
		}
	})
}

// filepathBase is the cluster name of the lab's inventory.
func filepathBase(inv string, _ *lab.Lab) string {
	i, err := inventory.Load(inv)
	if err != nil {
		panic(err)
	}
	return i.Cluster
}

// TestUpInTheForeground: without a terminal and without --detach, rally up
// prints progress lines and stays until Ctrl-C, which tears the cluster
// down.
func TestUpInTheForeground(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	cmd := exec.Command(rallyBin, "up", "-i", l.InventoryFile())
	cmd.Env = append(os.Environ(), "RALLY_HOME="+u.home)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	deadline := time.After(60 * time.Second)
	for up := false; !up; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("rally up ended early: %q", seen)
			}
			seen = append(seen, line)
			up = strings.Contains(line, "is up")
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("no 'is up' line: %q", seen)
		}
	}
	if st := u.status(); len(st.Actors.Members) != 2 {
		t.Errorf("members: %d", len(st.Actors.Members))
	}
	cmd.Process.Signal(os.Interrupt)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("rally up after Ctrl-C: %v", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("rally up did not stop after Ctrl-C")
	}
	for line := range lines {
		seen = append(seen, line)
	}
	if !strings.Contains(strings.Join(seen, "\n"), "tearing cluster") {
		t.Errorf("no teardown message: %q", seen)
	}
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
}
