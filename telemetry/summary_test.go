package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// at is t0 plus secs seconds.
func at(secs float64) time.Time { return t0.Add(time.Duration(secs * float64(time.Second))) }

// proc is a process of group 100 whose CPU time is all user time.
func proc(pid int, started, cpu time.Duration, rss uint64, threads int, io *ProcessIO) ProcessSample {
	return ProcessSample{PID: pid, PGID: 100, State: 'S', UserTime: cpu, Started: started, RSS: rss, Threads: threads, IO: io}
}

func pio(read, write uint64) *ProcessIO { return &ProcessIO{ReadBytes: read, WriteBytes: write} }

// hostAt is a host sample at uptime 1000s + secs, its counters given.
func hostAt(secs float64) HostSample {
	return HostSample{Uptime: 1000*time.Second + time.Duration(secs*float64(time.Second)), Cores: 4, MemoryTotal: 1 << 30, MemoryAvailable: 1 << 29}
}

var node = Target{Name: "node-0", PGID: 100}

// observeNode folds a reading of a healthy host and node-0 with procs.
func observeNode(w *window, secs float64, procs ...ProcessSample) {
	w.observe(reading{
		at:      at(secs),
		host:    hostAt(secs),
		targets: []Target{node},
		procs:   map[string][]ProcessSample{node.Name: procs},
	})
}

func TestWindow_targets(t *testing.T) {
	t.Run("a steady group sums its members", func(t *testing.T) {
		w := newWindow(time.Second)
		observeNode(w, 0, proc(1, 10*time.Second, 5*time.Second, 100, 2, pio(0, 0)), proc(2, 11*time.Second, 50*time.Second, 1000, 40, pio(10, 10)))
		observeNode(w, 1, proc(1, 10*time.Second, 5*time.Second+500*time.Millisecond, 100, 2, pio(0, 4096)), proc(2, 11*time.Second, 50*time.Second, 3000, 60, pio(10, 10)))
		observeNode(w, 2, proc(1, 10*time.Second, 6*time.Second, 100, 2, pio(0, 4096)), proc(2, 11*time.Second, 51*time.Second+500*time.Millisecond, 2000, 50, pio(1034, 8202)))
		got := w.summary().Targets[node.Name]
		want := TargetSummary{
			PGID: 100, Samples: 3, LastSeen: at(2),
			CPUTime: 2500 * time.Millisecond, CPUMean: 125, CPUMax: 200,
			RSSMax: 3100, RSSLast: 2100, ThreadsMax: 62,
			ReadBytes: new(uint64(1024)), WriteBytes: new(uint64(4096 + 8192)),
		}
		checkTarget(t, got, want)
	})

	t.Run("a process born after the previous sample counts from zero", func(t *testing.T) {
		w := newWindow(time.Second)
		observeNode(w, 0, proc(1, 10*time.Second, time.Second, 100, 1, pio(0, 0)))
		// The server JVM starts 0.5 s after the first sample, uptime 1000 s.
		observeNode(w, 1, proc(1, 10*time.Second, time.Second, 100, 1, pio(0, 0)), proc(2, 1000500*time.Millisecond, 300*time.Millisecond, 500, 20, pio(7, 9)))
		got := w.summary().Targets[node.Name]
		if got.CPUTime != 300*time.Millisecond || *got.ReadBytes != 7 || *got.WriteBytes != 9 {
			t.Errorf("got %v CPU, %d read, %d written; want all of the new process's", got.CPUTime, *got.ReadBytes, *got.WriteBytes)
		}
	})

	t.Run("a group first listed late counts from its first sample", func(t *testing.T) {
		w := newWindow(time.Second)
		w.observe(reading{at: at(0), host: hostAt(0)}) // targets not known yet
		observeNode(w, 1, proc(1, 10*time.Second, 100*time.Second, 100, 1, nil))
		observeNode(w, 3, proc(1, 10*time.Second, 101*time.Second, 100, 1, nil))
		got := w.summary().Targets[node.Name]
		if got.CPUTime != time.Second || got.CPUMean != 50 || got.Samples != 2 {
			t.Errorf("got %v CPU, mean %v%%, %d samples; want 1s over the 2s it was watched (50%%), 2 samples", got.CPUTime, got.CPUMean, got.Samples)
		}
		if got.ReadBytes != nil || got.WriteBytes != nil {
			t.Errorf("io is %d/%d, want absent", *got.ReadBytes, *got.WriteBytes)
		}
	})

	t.Run("a reused PID is another process, never a negative delta", func(t *testing.T) {
		w := newWindow(time.Second)
		observeNode(w, 0, proc(7, 10*time.Second, 80*time.Second, 100, 1, nil))
		observeNode(w, 1, proc(7, 1000200*time.Millisecond, 100*time.Millisecond, 100, 1, nil))
		if got := w.summary().Targets[node.Name].CPUTime; got != 100*time.Millisecond {
			t.Errorf("CPU time = %v, want the new process's 100ms", got)
		}
	})

	t.Run("a group that vanished keeps its figures and is gone", func(t *testing.T) {
		w := newWindow(time.Second)
		observeNode(w, 0, proc(1, 10*time.Second, time.Second, 100, 3, pio(0, 0)))
		observeNode(w, 1, proc(1, 10*time.Second, 2*time.Second, 200, 3, pio(5, 5)))
		observeNode(w, 2)
		got := w.summary().Targets[node.Name]
		want := TargetSummary{
			PGID: 100, Samples: 2, LastSeen: at(1),
			CPUTime: time.Second, CPUMean: 100, CPUMax: 100,
			RSSMax: 200, RSSLast: 200, ThreadsMax: 3,
			ReadBytes: new(uint64(5)), WriteBytes: new(uint64(5)), Gone: true,
		}
		checkTarget(t, got, want)
	})

	t.Run("a target no longer listed is gone, and back when listed again", func(t *testing.T) {
		w := newWindow(time.Second)
		observeNode(w, 0, proc(1, 10*time.Second, time.Second, 100, 1, nil))
		w.observe(reading{at: at(1), host: hostAt(1), procs: map[string][]ProcessSample{}})
		if !w.summary().Targets[node.Name].Gone {
			t.Error("not gone while unlisted")
		}
		observeNode(w, 2, proc(1, 10*time.Second, 3*time.Second, 100, 1, nil))
		got := w.summary().Targets[node.Name]
		if got.Gone || got.CPUTime != 2*time.Second || got.CPUMean != 100 {
			t.Errorf("got gone=%v, %v CPU, mean %v%%; want back, 2s over 2s", got.Gone, got.CPUTime, got.CPUMean)
		}
	})

	t.Run("a failed scan changes nothing about the targets", func(t *testing.T) {
		w := newWindow(time.Second)
		observeNode(w, 0, proc(1, 10*time.Second, time.Second, 100, 1, nil))
		w.observe(reading{at: at(1), host: hostAt(1), targets: []Target{node}, scanErr: errors.New("targets: list processes: EMFILE")})
		got := w.summary()
		if got.Targets[node.Name].Gone || got.Targets[node.Name].Samples != 1 || len(got.Errors) != 1 {
			t.Errorf("got %+v", got)
		}
	})

	t.Run("a target listed but never found has no samples and is gone", func(t *testing.T) {
		w := newWindow(time.Second)
		observeNode(w, 0)
		got := w.summary().Targets[node.Name]
		checkTarget(t, got, TargetSummary{PGID: 100, Gone: true})
	})
}

