package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSaturationWarning races a light throttled search with the real
// binary pinned to one CPU, first alone, then with a busy loop of higher
// priority on that CPU. Starved, the load driver's threads wait for the
// CPU most of the time: the report warns that the driver may have been
// the bottleneck, and race.json says why. Alone it stays silent.
func TestSaturationWarning(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Fatal("this test pins the load driver to one CPU of several: it needs 2 CPUs or more")
	}
	cpu := strconv.Itoa(runtime.NumCPU() - 1)
	addr := startTarget(t)
	u := newUser(t)
	race := func() result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "taskset", "-c", cpu, rallyBin, "race", "--track-path", "testdata/tracks/paced",
			"--track-params", "period:4,warmup:0,rate:100,clients:2", "--target-hosts", addr)
		cmd.Env = append(os.Environ(), "RALLY_HOME="+u.home, "NO_COLOR=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		r := result{}
		if err := cmd.Run(); err != nil {
			t.Fatalf("taskset -c %s rally race: %v\n%s\n%s", cpu, err, out.String(), errb.String())
		}
		r.stdout, r.stderr = out.String(), errb.String()
		return r
	}

	// Silence is asserted when the CPU was quiet but for the driver: other
	// tests of a CI run may keep it busy, and then a warning is right.
	before := cpuBusy(t, cpu)
	alone := race()
	busy := cpuBusy(t, cpu).since(before)
	switch {
	case busy < 0.5 && strings.Contains(alone.stdout, "bottleneck"):
		t.Errorf("a load driver on a CPU %.0f%% busy was called saturated:\n%s", busy*100, alone.stdout)
	case busy >= 0.5:
		t.Logf("CPU %s was %.0f%% busy with other work during the quiet race: its silence is not asserted", cpu, busy*100)
	}

	// A busy loop at the highest priority on the same CPU, for at most a
	// minute, stopped by PID at the end.
	// It runs in a process group of its own, killed whole: killing timeout
	// alone would leave its shell spinning.
	spin := exec.Command("nice", "-n", "-19", "taskset", "-c", cpu, "timeout", "60", "sh", "-c", "while :; do :; done")
	spin.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := spin.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-spin.Process.Pid, syscall.SIGKILL); spin.Wait() }()
	starved := race()
	want := "load driver local in step 2 (search-all): its threads waited"
	if !strings.Contains(starved.stdout, "may have been the bottleneck") || !strings.Contains(starved.stdout, want) {
		t.Fatalf("no saturation warning from a starved load driver (want %q):\n%s", want, starved.stdout)
	}
	var listed []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(u.must("list", "races", "--json").stdout), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list races: %v, %d races", err, len(listed))
	}
	b, err := os.ReadFile(filepath.Join(u.home, "races", listed[0].ID, "race.json"))
	if err != nil || !strings.Contains(string(b), `"saturation": "its threads waited`) {
		t.Errorf("race.json of the starved race has no saturation reason (%v):\n%s", err, b)
	}
}

// cpuTicks are one CPU's busy and total clock ticks from /proc/stat.
type cpuTicks struct{ busy, total uint64 }

func cpuBusy(t *testing.T, cpu string) cpuTicks {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu"+cpu {
			continue
		}
		var c cpuTicks
		for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("/proc/stat: %q", line)
			}
			c.total += n
			if i != 3 && i != 4 {
				c.busy += n
			}
		}
		return c
	}
	t.Fatalf("no cpu%s in /proc/stat", cpu)
	return cpuTicks{}
}

// since is the busy share of the CPU between two readings.
func (c cpuTicks) since(before cpuTicks) float64 {
	if c.total <= before.total {
		return 0
	}
	return float64(c.busy-before.busy) / float64(c.total-before.total)
}
