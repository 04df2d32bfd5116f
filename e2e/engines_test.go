package e2e

import (
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"rally/provision"
)

// enginesSkipEnv turns a missing engine archive or JDK into a skip when
// set to "skip".
const enginesSkipEnv = "RALLY_ENGINES"

// nodeUser is the unprivileged user real nodes run as when the tests run
// as root: both engines refuse to start as root. scripts/deps.sh creates
// it too.
const nodeUser = "rally-node"

// engineDocs is the number of documents in testdata/tracks/engine.
const engineDocs = 1000

// engine is one real distribution: its integ-test archive in the local
// Maven repository (scripts/engines.sh fetches them) and the lowest Java
// it runs on.
type engine struct {
	name, version string
	minJava       int
}

// realEngines are the distributions every provisioning test covers.
var realEngines = []engine{
	{"opensearch", "2.19.1", 17},
	{"elasticsearch", "7.17.28", 17},
	{"elasticsearch", "8.17.0", 17},
	{"elasticsearch", "9.2.0", 21},
	{"opensearch", "3.0.0", 21},
}

// TestFromDistribution races a small track with esrally's from-distribution
// pipeline on each real engine: `rally race --distribution-path` unpacks
// the archive on this machine, configures a node from the default team's
// car, starts it as an unprivileged user with a JDK it accepts, races it
// with the in-process load driver, stops it and keeps its logs with the
// race. Elasticsearch 8 and 9 integ-test archives answer GET / with 405,
// so the version is detected from the nodes API.
func TestFromDistribution(t *testing.T) {
	for _, e := range realEngines {
		t.Run(e.name+"-"+e.version, func(t *testing.T) {
			zipPath := requireEngine(t, e)
			u := newUser(t)
			args := []string{"race", "--distribution-path", zipPath, "--car", "defaults,lean-watermarks",
				"--track-path", "testdata/tracks/engine", "--report-format", "json",
				"--telemetry", "gc,jfr,node-stats,segment-stats", "--telemetry-params", "node-stats-sample-interval:0.5"}
			if os.Geteuid() == 0 {
				ensureNodeUser(t)
				args = append(args, "--run-as", nodeUser)
			}
			r := u.rally(args...)
			if r.code != 0 {
				t.Fatalf("race from %s %s: %s", e.name, e.version, r)
			}
			race := raceJSON(t, r)
			if race.Status != "completed" || race.Error != "" || race.Pipeline != "from-distribution" || race.Car != "defaults,lean-watermarks" {
				t.Errorf("race: status %q, error %q, pipeline %q, car %q", race.Status, race.Error, race.Pipeline, race.Car)
			}
			if race.Distribution != e.name || race.DistributionVersion != e.version {
				t.Errorf("race.json: distribution %q version %q, want %s %s", race.Distribution, race.DistributionVersion, e.name, e.version)
			}
			for _, name := range []string{"index-append", "search-kitchen"} {
				ts := taskSummary(t, race, name)
				if ts.Errors != 0 || ts.Requests == 0 {
					t.Errorf("%s: %d requests, %d errors %v", name, ts.Requests, ts.Errors, ts.ErrorsByType)
				}
			}
			// The engine's own _stats, read at the race's end.
			if race.Summary.Cluster.DocCount != engineDocs {
				t.Errorf("documents in the index: %d, want %d", race.Summary.Cluster.DocCount, engineDocs)
			}
			if host, err := os.Hostname(); err == nil {
				h := race.HostTelemetry[host]
				if len(h.Targets) != 1 || h.Host.Samples < 2 {
					t.Errorf("race.json: host telemetry of %s: %+v", host, race.HostTelemetry)
				}
				for name, p := range h.Targets {
					if p.CPUTime <= 0 || p.RSSMax == 0 {
						t.Errorf("race.json: %s's processes: %+v", name, p)
					}
				}
			}
			checkTelemetryFiles(t, filepath.Join(u.home, "races", race.ID))
			logs, _ := filepath.Glob(filepath.Join(u.home, "races", race.ID, "logs", "*", "*.log"))
			if len(logs) == 0 {
				t.Fatalf("the node's logs were not kept with the race")
			}
			// Nothing of the node is left: no directory, no process. Its
			// cluster is named after its node's log directory; the nodes
			// live under ~/.rally/local, or (this test's home is not
			// reachable by the node's user) the temporary directory.
			cluster := strings.TrimSuffix(filepath.Base(filepath.Dir(logs[0])), "-node-0")
			for _, dir := range []string{filepath.Join(u.home, "local", cluster), filepath.Join(os.TempDir(), "rally-nodes", cluster)} {
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("left behind: %s", dir)
				}
			}
			if pids := processesMentioning(cluster); len(pids) > 0 {
				t.Errorf("node processes still running: %v", pids)
			}
		})
	}
}

