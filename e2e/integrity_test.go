package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/lab"
	"rally/report"
)

// The tracks of the race-integrity tests. spreadTask has one client per
// host by default (clients:3 on 3 hosts); its rate is for the whole task,
// so each client runs about 10 searches a second.
const (
	spreadTrack     = "testdata/tracks/spread"
	spreadTask      = "search-spread"
	completedTrack  = "testdata/tracks/completed-by"
	completedLong   = "q-long"
	completedShort  = "q-short"
	shortIterations = 100
)

// syncBuffer is an io.Writer that the test reads while a process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// backgroundRace is a `rally race` that runs while the test acts on the
// lab. It is killed if it outlives its 4-minute bound or the test.
type backgroundRace struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdout  bytes.Buffer // written by the command until done is closed
	stderr  syncBuffer
	started time.Time
	done    chan struct{}
	err     error     // set before done is closed
	ended   time.Time // set before done is closed
}

// startRace starts `rally race args...` with the user's RALLY_HOME.
func (u *user) startRace(t *testing.T, args ...string) *backgroundRace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	br := &backgroundRace{t: t, done: make(chan struct{})}
	br.cmd = exec.CommandContext(ctx, rallyBin, append([]string{"race"}, args...)...)
	br.cmd.Env = append(os.Environ(), "RALLY_HOME="+u.home, "NO_COLOR=1")
	br.cmd.Stdout, br.cmd.Stderr = &br.stdout, &br.stderr
	br.started = time.Now()
	if err := br.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("rally race: %v", err)
	}
	go func() {
		err := br.cmd.Wait()
		br.err, br.ended = err, time.Now()
		close(br.done)
	}()
	t.Cleanup(func() { cancel(); <-br.done })
	return br
}

// waitProgress waits until the race's progress on stderr matches re.
func (br *backgroundRace) waitProgress(re *regexp.Regexp, max time.Duration) {
	br.t.Helper()
	eventually(br.t, max, "race progress "+re.String(), func() (bool, string) {
		select {
		case <-br.done:
			br.t.Fatalf("race ended before its progress matched %s:\n%s", re, br.result())
		default:
		}
		s := br.stderr.String()
		return re.MatchString(s), "stderr:\n" + s
	})
}

// waitRunning waits until task runs and has measured requests.
func (br *backgroundRace) waitRunning(task string, max time.Duration) {
	br.t.Helper()
	br.waitProgress(regexp.MustCompile(regexp.QuoteMeta(task)+`\s+running\s+[1-9]`), max)
}

// endedBy reports whether the race ended before deadline, waiting for it
// until then.
func (br *backgroundRace) endedBy(deadline time.Time) bool {
	select {
	case <-br.done:
		return !br.ended.After(deadline)
	case <-time.After(time.Until(deadline)):
		return false
	}
}

// wait waits at most max for the race to end and returns its result; the
// test fails if it does not end in time.
func (br *backgroundRace) wait(max time.Duration) result {
	br.t.Helper()
	select {
	case <-br.done:
	case <-time.After(max):
		br.cmd.Process.Kill()
		<-br.done
		br.t.Fatalf("race did not end within %s:\n%s", max, br.result())
	}
	return br.result()
}

// result is the race's outcome; call it only once done is closed.
func (br *backgroundRace) result() result {
	r := result{stdout: br.stdout.String(), stderr: br.stderr.String()}
	if ee, ok := br.err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if br.err != nil {
		br.t.Fatalf("rally race: %v", br.err)
	}
	return r
}

// savedRace returns the race as saved in its race.json, checking that the
// JSON report on stdout is the same race.
func savedRace(t *testing.T, u *user, r result) *report.Race {
	t.Helper()
	printed := raceJSON(t, r)
	b, err := os.ReadFile(filepath.Join(u.home, "races", printed.ID, "race.json"))
	if err != nil {
		t.Fatalf("race.json of %s: %v", printed.ID, err)
	}
	var saved report.Race
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatalf("race.json of %s: %v\n%s", printed.ID, err, b)
	}
	if saved.Status != printed.Status || saved.Error != printed.Error {
		t.Errorf("race.json says %s (%s), the report said %s (%s)", saved.Status, saved.Error, printed.Status, printed.Error)
	}
	return &saved
}

