//go:build linux

package telemetry

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// These tests read this machine's real /proc: the test process itself and
// children it starts in process groups of their own.

// startGroup starts sh -c script as the leader of a new process group and
// kills the group (its own processes only) when the test ends.
func startGroup(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

// eventually polls cond until it holds, failing after ten seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func cpuOfRusage(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestLive_ReadProcess_self(t *testing.T) {
	pid := os.Getpid()
	p, err := ReadProcess("/proc", pid)
	if err != nil {
		t.Fatal(err)
	}
	// The state is the main thread's, which may sleep while others run.
	if p.PID != pid || p.PGID != syscall.Getpgrp() || p.RSS == 0 || p.Threads < 1 || !alive(p.State) {
		t.Errorf("self: %+v; want pid %d, pgid %d, RSS > 0, threads >= 1, alive", p, pid, syscall.Getpgrp())
	}
	if p.IO == nil {
		t.Error("a process cannot read its own io")
	}

	t.Run("CPU time grows and agrees with getrusage at 100 Hz", func(t *testing.T) {
		before := p.CPUTime()
		var spin uint64
		eventually(t, "CPU time did not grow", func() bool {
			for i := range 10_000_000 {
				spin += uint64(i)
			}
			p, err = ReadProcess("/proc", pid)
			return err == nil && p.CPUTime() >= before+50*time.Millisecond
		})
		low := cpuOfRusage(t)
		p, err = ReadProcess("/proc", pid)
		high := cpuOfRusage(t)
		if err != nil {
			t.Fatal(err)
		}
		// /proc rounds down to 10 ms ticks per thread; getrusage does not
		// round. A wrong USER_HZ would be off by a factor, not 100 ms.
		if slack := 100 * time.Millisecond; p.CPUTime() < low-slack || p.CPUTime() > high+slack {
			t.Errorf("/proc says %v of CPU, getrusage between %v and %v", p.CPUTime(), low, high)
		}
		_ = spin
	})

	t.Run("the same process has the same start time", func(t *testing.T) {
		again, err := ReadProcess("/proc", pid)
		if err != nil {
			t.Fatal(err)
		}
		host, err := ReadHost("/proc")
		if err != nil {
			t.Fatal(err)
		}
		if again.Started != p.Started || p.Started <= 0 || p.Started > host.Uptime {
			t.Errorf("started %v then %v, host up %v", p.Started, again.Started, host.Uptime)
		}
	})
}

func TestLive_busy_child(t *testing.T) {
	cmd := startGroup(t, "while :; do :; done")
	pid := cmd.Process.Pid
	pids, err := GroupPIDs("/proc", pid)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids, []int{pid}) {
		t.Fatalf("group %d = %v, want just its leader", pid, pids)
	}
	first, err := ReadProcess("/proc", pid)
	if err != nil {
		t.Fatal(err)
	}
	if first.PGID != pid || first.RSS == 0 || first.Threads != 1 || first.Command != "sh" || first.IO == nil {
		t.Errorf("child: %+v", first)
	}
	eventually(t, "the busy child's CPU time did not grow", func() bool {
		p, err := ReadProcess("/proc", pid)
		return err == nil && p.CPUTime() > first.CPUTime() && p.Started == first.Started
	})

	_ = syscall.Kill(pid, syscall.SIGKILL)
	_ = cmd.Wait()
	if _, err := ReadProcess("/proc", pid); err == nil {
		t.Error("a reaped process could still be read")
	}
}

func TestLive_GroupPIDs_lists_every_live_member(t *testing.T) {
	cmd := startGroup(t, "sleep 60 & sleep 60 & wait")
	pgid := cmd.Process.Pid
	var pids []int
	eventually(t, "the group never had its three members", func() bool {
		var err error
		pids, err = GroupPIDs("/proc", pgid)
		return err == nil && len(pids) == 3
	})
	if !slices.Contains(pids, pgid) {
		t.Errorf("group %d = %v, without its leader", pgid, pids)
	}
	// Kill the group; the sleeps' new parent may never reap them, and
	// zombies are not members.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	_ = cmd.Wait()
	eventually(t, "the killed group still had members", func() bool {
		pids, err := GroupPIDs("/proc", pgid)
		return err == nil && len(pids) == 0
	})
}

