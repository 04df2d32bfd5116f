package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/lab"
)

// TestCoordinatorKilled: after kill -9 of the coordinator the workers exit
// by themselves (their SSH session is gone, and the grace period bounds a
// silent link), and `rally down -i` cleans up from the state file.
func TestCoordinatorKilled(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	inv := l.InventoryFile()
	u.must("up", "--detach", "-i", inv)
	pid := coordinatorPID(t, u)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The default grace is 30 s; workers must be gone well within it.
	for _, h := range l.Hosts() {
		eventually(t, 30*time.Second, h.Name+": worker exits by itself", func() (bool, string) {
			hs := inspect(t, l, h.Name)
			return len(hs.workers) == 0, fmt.Sprintf("workers %q", hs.workers)
		})
	}
	if r := u.rally("status"); r.code != 1 {
		t.Errorf("status after kill: %s", r)
	}
	r := u.must("down", "-i", inv)
	if !strings.Contains(r.stdout, "no coordinator answers") || !strings.Contains(r.stdout, "is down") {
		t.Errorf("down -i: %s", r)
	}
	for _, h := range l.Hosts() {
		if !strings.Contains(r.stdout, h.Name+": stopped 0 worker(s)") {
			t.Errorf("down -i should find nothing left running on %s:\n%s", h.Name, r)
		}
		assertClean(t, l, h.Name)
	}
	if _, err := os.Stat(u.home + "/clusters/" + filepathBase(inv, l) + "/state.json"); !os.IsNotExist(err) {
		t.Errorf("state file left: %v", err)
	}
}

// TestWorkerKilled: kill -9 of a worker shows that member lost within the
// expiry.
func TestWorkerKilled(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	u.must("up", "--detach", "-i", l.InventoryFile())
	t.Cleanup(func() { u.rally("down") })
	var hostPID int
	for _, h := range u.status().Hosts {
		if h.Name == "h2" {
			hostPID = h.WorkerPID
		}
	}
	if hostPID <= 0 {
		t.Fatal("no worker pid for h2")
	}
	if out, err := l.Exec(context.Background(), "h2", "kill", "-9", strconv.Itoa(hostPID)); err != nil {
		t.Fatalf("kill worker: %v %s", err, out)
	}
	killed := time.Now()
	eventually(t, 15*time.Second, "h2 marked lost", func() (bool, string) {
		for _, m := range u.status().Actors.Members {
			if m.Name == "h2" {
				return m.State == "lost", "state " + m.State
			}
		}
		return false, "h2 missing"
	})
	t.Logf("h2 lost %s after kill -9", time.Since(killed).Round(100*time.Millisecond))
	for _, m := range u.status().Actors.Members {
		if m.Name == "h1" && m.State != "joined" {
			t.Errorf("h1: %s", m.State)
		}
	}
	if !strings.Contains(u.must("status").stdout, "lost") {
		t.Error("status for people does not show the lost member")
	}
}

// TestChangedHostKey: a host whose key in known_hosts is wrong is refused
// with its name and fingerprint, and nothing is uploaded to it.
func TestChangedHostKey(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	h2 := l.Hosts()[1]
	// Replace h2's key with a freshly made one.
	dir := t.TempDir()
	if out, err := runCmd("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir+"/k"); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	other, _ := os.ReadFile(dir + "/k.pub")
	known, err := os.ReadFile(l.KnownHostsFile())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(known)), "\n") {
		if strings.HasPrefix(line, h2.Address+" ") {
			f := strings.Fields(string(other))
			line = h2.Address + " " + f[0] + " " + f[1]
		}
		lines = append(lines, line)
	}
	if err := os.WriteFile(l.KnownHostsFile(), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := u.rally("up", "--detach", "-i", l.InventoryFile())
	if r.code != 1 {
		t.Fatalf("up with a changed key should fail: %s", r)
	}
	out := r.stdout + r.stderr
	if !strings.Contains(out, "h2") || !strings.Contains(out, "host key changed") || !strings.Contains(out, "SHA256:") {
		t.Errorf("error should name h2, the change and the fingerprint:\n%s", r)
	}
	if hs := inspect(t, l, "h2"); len(hs.files) > 0 {
		t.Errorf("files uploaded to h2: %q", hs.files)
	}
	// With --min-hosts 1 the rest of the cluster forms without h2.
	u.must("up", "--detach", "--min-hosts", "1", "-i", l.InventoryFile())
	st := u.status()
	for _, h := range st.Hosts {
		if (h.Name == "h2") != (h.Phase == "failed") {
			t.Errorf("%s: phase %s (%s)", h.Name, h.Phase, h.Error)
		}
	}
	if hs := inspect(t, l, "h2"); len(hs.files) > 0 {
		t.Errorf("files uploaded to h2: %q", hs.files)
	}
	u.must("down")
	assertClean(t, l, "h1")
}

