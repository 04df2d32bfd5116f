package telemetry

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock returns t0, then whatever set says.
type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) set(secs float64) { c.now.Store(at(secs).UnixNano()) }
func (c *fakeClock) Now() time.Time   { return time.Unix(0, c.now.Load()).UTC() }

// replaceIn rewrites <root>/<name>, replacing old by new, which must be
// there.
func replaceIn(t *testing.T, root, name, old, new string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", name, old)
	}
	writeFile(t, root, name, strings.Replace(string(b), old, new, 1))
}

// TestSampler runs a Sampler over a fake procRoot that the test advances
// between Start and Stop, with a clock of its own: every figure is exact.
func TestSampler(t *testing.T) {
	requireLinux(t)
	root := copyProc(t)
	targets := []Target{{"node-0", 4240}, {"odd", 4300}, {"shell", 4500}, {"nowhere", 999}}
	s := NewSampler(root, time.Hour, func() []Target { return targets })
	var clock fakeClock
	clock.set(0)
	s.now = clock.Now
	s.Start()

	// Two seconds later: the server JVM used 1.5 s of user and 0.5 s of
	// system time, read 4 kB and wrote 1 MB; the shell exited.
	editStat(t, root, 4242, map[int]uint64{statUTime: 90150, statSTime: 12050, statThreads: 85})
	replaceIn(t, root, "4242/io", "read_bytes: 1048576\nwrite_bytes: 52428800", "read_bytes: 1052672\nwrite_bytes: 53477376")
	replaceIn(t, root, "4242/status", "VmRSS:\t 4200000 kB", "VmRSS:\t 4300000 kB")
	if err := os.RemoveAll(filepath.Join(root, "4500")); err != nil {
		t.Fatal(err)
	}
	// 2 s on 2 cores is 400 ticks: 100 user, 300 idle.
	replaceIn(t, root, "stat", "cpu  761156 100 117449 959576", "cpu  761256 100 117449 959876")
	replaceIn(t, root, "meminfo", "MemAvailable:   24071044 kB", "MemAvailable:   20000000 kB")
	replaceIn(t, root, "diskstats", "sda 461378 53180 19441058", "sda 461379 53180 19441066")
	replaceIn(t, root, "net/dev", "eth0: 528489345", "eth0: 528490345")
	writeFile(t, root, "uptime", "9379.74 9672.20\n")
	clock.set(2)

	got := s.Stop()
	if got.Samples != 2 || !got.Start.Equal(at(0)) || !got.End.Equal(at(2)) || got.Interval != time.Hour {
		t.Errorf("window: %d samples, %v to %v every %v", got.Samples, got.Start, got.End, got.Interval)
	}
	if len(got.Errors) != 0 {
		t.Errorf("errors: %q", got.Errors)
	}

	h := got.Host
	if h.Samples != 2 || h.Cores != 2 || h.CPUBusyMean != 25 || h.CPUBusyMax != 25 {
		t.Errorf("host CPU: %d samples, %d cores, %v%% mean, %v%% max; want 2, 2, 25, 25", h.Samples, h.Cores, h.CPUBusyMean, h.CPUBusyMax)
	}
	if h.MemoryTotal != 24683784*1024 || h.MemoryAvailableMin != 20000000*1024 {
		t.Errorf("host memory: %d total, %d min available", h.MemoryTotal, h.MemoryAvailableMin)
	}
	if h.DiskRead != 8*512 || h.DiskWrite != 0 || h.Disks["sda"].ReadBytes != 8*512 || len(h.Disks) != 3 {
		t.Errorf("host disks: %d read, %d written, %v", h.DiskRead, h.DiskWrite, h.Disks)
	}
	if h.NetworkRx != 1000 || h.NetworkTx != 0 || len(h.Interfaces) != 3 {
		t.Errorf("host network: %d rx, %d tx, %v", h.NetworkRx, h.NetworkTx, h.Interfaces)
	}

	checkTarget(t, got.Targets["node-0"], TargetSummary{
		PGID: 4240, Samples: 2, LastSeen: at(2),
		CPUTime: 2 * time.Second, CPUMean: 100, CPUMax: 100,
		RSSMax: (120000 + 4300000) * 1024, RSSLast: (120000 + 4300000) * 1024, ThreadsMax: 21 + 85,
		ReadBytes: new(uint64(4096)), WriteBytes: new(uint64(1 << 20)),
	})
	checkTarget(t, got.Targets["odd"], TargetSummary{
		PGID: 4300, Samples: 2, LastSeen: at(2),
		RSSMax: 3072 * 1024, RSSLast: 3072 * 1024, ThreadsMax: 4,
	})
	checkTarget(t, got.Targets["shell"], TargetSummary{
		PGID: 4500, Samples: 1, LastSeen: at(0),
		RSSMax: 3000 * 1024, RSSLast: 3000 * 1024, ThreadsMax: 1,
		ReadBytes: new(uint64(0)), WriteBytes: new(uint64(0)), Gone: true,
	})
	checkTarget(t, got.Targets["nowhere"], TargetSummary{PGID: 999, Gone: true})
}