func TestLive_ReadHost(t *testing.T) {
	h, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if h.Cores < 1 || h.CPU.Total() == 0 || h.CPU.Busy() > h.CPU.Total() {
		t.Errorf("CPU: %d cores, %+v", h.Cores, h.CPU)
	}
	if h.MemoryTotal == 0 || h.MemoryAvailable == 0 || h.MemoryAvailable > h.MemoryTotal {
		t.Errorf("memory: %d available of %d", h.MemoryAvailable, h.MemoryTotal)
	}
	if _, ok := h.Interfaces["lo"]; ok {
		t.Error("lo is listed")
	}
	for name := range h.Disks {
		if virtualDisk(name) {
			t.Errorf("disk %s is not a whole disk", name)
		}
		for other := range h.Disks {
			if other != name && isPartition(name, map[string]bool{other: true}) {
				t.Errorf("disk %s is a partition of %s", name, other)
			}
		}
	}
	if h.Uptime <= 0 {
		t.Errorf("uptime %v", h.Uptime)
	}
	t.Logf("%d cores, %d MB available of %d, disks %v, interfaces %v", h.Cores, h.MemoryAvailable>>20, h.MemoryTotal>>20, h.Disks, h.Interfaces)
}

// TestLive_Sampler samples a busy child until it is killed mid-window.
func TestLive_Sampler(t *testing.T) {
	cmd := startGroup(t, "while :; do :; done")
	pgid := cmd.Process.Pid
	var calls atomic.Int64
	s := NewSampler("/proc", 20*time.Millisecond, func() []Target {
		calls.Add(1)
		return []Target{{"busy", pgid}, {"self", syscall.Getpgrp()}}
	})
	s.Start()
	eventually(t, "fewer than 10 samples", func() bool { return calls.Load() >= 10 })
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	_ = cmd.Wait()
	killed := calls.Load()
	eventually(t, "no sample after the kill", func() bool { return calls.Load() >= killed+2 })
	got := s.Stop()

	if len(got.Errors) != 0 {
		t.Errorf("errors: %q", got.Errors)
	}
	if !got.End.After(got.Start) || got.Samples < 12 {
		t.Errorf("%d samples from %v to %v", got.Samples, got.Start, got.End)
	}

	busy := got.Targets["busy"]
	cores := float64(runtime.NumCPU())
	if !busy.Gone || busy.Samples < 9 || busy.CPUTime <= 0 || busy.CPUMean <= 0 || busy.CPUMax < busy.CPUMean {
		t.Errorf("busy: %+v; want gone after >= 9 samples, CPU used", busy)
	}
	if busy.RSSMax == 0 || busy.ThreadsMax != 1 || busy.ReadBytes == nil {
		t.Errorf("busy: RSS %d, threads %d, io %v", busy.RSSMax, busy.ThreadsMax, busy.ReadBytes)
	}
	self := got.Targets["self"]
	if self.Gone || self.Samples != got.Samples || self.RSSLast == 0 || self.ThreadsMax < 2 {
		t.Errorf("self: %+v", self)
	}

	h := got.Host
	if h.Samples != got.Samples || h.Cores < 1 || h.CPUBusyMean <= 0 || h.CPUBusyMean > 100 || h.CPUBusyMax > 100 {
		t.Errorf("host: %+v", h)
	}
	if h.MemoryAvailableMin == 0 || h.MemoryAvailableMin > h.MemoryTotal {
		t.Errorf("host memory: %d available of %d", h.MemoryAvailableMin, h.MemoryTotal)
	}
	// One spinning shell is at most one core, give or take a tick per
	// interval: far from a wrong unit.
	if busy.CPUMean > 150 || busy.CPUMean > 100*cores+50 {
		t.Errorf("busy child used %.0f%% of a core on average", busy.CPUMean)
	}
	t.Logf("busy: %.0f%% mean, %.0f%% max; host %.0f%% busy of %d cores", busy.CPUMean, busy.CPUMax, h.CPUBusyMean, h.Cores)
}

// BenchmarkSample measures one sample of the real /proc with two targets:
// what the worker spends each second during a race.
func BenchmarkSample(b *testing.B) {
	s := NewSampler("/proc", time.Hour, func() []Target {
		return []Target{{"self", syscall.Getpgrp()}, {"init", 1}}
	})
	b.ReportAllocs()
	for b.Loop() {
		s.sample()
	}
}