// lostHost returns the race's record of host as a lost load driver.
func lostHost(r *report.Race, host string) (report.LostHost, bool) {
	for _, lh := range r.LostHosts {
		if lh.Host == host {
			return lh, true
		}
	}
	return report.LostHost{}, false
}

// checkHostRequests checks that every host in want measured requests of
// task, that no other host did, and that the hosts' counts add up to the
// task's summary (requests and warmup requests): a count lost between a
// host and the summary would be a silent under-count.
func checkHostRequests(t *testing.T, r *report.Race, task string, want ...string) map[string]int64 {
	t.Helper()
	byHost, ok := r.HostRequests[task]
	if !ok {
		t.Errorf("host-requests has no %s: %v", task, r.HostRequests)
		return nil
	}
	var sum int64
	for host, n := range byHost {
		sum += n
		if !slices.Contains(want, host) && n > 0 {
			t.Errorf("host-requests of %s: %s measured %d requests, want only %v", task, host, n, want)
		}
	}
	for _, host := range want {
		if byHost[host] <= 0 {
			t.Errorf("host-requests of %s: %s measured %d requests, want > 0 (all: %v)", task, host, byHost[host], byHost)
		}
	}
	ts := taskSummary(t, r, task)
	if total := ts.Requests + ts.WarmupRequests; sum != total {
		t.Errorf("%s: hosts measured %d requests in all (%v), the summary counts %d (%d + %d warmup)",
			task, sum, byHost, total, ts.Requests, ts.WarmupRequests)
	}
	return byHost
}

// checkNoGapsFrom fails the test if the race names a gap in the metrics of
// any of hosts: they stayed up, so each of their deltas must be merged.
func checkNoGapsFrom(t *testing.T, r *report.Race, hosts ...string) {
	t.Helper()
	for _, g := range r.Gaps {
		if slices.Contains(hosts, g.Host) {
			t.Errorf("gap in the metrics of %s, which was never lost: %+v", g.Host, g)
		}
	}
}

// hostView is a host as `rally status --json` shows it, decoded here by
// the documented JSON names so that a field the status lacks (restarts)
// is reported as missing rather than read as zero.
type hostView struct {
	Name      string `json:"name"`
	Phase     string `json:"phase"`
	Error     string `json:"error"`
	WorkerPID int    `json:"worker_pid"`
	Restarts  *int   `json:"restarts"`
}

func (h hostView) String() string {
	restarts := "absent"
	if h.Restarts != nil {
		restarts = strconv.Itoa(*h.Restarts)
	}
	return fmt.Sprintf("%s: phase %s (%s), worker pid %d, restarts %s", h.Name, h.Phase, h.Error, h.WorkerPID, restarts)
}