func checkTarget(t *testing.T, got, want TargetSummary) {
	t.Helper()
	str := func(s TargetSummary) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	if str(got) != str(want) {
		t.Errorf("got  %s\nwant %s", str(got), str(want))
	}
}

func TestWindow_host(t *testing.T) {
	w := newWindow(time.Second)
	h0 := hostAt(0)
	h0.CPU = CPUTimes{User: 1000, System: 500, Idle: 8000, IOWait: 100}
	h0.Disks = map[string]DiskIO{"sda": {ReadBytes: 1 << 20, WriteBytes: 2 << 20}}
	h0.Interfaces = map[string]NetIO{"eth0": {RxBytes: 1000, TxBytes: 2000}}
	w.observe(reading{at: at(0), host: h0})

	// One second on 4 cores is 400 ticks: 300 busy, 100 idle; iowait steps
	// back, as it does on tickless kernels, and must not count as negative.
	h1 := hostAt(1)
	h1.CPU = CPUTimes{User: 1200, System: 600, Idle: 8100, IOWait: 90}
	h1.MemoryAvailable = 1 << 28
	h1.Disks = map[string]DiskIO{"sda": {ReadBytes: 1<<20 + 4096, WriteBytes: 3 << 20}}
	h1.Interfaces = map[string]NetIO{"eth0": {RxBytes: 1500, TxBytes: 2100}, "veth1": {RxBytes: 70, TxBytes: 80}}
	w.observe(reading{at: at(1), host: h1})

	w.observe(reading{at: at(2), hostErr: errors.New("host: open /proc/stat: too many open files")})

	// Two more seconds, all idle; sda was re-plugged (its counters reset),
	// and nvme0n1 appeared after a failed sample, so only counts from now.
	h3 := hostAt(3)
	h3.CPU = CPUTimes{User: 1200, System: 600, Idle: 8900, IOWait: 90}
	h3.Disks = map[string]DiskIO{"sda": {ReadBytes: 512, WriteBytes: 0}, "nvme0n1": {ReadBytes: 1 << 30, WriteBytes: 1 << 30}}
	h3.Interfaces = map[string]NetIO{"eth0": {RxBytes: 2500, TxBytes: 2200}, "veth1": {RxBytes: 70, TxBytes: 80}}
	w.observe(reading{at: at(3), host: h3})
	w.observe(reading{at: at(4), hostErr: errors.New("host: open /proc/stat: too many open files")})

	got := w.summary()
	if got.Samples != 5 || got.Host.Samples != 3 || !got.Start.Equal(at(0)) || !got.End.Equal(at(4)) {
		t.Errorf("samples %d (host %d), %v to %v", got.Samples, got.Host.Samples, got.Start, got.End)
	}
	if len(got.Errors) != 1 {
		t.Errorf("errors = %q, want the one message once", got.Errors)
	}
	want := HostSummary{
		Samples: 3, Cores: 4,
		CPUBusyMean: 25, CPUBusyMax: 75,
		MemoryTotal: 1 << 30, MemoryAvailableMin: 1 << 28,
		DiskRead: 4096 + 512, DiskWrite: 1 << 20,
		Disks:     map[string]DiskIO{"sda": {ReadBytes: 4096 + 512, WriteBytes: 1 << 20}, "nvme0n1": {}},
		NetworkRx: 1500 + 70, NetworkTx: 200 + 80,
		Interfaces: map[string]NetIO{"eth0": {RxBytes: 1500, TxBytes: 200}, "veth1": {RxBytes: 70, TxBytes: 80}},
	}
	if !reflect.DeepEqual(got.Host, want) {
		t.Errorf("got  %+v\nwant %+v", got.Host, want)
	}
}