// checkTelemetryFiles checks what the telemetry devices gc, jfr,
// node-stats and segment-stats left in a race's directory.
func checkTelemetryFiles(t *testing.T, raceDir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(raceDir, "telemetry", "node-stats.jsonl"))
	if err != nil || !strings.Contains(string(b), `"jvm_mem_heap_used_in_bytes"`) {
		t.Errorf("node-stats: %v, %.200s", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(raceDir, "telemetry", "segment-stats.log")); err != nil || !strings.Contains(string(b), "segment") {
		t.Errorf("segment-stats: %v, %.200s", err, b)
	}
	for _, name := range []string{"gc.log", "profile.jfr"} {
		found, _ := filepath.Glob(filepath.Join(raceDir, "logs", "*", name))
		if len(found) != 1 {
			t.Errorf("%s among the node's logs: %v", name, found)
			continue
		}
		if st, err := os.Stat(found[0]); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v (size %v)", name, err, st)
		}
	}
}

// requireEngine returns the integ-test archive of e, after checking that a
// JDK it runs on is here. When either is missing the test fails saying how
// to fetch them, or is skipped with that message when RALLY_ENGINES=skip.
func requireEngine(t *testing.T, e engine) string {
	t.Helper()
	var missing []string
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	group := "org/elasticsearch/distribution/integ-test-zip/elasticsearch"
	if e.name == "opensearch" {
		group = "org/opensearch/distribution/integ-test-zip/opensearch"
	}
	zipPath := filepath.Join(home, ".m2", "repository", filepath.FromSlash(group), e.version, e.name+"-"+e.version+".zip")
	if _, err := os.Stat(zipPath); err != nil {
		missing = append(missing, "the archive "+zipPath)
	}
	if !findJDK(e.minJava) {
		missing = append(missing, fmt.Sprintf("a JDK %d or later under /usr/lib/jvm", e.minJava))
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%s %s cannot run here: missing %s (fetch with: bash scripts/engines.sh)",
			e.name, e.version, strings.Join(missing, " and "))
		if os.Getenv(enginesSkipEnv) == "skip" {
			t.Skipf("%s (skipped because %s=skip)", msg, enginesSkipEnv)
		}
		t.Fatalf("%s (set %s=skip to skip tests that need real engines)", msg, enginesSkipEnv)
	}
	return zipPath
}

// findJDK tells whether this machine has a JDK of at least version min,
// found as rally itself looks for one.
func findJDK(min int) bool {
	for _, j := range provision.FindJDKs(provision.DefaultJDKRoots("")) {
		if j.Major >= min {
			return true
		}
	}
	return false
}

// ensureNodeUser creates nodeUser as a system user without a home or login
// shell when it does not exist.
func ensureNodeUser(t *testing.T) {
	t.Helper()
	if _, err := osuser.Lookup(nodeUser); err == nil {
		return
	}
	if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", nodeUser).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v: %s", nodeUser, err, out)
	}
}

// processesMentioning lists the processes whose command line holds s.
func processesMentioning(s string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), s) {
			out = append(out, pid)
		}
	}
	return out
}