func TestSampler_unreadable_root_is_reported_not_fatal(t *testing.T) {
	s := NewSampler(filepath.Join(t.TempDir(), "no-proc"), time.Hour, func() []Target { return []Target{{"node-0", 1}} })
	s.Start()
	got := s.Stop()
	if got.Samples != 2 || got.Host.Samples != 0 || len(got.Errors) != 2 {
		t.Errorf("got %d samples (host %d), errors %q; want 2, 0 and a host and a targets error", got.Samples, got.Host.Samples, got.Errors)
	}
}

func TestSampler_bad_target_is_an_error(t *testing.T) {
	requireLinux(t)
	s := NewSampler(fixtureProc, time.Hour, func() []Target { return []Target{{"node-0", 0}, {"node-1", 4240}, {"node-1", 4300}} })
	s.Start()
	got := s.Stop()
	if len(got.Errors) != 1 || !strings.Contains(got.Errors[0], "target node-0: process group 0") {
		t.Errorf("errors = %q", got.Errors)
	}
	if n := len(got.Targets); n != 1 || got.Targets["node-1"].PGID != 4240 {
		t.Errorf("targets = %+v, want node-1 once, as first listed", got.Targets)
	}
}

func TestSampler_lifecycle(t *testing.T) {
	t.Run("stop before start is an empty summary", func(t *testing.T) {
		s := NewSampler(fixtureProc, time.Hour, nil)
		if got := s.Stop(); got.Samples != 0 || !got.Start.IsZero() {
			t.Errorf("got %+v", got)
		}
		s.Start() // too late: nothing happens
		if got := s.Stop(); got.Samples != 0 {
			t.Errorf("started after stop: %+v", got)
		}
	})
	t.Run("start and stop twice", func(t *testing.T) {
		requireLinux(t)
		s := NewSampler(fixtureProc, time.Hour, nil)
		s.Start()
		s.Start()
		first := s.Stop()
		if first.Samples != 2 {
			t.Errorf("%d samples, want 2", first.Samples)
		}
		if again := s.Stop(); again.Samples != first.Samples || !again.End.Equal(first.End) {
			t.Errorf("second stop: %+v, want %+v", again, first)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		s := NewSampler("", 0, nil)
		if s.procRoot != "/proc" || s.interval != DefaultInterval {
			t.Errorf("procRoot %q, interval %v", s.procRoot, s.interval)
		}
	})
	t.Run("samples every interval until stopped", func(t *testing.T) {
		requireLinux(t)
		calls := make(chan struct{}, 100)
		s := NewSampler(fixtureProc, time.Millisecond, func() []Target {
			select {
			case calls <- struct{}{}:
			default:
			}
			return []Target{{"node-0", 4240}}
		})
		s.Start()
		for range 4 { // Start's sample and three ticks
			select {
			case <-calls:
			case <-time.After(10 * time.Second):
				t.Fatal("the sampler stopped sampling")
			}
		}
		got := s.Stop()
		if got.Samples < 5 || got.Targets["node-0"].Samples != got.Samples {
			t.Errorf("%d samples, node-0 in %d; want at least 5, all", got.Samples, got.Targets["node-0"].Samples)
		}
	})
}