func TestWindow_errors_are_bounded(t *testing.T) {
	w := newWindow(time.Second)
	for i := range 3 * maxErrors {
		w.observe(reading{at: at(float64(i)), hostErr: fmt.Errorf("failure %d", i%(2*maxErrors))})
	}
	if got := len(w.summary().Errors); got != maxErrors {
		t.Errorf("%d errors kept, want %d", got, maxErrors)
	}
}

func TestWindow_empty(t *testing.T) {
	got := newWindow(time.Second).summary()
	if got.Samples != 0 || got.Targets == nil || got.Host.CPUBusyMean != 0 {
		t.Errorf("got %+v", got)
	}
}

// TestSummary_JSON pins the JSON shape the race protocol will carry:
// kebab-case names as report.Race's, durations in nanoseconds, absent io
// left out.
func TestSummary_JSON(t *testing.T) {
	w := newWindow(time.Second)
	other := Target{Name: "node-1", PGID: 200}
	h := hostAt(0)
	h.CPU = CPUTimes{User: 1000, Idle: 3000}
	h.Disks = map[string]DiskIO{"nvme0n1": {}}
	h.Interfaces = map[string]NetIO{"eth0": {}}
	w.observe(reading{at: at(0), host: h, targets: []Target{node, other}, procs: map[string][]ProcessSample{
		node.Name:  {proc(1, time.Second, time.Second, 1<<30, 80, pio(0, 0))},
		other.Name: {{PID: 2, PGID: 200, State: 'S', Started: time.Second, UserTime: time.Second, RSS: 1 << 29, Threads: 60}},
	}})
	h = hostAt(1)
	h.CPU = CPUTimes{User: 1300, Idle: 3100}
	h.Disks = map[string]DiskIO{"nvme0n1": {ReadBytes: 4096, WriteBytes: 1 << 20}}
	h.Interfaces = map[string]NetIO{"eth0": {RxBytes: 3000, TxBytes: 1000}}
	w.observe(reading{at: at(1), host: h, targets: []Target{node, other}, procs: map[string][]ProcessSample{
		node.Name: {proc(1, time.Second, 3*time.Second, 1<<30, 81, pio(4096, 1<<20))},
	}})
	got, err := json.MarshalIndent(w.summary(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.golden.json", append(got, '\n'))
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