// hostViews returns the cluster's hosts by name.
func (u *user) hostViews() map[string]hostView {
	u.t.Helper()
	r := u.must("status", "--json")
	var st struct {
		Hosts []hostView `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		u.t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	hosts := map[string]hostView{}
	for _, h := range st.Hosts {
		hosts[h.Name] = h
	}
	return hosts
}

// upCluster forms a cluster of every lab host and tears it down when the
// test ends, should the test not have done so itself.
func upCluster(t *testing.T, u *user, l *lab.Lab) {
	t.Helper()
	u.must("up", "--detach", "-i", l.InventoryFile())
	t.Cleanup(func() { u.rally("down") })
	for _, h := range l.Hosts() {
		if hv := u.hostViews()[h.Name]; hv.Phase != "joined" || hv.WorkerPID <= 0 {
			t.Fatalf("after up: %s", hv)
		}
	}
}

// downAndCheckClean tears the cluster down, finishing with `rally down -i`
// when the first teardown reports it could not reach every host, and checks
// that every lab host is left clean.
func downAndCheckClean(t *testing.T, u *user, l *lab.Lab) {
	t.Helper()
	if r := u.rally("down"); r.code != 0 {
		if !strings.Contains(r.stdout+r.stderr, "incomplete") {
			t.Errorf("down: %s", r)
		}
		t.Logf("down was incomplete, finishing with down -i: %s", r)
		u.must("down", "-i", l.InventoryFile())
	}
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
}

// killWorker kills -9 the rally worker of host, inside the host, and
// returns the pid it had.
func killWorker(t *testing.T, u *user, l *lab.Lab, host string) int {
	t.Helper()
	hv := u.hostViews()[host]
	if hv.WorkerPID <= 0 {
		t.Fatalf("no worker to kill: %s", hv)
	}
	if out, err := l.Exec(context.Background(), host, "kill", "-9", strconv.Itoa(hv.WorkerPID)); err != nil {
		t.Fatalf("kill the worker of %s: %v %s", host, err, out)
	}
	return hv.WorkerPID
}

// TestRaceWorkerKilledContinue: kill -9 of one load driver's worker
// midway through a race under --on-error continue. The race goes on with
// the other hosts and completes; race.json names the lost host, with the
// clients it ran, and keeps what it measured up to its last delta; the
// coordinator starts a new worker on that host by itself.
func TestRaceWorkerKilledContinue(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	upCluster(t, u, l)

	br := u.startRace(t, "--track-path", spreadTrack, "--target-hosts", target,
		"--track-params", "clients:3,period:20,rate:30", "--on-error", "continue", "--report-format", "json")
	br.waitRunning(spreadTask, 90*time.Second)
	// A few more seconds, so that every host has sent metric deltas.
	time.Sleep(3 * time.Second)
	oldPID := killWorker(t, u, l, "h3")
	killed := time.Now()
	t.Logf("killed the worker of h3 (pid %d) %s into the race", oldPID, killed.Sub(br.started).Round(100*time.Millisecond))

	r := br.wait(90 * time.Second)
	t.Logf("race ended %s after the kill", br.ended.Sub(killed).Round(100*time.Millisecond))
	if r.code != 0 {
		t.Errorf("race with --on-error continue should exit 0 when a host is lost: %s", r)
	}
	race := savedRace(t, u, r)
	if race.Status != report.StatusCompleted {
		t.Errorf("status %s (%s), want completed", race.Status, race.Error)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		if !slices.Contains(race.Hosts, h) {
			t.Errorf("hosts %v lack %s", race.Hosts, h)
		}
	}
	lh, ok := lostHost(race, "h3")
	switch {
	case !ok:
		t.Errorf("lost-hosts does not name h3: %+v", race.LostHosts)
	case lh.Reason == "" || len(lh.Clients[spreadTask]) == 0 || lh.At.IsZero():
		t.Errorf("h3 lost without a reason, a time or the clients of %s it ran: %+v", spreadTask, lh)
	case lh.At.Before(killed.Add(-time.Second)):
		t.Errorf("h3 lost at %s, before its worker was killed at %s", lh.At, killed)
	case lh.LastDelta[spreadTask] == 0:
		t.Errorf("h3 lost with no metrics delta of %s merged, after running it for seconds: %+v", spreadTask, lh)
	default:
		t.Logf("lost: %+v", lh)
	}
	if len(race.LostHosts) != 1 {
		t.Errorf("lost-hosts %+v, want h3 only", race.LostHosts)
	}
	checkNoGapsFrom(t, race, "h1", "h2")
	byHost := checkHostRequests(t, race, spreadTask, "h1", "h2", "h3")
	t.Logf("host-requests of %s: %v", spreadTask, byHost)
	// h1 and h2 ran the whole 20 s, h3 only until its worker was killed.
	for _, h := range []string{"h1", "h2"} {
		if byHost[h] <= byHost["h3"] {
			t.Errorf("%s measured %d requests, no more than h3's %d before it was killed: the race did not go on", h, byHost[h], byHost["h3"])
		}
	}

	// The coordinator forms h3 again without being asked.
	var h3 hostView
	eventually(t, time.Until(killed.Add(30*time.Second)), "h3 joined again within 30 s of the kill", func() (bool, string) {
		h3 = u.hostViews()["h3"]
		return h3.Phase == "joined" && h3.WorkerPID > 0 && h3.WorkerPID != oldPID && h3.Restarts != nil && *h3.Restarts >= 1,
			fmt.Sprintf("%s (killed pid %d)", h3, oldPID)
	})
	t.Logf("h3 joined again %s after the kill: %s", time.Since(killed).Round(100*time.Millisecond), h3)
	eventually(t, 10*time.Second, "one worker on h3", func() (bool, string) {
		hs := inspect(t, l, "h3")
		return len(hs.workers) == 1, fmt.Sprintf("workers %q", hs.workers)
	})

	u.must("down")
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
}

// TestRaceLinkCutAbort: a load driver's link is cut midway through a race
// under --on-error abort. The race ends promptly with a non-zero exit, is
// saved as aborted (never completed) naming the host, and keeps what was
// measured before the cut.
func TestRaceLinkCutAbort(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	upCluster(t, u, l)

	br := u.startRace(t, "--track-path", spreadTrack, "--target-hosts", target,
		"--track-params", "clients:3,period:30,rate:30", "--on-error", "abort", "--report-format", "json")
	br.waitRunning(spreadTask, 90*time.Second)
	time.Sleep(3 * time.Second)
	if err := l.Cut("h2"); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	t.Cleanup(func() { l.Heal("h2") })
	t.Logf("cut h2 %s into the race", cut.Sub(br.started).Round(100*time.Millisecond))

	if !br.endedBy(cut.Add(15 * time.Second)) {
		t.Errorf("race still running 15 s after h2's link was cut (stderr so far):\n%s", br.stderr.String())
	}
	r := br.wait(90 * time.Second)
	t.Logf("race ended %s after the cut", br.ended.Sub(cut).Round(100*time.Millisecond))
	if r.code == 0 {
		t.Errorf("race aborted by a lost host exited 0: %s", r)
	}
	race := savedRace(t, u, r)
	if race.Status != report.StatusAborted {
		t.Errorf("status %s (%s), want aborted", race.Status, race.Error)
	}
	if !strings.Contains(race.Error, "h2") {
		t.Errorf("error %q does not name h2", race.Error)
	}
	if lh, ok := lostHost(race, "h2"); !ok {
		t.Errorf("lost-hosts does not name h2: %+v", race.LostHosts)
	} else if lh.Reason == "" || lh.At.Before(cut.Add(-time.Second)) || lh.LastDelta[spreadTask] == 0 {
		t.Errorf("h2 lost without a reason, before its link was cut at %s, or with no metrics delta of %s merged: %+v", cut, spreadTask, lh)
	} else {
		t.Logf("lost: %+v; error: %s", lh, race.Error)
	}
	checkNoGapsFrom(t, race, "h1", "h3")
	if ts := taskSummary(t, race, spreadTask); ts.Requests <= 0 {
		t.Errorf("%s: %d requests kept of what was measured before the cut", spreadTask, ts.Requests)
	}
	t.Logf("host-requests of %s: %v", spreadTask, checkHostRequests(t, race, spreadTask, "h1", "h2", "h3"))

	if err := l.Heal("h2"); err != nil {
		t.Fatal(err)
	}
	downAndCheckClean(t, u, l)
}

// TestCompletedByEndsBlockOnEveryHost: a parallel block whose completed-by
// task runs on one host ends the block's other task on every host, so a
// 90 s task stops once the 5 s one is done.
func TestCompletedByEndsBlockOnEveryHost(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	upCluster(t, u, l)

	br := u.startRace(t, "--track-path", completedTrack, "--target-hosts", target, "--report-format", "json")
	r := br.wait(2 * time.Minute)
	took := br.ended.Sub(br.started)
	t.Logf("race took %s", took.Round(100*time.Millisecond))
	if r.code != 0 {
		t.Fatalf("race: %s", r)
	}
	if took >= 30*time.Second {
		t.Errorf("race took %s, want < 30 s: %s did not end %s on every host", took.Round(100*time.Millisecond), completedShort, completedLong)
	}
	race := savedRace(t, u, r)
	if race.Status != report.StatusCompleted {
		t.Errorf("status %s (%s), want completed", race.Status, race.Error)
	}
	if len(race.LostHosts) > 0 || len(race.Gaps) > 0 || race.Incomplete {
		t.Errorf("no host was lost, yet: lost %+v, gaps %+v, incomplete %v", race.LostHosts, race.Gaps, race.Incomplete)
	}
	checkHostRequests(t, race, completedLong, "h1", "h2", "h3")
	short := race.HostRequests[completedShort]
	var shortHosts []string
	var shortSum int64
	for h, n := range short {
		shortSum += n
		if n > 0 {
			shortHosts = append(shortHosts, h)
		}
	}
	sort.Strings(shortHosts)
	if len(shortHosts) != 1 || shortSum != shortIterations {
		t.Errorf("host-requests of %s: %v, want its %d iterations on the one host of its one client", completedShort, short, shortIterations)
	} else {
		checkHostRequests(t, race, completedShort, shortHosts...)
	}

	u.must("down")
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
}

// TestRaceRefusesMissingLoadDrivers: with one of three load drivers
// unreachable, a race is refused, naming it, unless --min-load-drivers
// allows running on the two that remain.
func TestRaceRefusesMissingLoadDrivers(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	upCluster(t, u, l)

	if err := l.Cut("h3"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Heal("h3") })
	eventually(t, 20*time.Second, "h3 lost after the cut", func() (bool, string) {
		h3 := u.hostViews()["h3"]
		return h3.Phase == "lost", h3.String()
	})

	args := []string{"race", "--track-path", spreadTrack, "--target-hosts", target,
		"--track-params", "clients:3,period:5,rate:30", "--report-format", "json"}
	refused := u.rally(args...)
	if refused.code == 0 || !strings.Contains(refused.stdout+refused.stderr, "h3") {
		t.Errorf("race with h3 unreachable should be refused naming h3: %s", refused)
	} else {
		t.Logf("refused (exit %d): %s", refused.code, strings.TrimSpace(refused.stderr))
	}
	// Refused means no load was run: a race saved by it measured nothing.
	var listed []*report.Race
	if err := json.Unmarshal([]byte(u.must("list", "races", "--json").stdout), &listed); err != nil {
		t.Fatalf("list races: %v", err)
	}
	for _, race := range listed {
		if race.Status == report.StatusCompleted || len(race.HostRequests) > 0 {
			t.Errorf("the refused race ran: %s %s, host-requests %v", race.ID, race.Status, race.HostRequests)
		}
	}

	r := u.rally(append(args, "--min-load-drivers", "2")...)
	if r.code != 0 {
		t.Fatalf("race with --min-load-drivers 2: %s", r)
	}
	race := savedRace(t, u, r)
	if race.Status != report.StatusCompleted {
		t.Errorf("status %s (%s), want completed", race.Status, race.Error)
	}
	if hosts := slices.Sorted(slices.Values(race.Hosts)); !slices.Equal(hosts, []string{"h1", "h2"}) {
		t.Errorf("hosts %v, want h1 and h2", race.Hosts)
	}
	checkHostRequests(t, race, spreadTask, "h1", "h2")

	if err := l.Heal("h3"); err != nil {
		t.Fatal(err)
	}
	downAndCheckClean(t, u, l)
}
