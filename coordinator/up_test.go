package coordinator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/actor"
	"rally/control"
)

func TestUp(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"two_hosts_join_and_down_leaves_nothing", testUpJoinDown},
		{"second_up_uploads_nothing", testUpSecondUploadsNothing},
		{"worker_dying_before_it_joins_fails_its_host", testUpWorkerDiesBeforeJoining},
		{"down_during_bring_up_cuts_it_short", testUpDownDuringBringUp},
		{"lost_ssh_link_is_formed_again", testUpReformAfterLostLink},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func testUpJoinDown(t *testing.T) {
	tc := newTestCluster(t, 2)
	c := tc.start(nil)
	if err := up(t, c); err != nil {
		t.Fatalf("Up: %v", err)
	}
	st := c.Status()
	if st.Phase != control.ClusterUp {
		t.Errorf("cluster phase %q, want %q", st.Phase, control.ClusterUp)
	}
	if st.Uploads != 2 {
		t.Errorf("uploads %d, want 2 (one per host)", st.Uploads)
	}
	members := map[string]actor.MemberStatus{}
	for _, m := range st.Actors.Members {
		members[m.Name] = m
	}
	var pids []int
	for i, h := range st.Hosts {
		if h.Phase != control.PhaseJoined || h.Error != "" {
			t.Errorf("%s: phase %q (%s), want joined", h.Name, h.Phase, h.Error)
		}
		if m := members[h.Name]; m.State != actor.MemberJoined || m.PID != h.WorkerPID {
			t.Errorf("%s: member %q with pid %d, want joined with the host's worker pid %d", h.Name, m.State, m.PID, h.WorkerPID)
		}
		if got := tc.stateWorkerPID(h.Name); got != h.WorkerPID || got == 0 {
			t.Errorf("%s: state file records worker pid %d, status %d", h.Name, got, h.WorkerPID)
		}
		if got := workerProcesses(tc.workdirs[i]); len(got) != 1 || got[0] != h.WorkerPID {
			t.Errorf("%s: workers running from %s: %v, want [%d]", h.Name, tc.workdirs[i], got, h.WorkerPID)
		}
		pids = append(pids, h.WorkerPID)
	}

	rep := down(t, c, false)
	for _, h := range rep.Hosts {
		if h.Error != "" {
			t.Errorf("down %s: %s", h.Name, h.Error)
		}
		if h.WorkersStopped == 0 {
			t.Errorf("down %s: no worker stopped", h.Name)
		}
		if _, err := os.Stat(filepath.Join(string(tc.home), "logs", "test", h.Name, "worker.log")); err != nil {
			t.Errorf("down %s: worker log not fetched: %v", h.Name, err)
		}
	}
	for i, wd := range tc.workdirs {
		if _, err := os.Stat(wd); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("workdir %s is still there after down (%v); rally created it", wd, err)
		}
		if alive(pids[i]) {
			t.Errorf("worker %d still runs after down", pids[i])
		}
	}
	if _, err := os.Stat(tc.home.StateFile("test")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file still there after down: %v", err)
	}
}

func testUpSecondUploadsNothing(t *testing.T) {
	tc := newTestCluster(t, 1)
	first := tc.start(nil)
	if err := up(t, first); err != nil {
		t.Fatalf("first Up: %v", err)
	}
	if n := first.Status().Uploads; n != 1 {
		t.Fatalf("first up made %d uploads, want 1", n)
	}
	down(t, first, true)
	first.Close()

	second := tc.start(nil)
	if err := up(t, second); err != nil {
		t.Fatalf("second Up: %v", err)
	}
	st := second.Status()
	if st.Uploads != 0 || st.UploadedBytes != 0 {
		t.Errorf("second up uploaded %d builds (%d bytes), want none: the build is on the host", st.Uploads, st.UploadedBytes)
	}
	if h := st.Hosts[0]; h.Phase != control.PhaseJoined || h.Uploaded {
		t.Errorf("h1: phase %q, uploaded %t; want joined without an upload", h.Phase, h.Uploaded)
	}
}