// TestTunnelPortTaken: when 127.0.0.1:1900 is taken on a host, that host
// joins through a port its sshd chooses.
func TestTunnelPortTaken(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	if err := l.CopyFile(context.Background(), "h1", labBin, "/tmp/rally-lab"); err != nil {
		t.Fatal(err)
	}
	holder, err := l.Spawn(context.Background(), "h1", "/tmp/rally-lab", "hold-port", "127.0.0.1:1900")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	eventually(t, 5*time.Second, "port held on h1", func() (bool, string) {
		ls, _ := l.Listeners(context.Background(), "h1")
		for _, a := range ls {
			if a == "127.0.0.1:1900" {
				return true, ""
			}
		}
		return false, fmt.Sprint(ls)
	})
	u.must("up", "--detach", "-i", l.InventoryFile())
	st := u.status()
	for _, h := range st.Hosts {
		if h.Phase != "joined" {
			t.Errorf("%s: %s %s", h.Name, h.Phase, h.Error)
		}
		if h.Name == "h1" && (h.TunnelPort == 1900 || h.TunnelPort == 0) {
			t.Errorf("h1 tunnel port %d, want one chosen by sshd", h.TunnelPort)
		}
		if h.Name == "h2" && h.TunnelPort != 1900 {
			t.Errorf("h2 tunnel port %d, want 1900", h.TunnelPort)
		}
	}
	u.must("down")
}

func runCmd(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// TestUnknownHostKey: a host missing from known_hosts is refused with its
// name and fingerprint and gets nothing; --accept-new-host-keys records
// its key and the host joins.
func TestUnknownHostKey(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	h2 := l.Hosts()[1]
	known, err := os.ReadFile(l.KnownHostsFile())
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimSpace(string(known)), "\n") {
		if !strings.HasPrefix(line, h2.Address+" ") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(l.KnownHostsFile(), []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := u.rally("up", "--detach", "-i", l.InventoryFile())
	out := r.stdout + r.stderr
	if r.code != 1 || !strings.Contains(out, "h2") || !strings.Contains(out, "host key unknown") || !strings.Contains(out, "SHA256:") {
		t.Fatalf("up with an unknown host key should fail naming h2 and its fingerprint: %s", r)
	}
	if hs := inspect(t, l, "h2"); len(hs.files) > 0 {
		t.Errorf("files uploaded to h2: %q", hs.files)
	}
	u.must("up", "--detach", "--accept-new-host-keys", "-i", l.InventoryFile())
	for _, h := range u.status().Hosts {
		if h.Phase != "joined" {
			t.Errorf("%s: %s %s", h.Name, h.Phase, h.Error)
		}
	}
	after, _ := os.ReadFile(l.KnownHostsFile())
	if !strings.Contains(string(after), h2.Address) {
		t.Errorf("h2's key was not recorded in known_hosts:\n%s", after)
	}
	u.must("down")
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
}

// TestHostRejoinsAfterLinkCut: a host whose link was cut long enough for
// its SSH connection to die is shown lost; once the link heals, the
// coordinator forms it again by itself (a new worker, no upload), and
// `rally down` leaves every host clean.
func TestHostRejoinsAfterLinkCut(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	u.must("up", "--detach", "-i", l.InventoryFile())
	oldPID := 0
	for _, h := range u.status().Hosts {
		if h.Name == "h2" {
			oldPID = h.WorkerPID
		}
	}
	if err := l.Cut("h2"); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	eventually(t, 15*time.Second, "h2 lost after the cut", func() (bool, string) {
		for _, h := range u.status().Hosts {
			if h.Name == "h2" {
				return h.Phase == "lost", h.Phase
			}
		}
		return false, "no h2"
	})
	t.Logf("h2 lost %s after the cut", time.Since(cut).Round(100*time.Millisecond))
	// Past the SSH keepalive's verdict (5 s × 3): the connection is gone.
	time.Sleep(time.Until(cut.Add(22 * time.Second)))
	if err := l.Heal("h2"); err != nil {
		t.Fatal(err)
	}
	healed := time.Now()
	eventually(t, 45*time.Second, "h2 joined again", func() (bool, string) {
		st := u.status()
		for _, h := range st.Hosts {
			if h.Name == "h2" {
				return h.Phase == "joined" && h.WorkerPID != 0, fmt.Sprintf("%s %s (pid %d)", h.Phase, h.Error, h.WorkerPID)
			}
		}
		return false, "no h2"
	})
	t.Logf("h2 joined again %s after the link healed", time.Since(healed).Round(100*time.Millisecond))
	st := u.status()
	if st.Uploads != 2 {
		t.Errorf("uploads %d, want 2 (forming h2 again must not upload)", st.Uploads)
	}
	for _, m := range st.Actors.Members {
		if m.State != "joined" {
			t.Errorf("member %s: %s", m.Name, m.State)
		}
	}
	eventually(t, 40*time.Second, "one worker on h2", func() (bool, string) {
		hs := inspect(t, l, "h2")
		return len(hs.workers) == 1, fmt.Sprintf("workers %q (old pid %d)", hs.workers, oldPID)
	})
	r := u.must("down")
	if !strings.Contains(r.stdout, "is down") {
		t.Errorf("down: %s", r)
	}
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
}

// TestDownDuringLinkCut: teardown while a host is unreachable says so and
// exits 1; once the link heals, `rally down -i` finishes the job.
func TestDownDuringLinkCut(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	inv := l.InventoryFile()
	u.must("up", "--detach", "-i", inv)
	if err := l.Cut("h2"); err != nil {
		t.Fatal(err)
	}
	r := u.rally("down")
	if r.code != 1 || !strings.Contains(r.stderr, "teardown incomplete on h2") {
		t.Errorf("down during a cut: %s", r)
	}
	assertClean(t, l, "h1")
	if err := l.Heal("h2"); err != nil {
		t.Fatal(err)
	}
	r = u.must("down", "-i", inv)
	if !strings.Contains(r.stdout, "h2: stopped") {
		t.Errorf("down -i after the heal: %s", r)
	}
	assertClean(t, l, "h2")
}
