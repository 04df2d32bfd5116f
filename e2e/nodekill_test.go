package e2e

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/provision"
	"rally/provision/enginetest"
	"rally/report"
)

// TestNodeKilledMidRace starts a real OpenSearch 2.19.1 node, races a
// 10-second throttled search against it with `--on-error continue`, and
// kills the node (SIGKILL to its process group) about 4 s into the search.
// The text report must say what happened: the search's connection errors
// named under the table with the time they began and "until the end",
// latency and service time percentiles of the successful searches only
// (the refusals have their own "error service time" rows), and a closing
// warning naming the task; race.json keeps the first and last error time
// of each type.
func TestNodeKilledMidRace(t *testing.T) {
	cl, stop := enginetest.Start(t, enginetest.Archive(t, "opensearch", "2.19.1"), enginetest.Options{Name: "rally-nodekill"})
	// The node is stopped even when the test fails before killing it, and
	// nothing of it may be left running.
	t.Cleanup(func() {
		stop()
		if pids := processesMentioning(cl.Dir()); len(pids) > 0 {
			t.Errorf("node processes still running: %v", pids)
		}
	})
	node := cl.Nodes[0]

	const task = "search-all"
	u := newUser(t)
	race := u.startRace(t, "--track-path", "testdata/tracks/paced", "--track-params", "clients:2,warmup:0,period:10,rate:200",
		"--target-hosts", cl.TargetHosts(), "--on-error", "continue", "--report-format", "text")
	// The progress prints a task's line as soon as it starts running.
	race.waitProgress(regexp.MustCompile(regexp.QuoteMeta(task)+`\s+running`), time.Minute)
	time.Sleep(4 * time.Second)
	killedAt := time.Now()
	killNode(t, node)
	t.Logf("killed %v at %s", node, killedAt.Format("15:04:05.000"))

	r := race.wait(2 * time.Minute)
	// With --on-error continue the race runs to its end; a node that is
	// gone makes no bad usage (2) of it.
	if r.code == 2 || !strings.Contains(r.stdout, "Metric") {
		t.Fatalf("race: %s", r)
	}
	t.Logf("exit %d, report:\n%s", r.code, r.stdout)
	saved := onlyRace(t, u)
	ts := taskSummary(t, saved, task)

	// race.json: the connection errors began after the kill and lasted
	// to the task's end; the successes came before it.
	conn := ts.ErrorsByType["connection"]
	span, ok := ts.ErrorTimes["connection"]
	if conn == 0 || !ok {
		t.Fatalf("race.json: %s: errors %v, error times %v: want connection errors with their times", task, ts.ErrorsByType, ts.ErrorTimes)
	}
	if span.First.Before(killedAt.Add(-time.Second)) || span.First.After(killedAt.Add(5*time.Second)) {
		t.Errorf("race.json: first connection error at %s, the node was killed at %s", span.First, killedAt)
	}
	if !span.Last.Equal(ts.End) {
		t.Errorf("race.json: last connection error at %s, the task's last response at %s: want the errors until the end", span.Last, ts.End)
	}
	if ts.Requests <= ts.Errors || ts.Latency == nil || ts.ErrorServiceTime == nil {
		t.Fatalf("race.json: %d requests, %d errors, latency %v, error service time %v: want successes and failures apart",
			ts.Requests, ts.Errors, ts.Latency, ts.ErrorServiceTime)
	}
	// A refused connection answers faster than any search; were the
	// refusals among the successes, they would pull the median down.
	if ts.ErrorServiceTime["50"] >= ts.ServiceTime["50"] {
		t.Errorf("race.json: service time p50 %.3f ms of successes, %.3f ms of failures: want the refusals faster",
			ts.ServiceTime["50"], ts.ErrorServiceTime["50"])
	}

	// The text report: the error line under the table with the clock time
	// of the first error, the success percentiles as race.json has them,
	// the failures' own rows, and the warning at the end.
	first := span.First.Local().Format("15:04:05 MST")
	line := regexp.MustCompile(regexp.QuoteMeta(task+": "+thousands(conn)+" requests failed (connection) from "+first) +
		` \(([0-9.]+) s in\) until the end`)
	m := line.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("report does not name the connection errors (want %s):\n%s", line, r.stdout)
	}
	if in, _ := strconv.ParseFloat(m[1], 64); in < 2 || in > 9 {
		t.Errorf("report: errors began %s s into the task, want about 4", m[1])
	}
	for _, row := range []struct{ metric, value string }{
		{"50th percentile latency", strconv.FormatFloat(ts.Latency["50"], 'g', 6, 64)},
		{"50th percentile service time", strconv.FormatFloat(ts.ServiceTime["50"], 'g', 6, 64)},
		{"50th percentile error service time", strconv.FormatFloat(ts.ErrorServiceTime["50"], 'g', 6, 64)},
	} {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(row.metric) + `\s+` + task + `\s+` + regexp.QuoteMeta(row.value) + `\s+ms$`)
		if !re.MatchString(r.stdout) {
			t.Errorf("report: no row %q of %s with %s ms", row.metric, task, row.value)
		}
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	warning := "Warning: 1 task had errors: " + task + " (" + thousands(ts.Errors) + " of " + thousands(ts.Requests) + " requests, "
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, warning) {
		t.Errorf("report ends with %q, want the warning %q…", last, warning)
	}
}

// killNode kills the node's processes, the launcher and the server JVM,
// with SIGKILL to their process group, as a crash or the OOM killer would,
// and waits until its HTTP port refuses connections.
func killNode(t *testing.T, n *provision.Node) {
	t.Helper()
	b, err := os.ReadFile(n.PIDFile)
	if err != nil {
		t.Fatalf("kill %v: %v", n, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("kill %v: PID file %s: %v", n, n.PIDFile, err)
	}
	pgid, err := syscall.Getpgid(pid)
	if err != nil || pgid <= 1 || pgid == syscall.Getpgrp() {
		t.Fatalf("kill %v: process group of pid %d: %d, %v", n, pid, pgid, err)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %v: process group %d: %v", n, pgid, err)
	}
	eventually(t, 10*time.Second, "the node's port refuses connections", func() (bool, string) {
		c, err := net.DialTimeout("tcp", n.HTTPAddr(), time.Second)
		if err == nil {
			c.Close()
			return false, "still accepting"
		}
		return errors.Is(err, syscall.ECONNREFUSED), err.Error()
	})
}

// onlyRace returns the one race the user ran, from its race.json.
func onlyRace(t *testing.T, u *user) *report.Race {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(u.home, "races", "*", "race.json"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("races saved: %v, %v; want one", dirs, err)
	}
	b, err := os.ReadFile(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	var r report.Race
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", dirs[0], err)
	}
	return &r
}

// thousands is n as the report prints counts: "1,234".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
