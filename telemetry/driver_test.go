package telemetry

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseSchedstat(t *testing.T) {
	for in, want := range map[string]time.Duration{"123 4567 89\n": 4567, "1 2": 2} {
		if got, ok := parseSchedstat([]byte(in)); !ok || got != want {
			t.Errorf("parseSchedstat(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "12", "1 x 3", "1 -2 3"} {
		if _, ok := parseSchedstat([]byte(bad)); ok {
			t.Errorf("parseSchedstat(%q) accepted", bad)
		}
	}
}

func TestDriverLoadAndSaturation(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := DriverSample{At: t0, CPU: time.Second, RunDelay: time.Second, CPUs: 2}
	cases := []struct {
		name          string
		b             DriverSample
		busy, waiting float64
		saturated     string
	}{
		{"light", DriverSample{At: t0.Add(10 * time.Second), CPU: 3 * time.Second, RunDelay: 1100 * time.Millisecond, CPUs: 2}, 0.1, 0.01, ""},
		{"both CPUs busy", DriverSample{At: t0.Add(10 * time.Second), CPU: 20 * time.Second, RunDelay: 2 * time.Second, CPUs: 2}, 0.95, 0.1, "95% of its 2 CPU(s) busy"},
		{"starved", DriverSample{At: t0.Add(10 * time.Second), CPU: 4 * time.Second, RunDelay: 6 * time.Second, CPUs: 2}, 0.15, 0.5, "waited 0.50 s per second for a CPU"},
	}
	for _, tc := range cases {
		l := LoadBetween(a, tc.b)
		if d := l.Busy - tc.busy; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: busy %v, want %v", tc.name, l.Busy, tc.busy)
		}
		if d := l.Waiting - tc.waiting; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: waiting %v, want %v", tc.name, l.Waiting, tc.waiting)
		}
		got := l.Saturation()
		if (tc.saturated == "") != (got == "") || !strings.Contains(got, tc.saturated) {
			t.Errorf("%s: Saturation() = %q, want %q", tc.name, got, tc.saturated)
		}
	}
	if l := LoadBetween(a, a); l.Busy != 0 || l.Saturation() != "" {
		t.Errorf("no time passed: %+v", l)
	}
	short := DriverSample{At: t0.Add(500 * time.Millisecond), CPU: 2 * time.Second, RunDelay: 2 * time.Second, CPUs: 2}
	if l := LoadBetween(a, short); l.Busy < 0.9 || l.Saturation() != "" {
		t.Errorf("a step of half a second judged: %+v %q", l, l.Saturation())
	}
}

// TestReadDriverSeesItsOwnCPU burns CPU and checks the sample against
// what the kernel's getrusage says of the same process.
func TestReadDriverSeesItsOwnCPU(t *testing.T) {
	a, err := ReadDriver("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if a.CPUs < 1 {
		t.Fatalf("CPUs = %d", a.CPUs)
	}
	var ru syscall.Rusage
	for give := time.Now().Add(20 * time.Second); time.Now().Before(give); {
		for i := 0; i < 1e6; i++ {
			_ = i * i
		}
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil && time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) > 300*time.Millisecond {
			break
		}
	}
	b, err := ReadDriver("/proc")
	if err != nil {
		t.Fatal(err)
	}
	rusage := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// /proc counts in 10 ms clock ticks, getrusage more finely.
	if d := b.CPU - rusage; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Fatalf("ReadDriver says %v of CPU, getrusage %v", b.CPU, rusage)
	}
	if b.CPU <= a.CPU || b.RunDelay < a.RunDelay {
		t.Fatalf("samples went back or stood still: %+v then %+v", a, b)
	}
}