func testUpWorkerDiesBeforeJoining(t *testing.T) {
	tc := newTestCluster(t, 1)
	// A file where the worker makes its run directory: it exits at once,
	// before it dials the tunnel.
	if err := os.MkdirAll(tc.workdirs[0], 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tc.workdirs[0], "run"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := tc.start(nil)
	err := up(t, c)
	if !errors.Is(err, ErrTooFewHosts) {
		t.Fatalf("Up returned %v, want ErrTooFewHosts", err)
	}
	h := hostStatus(t, c, "h1")
	if h.Phase != control.PhaseFailed {
		t.Errorf("h1 phase %q, want failed", h.Phase)
	}
	for _, want := range []string{"worker exited before joining", "not a directory"} {
		if !strings.Contains(h.Error, want) {
			t.Errorf("h1 reason %q does not say %q", h.Error, want)
		}
	}
	if got := workerProcesses(tc.workdirs[0]); len(got) != 0 {
		t.Errorf("workers still running after a failed bring-up: %v", got)
	}
}

func testUpDownDuringBringUp(t *testing.T) {
	tc := newTestCluster(t, 2)
	frozen := tc.servers[1]
	frozen.Freeze()
	t.Cleanup(frozen.Thaw)
	// Only teardown can end the frozen host's dial within the test.
	c := tc.start(func(cfg *Config) { cfg.ConnectTimeout = 5 * time.Minute })
	upErr := make(chan error, 1)
	go func() { upErr <- up(t, c) }()
	waitFor(t, 30*time.Second, "h1 joined and h2 connecting", func() bool {
		st := c.Status()
		return st.Hosts[0].Phase == control.PhaseJoined && st.Hosts[1].Phase == control.PhaseConnect
	})
	pid := hostStatus(t, c, "h1").WorkerPID

	downRep := make(chan control.DownReport, 1)
	go func() { downRep <- down(t, c, false) }()
	var rep control.DownReport
	select {
	case rep = <-downRep:
	case <-time.After(30 * time.Second):
		t.Fatal("Down waits for the frozen host's bring-up")
	}
	select {
	case err := <-upErr:
		if !errors.Is(err, ErrTooFewHosts) {
			t.Errorf("Up returned %v, want ErrTooFewHosts", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Up did not return after Down")
	}
	for _, h := range rep.Hosts {
		if h.Error != "" {
			t.Errorf("down %s: %s", h.Name, h.Error)
		}
	}
	for _, h := range c.Status().Hosts {
		if h.Phase != control.PhaseTornDown {
			t.Errorf("%s: phase %q after down, want torn-down", h.Name, h.Phase)
		}
	}
	if alive(pid) {
		t.Errorf("h1's worker %d still runs after down", pid)
	}
	for _, wd := range tc.workdirs {
		if got := workerProcesses(wd); len(got) != 0 {
			t.Errorf("workers still running from %s: %v", wd, got)
		}
	}
}

func testUpReformAfterLostLink(t *testing.T) {
	tc := newTestCluster(t, 1)
	c := tc.start(nil)
	if err := up(t, c); err != nil {
		t.Fatalf("Up: %v", err)
	}
	before := hostStatus(t, c, "h1")
	uploads := c.Status().Uploads
	events, cancel := c.Subscribe()
	defer cancel()

	conns := tc.servers[0].ConnectionProcesses()
	if len(conns) == 0 {
		t.Fatal("no sshd process serves the coordinator's connection")
	}
	for _, pid := range conns {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	awaitHostPhase(t, events, "h1", control.PhaseLost, 15*time.Second, nil)
	awaitHostPhase(t, events, "h1", control.PhaseJoined, 30*time.Second, nil)

	after := hostStatus(t, c, "h1")
	if after.WorkerPID == 0 || after.WorkerPID == before.WorkerPID {
		t.Errorf("worker pid %d after the reform, was %d: want a new worker", after.WorkerPID, before.WorkerPID)
	}
	if got := tc.stateWorkerPID("h1"); got != after.WorkerPID {
		t.Errorf("state file records worker pid %d, want %d", got, after.WorkerPID)
	}
	if n := c.Status().Uploads; n != uploads || after.Uploaded {
		t.Errorf("uploads %d (host uploaded %t) after the reform, want still %d: the build is on the host", n, after.Uploaded, uploads)
	}
	if after.Restarts != 0 {
		t.Errorf("restarts %d: a lost link is a reform, not a worker restart", after.Restarts)
	}
	// The old worker saw its stdin end with the link.
	waitFor(t, 15*time.Second, "the old worker to exit", func() bool { return !alive(before.WorkerPID) })
}
