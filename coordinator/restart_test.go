package coordinator

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/actor"
	"rally/control"
)

func TestRestartBackoff(t *testing.T) {
	tests := []struct {
		name  string
		first time.Duration
		try   int
		want  time.Duration
	}{
		{"first_try_waits_the_first_backoff", time.Second, 1, time.Second},
		{"second_try_waits_twice_as_long", time.Second, 2, 2 * time.Second},
		{"fourth_try_waits_eight_times_as_long", time.Second, 4, 8 * time.Second},
		{"late_tries_wait_at_most_the_cap", time.Second, 6, maxRestartBackoff},
		{"a_huge_try_count_does_not_overflow", time.Second, 1000, maxRestartBackoff},
		{"a_first_backoff_beyond_the_cap_is_capped", time.Minute, 1, maxRestartBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := restartBackoff(tt.first, tt.try); got != tt.want {
				t.Errorf("restartBackoff(%s, %d) = %s, want %s", tt.first, tt.try, got, tt.want)
			}
		})
	}
}

func TestSelfHealing(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"killed_worker_is_restarted_and_rejoins", testKilledWorkerRestarts},
		{"worker_that_keeps_failing_fails_its_host", testRestartBudgetExhausted},
		{"down_during_a_restart_leaves_nothing_running", testDownDuringRestart},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func testKilledWorkerRestarts(t *testing.T) {
	tc := newTestCluster(t, 1)
	c := tc.start(nil) // the default backoff: the first restart comes after 1 s
	if err := up(t, c); err != nil {
		t.Fatalf("Up: %v", err)
	}
	before := hostStatus(t, c, "h1")
	uploads := c.Status().Uploads
	events, cancel := c.Subscribe()
	defer cancel()

	if err := syscall.Kill(before.WorkerPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	restarting := awaitHostPhase(t, events, "h1", control.PhaseRestarting, 15*time.Second, nil)
	for _, want := range []string{"worker exited: killed by signal KILL", "restart 1 of 5 in 1s"} {
		if !strings.Contains(restarting.Text, want) {
			t.Errorf("restarting event says %q, want it to say %q", restarting.Text, want)
		}
	}
	joined := awaitHostPhase(t, events, "h1", control.PhaseJoined, 15*time.Second, nil)
	if joined.HostStatus == nil || joined.HostStatus.Restarts != 1 {
		t.Errorf("joined event carries %+v, want a host status with 1 restart", joined.HostStatus)
	}

	after := hostStatus(t, c, "h1")
	if after.Phase != control.PhaseJoined || after.Restarts != 1 || after.Error != "" {
		t.Errorf("h1: phase %q, restarts %d, error %q; want joined after 1 restart", after.Phase, after.Restarts, after.Error)
	}
	if after.WorkerPID == 0 || after.WorkerPID == before.WorkerPID {
		t.Errorf("worker pid %d after the restart, was %d: want a new worker", after.WorkerPID, before.WorkerPID)
	}
	if got := tc.stateWorkerPID("h1"); got != after.WorkerPID {
		t.Errorf("state file records worker pid %d, want the new %d", got, after.WorkerPID)
	}
	if n := c.Status().Uploads; n != uploads {
		t.Errorf("uploads %d after the restart, want still %d", n, uploads)
	}
	if after.TunnelPort != before.TunnelPort {
		t.Errorf("tunnel port %d after the restart, want the same %d", after.TunnelPort, before.TunnelPort)
	}
	var member actor.MemberStatus
	for _, m := range c.Status().Actors.Members {
		if m.Name == "h1" {
			member = m
		}
	}
	if member.State != actor.MemberJoined || member.PID != after.WorkerPID {
		t.Errorf("member h1 is %q with pid %d, want joined with pid %d", member.State, member.PID, after.WorkerPID)
	}
	if got := workerProcesses(tc.workdirs[0]); len(got) != 1 || got[0] != after.WorkerPID {
		t.Errorf("workers running: %v, want only [%d]", got, after.WorkerPID)
	}
}

// breakWorkerStart makes every later worker on the host exit before it
// joins: a file takes the place of its run directory. A worker already
// running does not notice.
func breakWorkerStart(t *testing.T, workdir string) {
	t.Helper()
	run := filepath.Join(workdir, "run")
	if err := os.RemoveAll(run); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(run, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testRestartBudgetExhausted(t *testing.T) {
	tc := newTestCluster(t, 1)
	c := tc.start(func(cfg *Config) {
		cfg.RestartTries = 2
		cfg.RestartBackoff = 100 * time.Millisecond
	})
	if err := up(t, c); err != nil {
		t.Fatalf("Up: %v", err)
	}
	pid := hostStatus(t, c, "h1").WorkerPID
	events, cancel := c.Subscribe()
	defer cancel()

	breakWorkerStart(t, tc.workdirs[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var seen []control.Event
	failed := awaitHostPhase(t, events, "h1", control.PhaseFailed, 30*time.Second, &seen)

	var tries []string
	for _, ev := range seen {
		if ev.Phase == control.PhaseRestarting {
			tries = append(tries, ev.Text)
		}
	}
	if len(tries) != 2 || !strings.Contains(tries[0], "restart 1 of 2") || !strings.Contains(tries[1], "restart 2 of 2") {
		t.Errorf("restarting events %q, want restart 1 of 2, then 2 of 2", tries)
	}
	if len(tries) == 2 && !strings.Contains(tries[1], "not a directory") {
		t.Errorf("second restarting event %q does not say why the first restart failed", tries[1])
	}
	for _, want := range []string{"gave up after 2 restarts", "not a directory"} {
		if !strings.Contains(failed.Text, want) {
			t.Errorf("failed event says %q, want it to say %q", failed.Text, want)
		}
	}
	h := hostStatus(t, c, "h1")
	if h.Phase != control.PhaseFailed || h.Restarts != 2 || h.WorkerPID != 0 {
		t.Errorf("h1: phase %q, restarts %d, worker pid %d; want failed after 2 restarts, no worker", h.Phase, h.Restarts, h.WorkerPID)
	}
	if got := tc.stateWorkerPID("h1"); got != 0 {
		t.Errorf("state file records worker pid %d for a failed host, want none", got)
	}
	if got := workerProcesses(tc.workdirs[0]); len(got) != 0 {
		t.Errorf("workers running on a failed host: %v", got)
	}
}

func testDownDuringRestart(t *testing.T) {
	tc := newTestCluster(t, 1)
	c := tc.start(func(cfg *Config) { cfg.RestartBackoff = 100 * time.Millisecond })
	if err := up(t, c); err != nil {
		t.Fatalf("Up: %v", err)
	}
	pid := hostStatus(t, c, "h1").WorkerPID
	events, cancel := c.Subscribe()
	defer cancel()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	awaitHostPhase(t, events, "h1", control.PhaseRestarting, 15*time.Second, nil)

	downRep := make(chan control.DownReport, 1)
	go func() { downRep <- down(t, c, false) }()
	select {
	case rep := <-downRep:
		for _, h := range rep.Hosts {
			if h.Error != "" {
				t.Errorf("down %s: %s", h.Name, h.Error)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Down did not return during a restart")
	}
	if h := hostStatus(t, c, "h1"); h.Phase != control.PhaseTornDown {
		t.Errorf("h1: phase %q after down, want torn-down", h.Phase)
	}
	// Close waits for the restart's goroutine: one that lost the race with
	// teardown must not start a worker after it either.
	c.Close()
	if got := workerProcesses(tc.workdirs[0]); len(got) != 0 {
		t.Errorf("workers running after down: %v", got)
	}
	if _, err := os.Stat(tc.workdirs[0]); !os.IsNotExist(err) {
		t.Errorf("workdir still there after down: %v", err)
	}
}
