package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rally/lab"
)

// tmuxPane is the real binary running in a terminal of tmux.
type tmuxPane struct {
	t       *testing.T
	session string
}

func startTmux(t *testing.T, env []string, argv ...string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the terminal UI test (Debian package tmux; scripts/deps.sh installs it): %v", err)
	}
	p := &tmuxPane{t: t, session: fmt.Sprintf("rally-e2e-%d", time.Now().UnixNano())}
	cmd := strings.Join(append(env, argv...), " ")
	// remain-on-exit keeps the last screen readable after rally exits.
	args := []string{"new-session", "-d", "-s", p.session, "-x", "120", "-y", "40", cmd}
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	exec.Command("tmux", "set-option", "-t", p.session, "remain-on-exit", "on").Run()
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", p.session).Run() })
	return p
}

func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", p.session}, keys...)...).CombinedOutput(); err != nil {
		p.t.Fatalf("tmux send-keys %v: %v %s", keys, err, out)
	}
}

func (p *tmuxPane) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", p.session).Output()
	return string(out)
}

// waitFor waits until every text is on the screen.
func (p *tmuxPane) waitFor(max time.Duration, texts ...string) string {
	p.t.Helper()
	var s string
	eventually(p.t, max, fmt.Sprintf("screen shows %q", texts), func() (bool, string) {
		s = p.screen()
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false, "screen:\n" + s
			}
		}
		return true, ""
	})
	return s
}

// TestTUI drives `rally up` on a terminal: the UI shows the hosts join,
// the Actors tab lists them, a race started with r finishes and shows its
// report, and d tears the cluster down, leaving the lab hosts clean.
func TestTUI(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	trackDir, _ := filepath.Abs("../examples/tracks/tiny")
	p := startTmux(t, []string{"RALLY_HOME=" + u.home, "NO_COLOR=1"},
		rallyBin, "up", "-i", l.InventoryFile(), "--track-path", trackDir, "--target-hosts", target)

	s := p.waitFor(30*time.Second, "[1 Cluster]", "h1", "h2")
	eventually(t, 30*time.Second, "both hosts joined", func() (bool, string) {
		s = p.screen()
		n := 0
		for _, line := range strings.Split(s, "\n") {
			if (strings.HasPrefix(line, "h1 ") || strings.HasPrefix(line, "h2 ")) && strings.Contains(line, "joined") {
				n++
			}
		}
		return n == 2, s
	})

	p.keys("2")
	s = p.waitFor(10*time.Second, "[2 Actors]", "MEMBER")
	for _, h := range []string{"h1", "h2"} {
		found := false
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, h+" ") && strings.Contains(line, "joined") {
				found = true
			}
		}
		if !found {
			t.Errorf("Actors tab does not list %s as joined:\n%s", h, s)
		}
	}

	p.keys("3")
	p.waitFor(10*time.Second, "[3 Race]")
	p.keys("r")
	p.waitFor(90*time.Second, "completed", "REPORT", "index-append", "search-kitchen")
	// The report's task rows are below the fold at 40 lines: scroll to the
	// end (again, should the report still be growing).
	eventually(t, 15*time.Second, "report rows after scrolling", func() (bool, string) {
		p.keys("End")
		time.Sleep(200 * time.Millisecond)
		s = p.screen()
		for _, x := range []string{"Min Throughput", "99th percentile latency", "error rate"} {
			if !strings.Contains(s, x) {
				return false, s
			}
		}
		return true, ""
	})
	t.Logf("race view:\n%s", s)

	p.keys("d")
	p.waitFor(10*time.Second, "(y/n)")
	p.keys("y")
	s = p.waitFor(60*time.Second, "torn down")
	p.keys("q")
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
	eventually(t, 10*time.Second, "coordinator gone after teardown from the UI", func() (bool, string) {
		r := u.rally("status")
		return r.code == 1, r.String()
	})
}
