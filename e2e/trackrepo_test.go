package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrackRepo races a track by name from a track repository (a local git
// repository, as a team's own would be) with the real binary against the
// test target: the repository is cloned under RALLY_HOME/benchmarks/tracks/,
// fetched on the next use, and --offline uses the clone as it is, at any
// revision it has.
func TestTrackRepo(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "our-tracks")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// The engine track: 1,000 documents bundled with it, so a race needs
	// no download, and --test-mode keeps the corpus whole.
	for _, f := range []string{"track.json", "index.json", "documents.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "tracks", "engine", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(repo, "engine"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, "engine", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "--initial-branch=main")
	git("add", "-A")
	git("commit", "-q", "-m", "the engine track")
	git("tag", "v1")
	first := git("rev-parse", "HEAD")

	addr := startTarget(t)
	u := newUser(t)
	race := func(args ...string) result {
		t.Helper()
		return u.must(append([]string{"race", "--track", "engine", "--track-repository", repo, "--pipeline", "benchmark-only",
			"--test-mode", "--target-hosts", addr, "--report-format", "json"}, args...)...)
	}
	r := race()
	got := raceJSON(t, r)
	if got.Status != "completed" || got.Track != "engine" || got.Challenge != "index-and-search" || got.Summary.Cluster.DocCount != 1000 {
		t.Errorf("race: status %s, track %s/%s, docs %d", got.Status, got.Track, got.Challenge, got.Summary.Cluster.DocCount)
	}
	if ts := taskSummary(t, got, "index-append"); ts.Errors != 0 || ts.Requests == 0 {
		t.Errorf("index-append: %+v", ts)
	}
	if _, err := os.Stat(filepath.Join(u.home, "races", got.ID, "race.json")); err != nil {
		t.Errorf("race.json not saved: %v", err)
	}
	tracks := filepath.Join(u.home, "benchmarks", "tracks")
	if !strings.Contains(r.stderr, "track repository: cloning "+repo+" into "+tracks) {
		t.Errorf("stderr does not say it clones:\n%s", r.stderr)
	}
	clones, err := filepath.Glob(filepath.Join(tracks, "our-tracks-*"))
	if err != nil || len(clones) != 1 {
		t.Fatalf("clones in %s: %v %v", tracks, clones, err)
	}
	clone := clones[0]
	if _, err := os.Stat(filepath.Join(clone, "engine", "track.json")); err != nil {
		t.Errorf("the clone has no engine track: %v", err)
	}
	head, err := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(head)) != first {
		t.Errorf("the clone is at %s (%v), want %s", head, err, first)
	}

	// A new commit in the repository: --offline does not see it, the next
	// use without it does.
	trackJSON := filepath.Join(repo, "engine", "track.json")
	b, err := os.ReadFile(trackJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trackJSON, []byte(strings.Replace(string(b), `"description": "A small track`, `"description": "Revised: a small track`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "-am", "a revised description")
	description := func(args ...string) string {
		t.Helper()
		var d struct{ Description string }
		r := u.must(append([]string{"info", "--track", "engine", "--track-repository", repo, "--json"}, args...)...)
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("info --json: %v\n%s", err, r.stdout)
		}
		return d.Description
	}
	if d := description("--offline"); !strings.HasPrefix(d, "A small track") {
		t.Errorf("offline: description %q, want the cloned one", d)
	}
	var listed struct {
		Revision string
		Tracks   []struct {
			Name, Description string
			Corpora           []struct{ Present bool }
		}
	}
	l := u.must("list", "tracks", "--track-repository", repo, "--json")
	if err := json.Unmarshal([]byte(l.stdout), &listed); err != nil {
		t.Fatalf("list tracks --json: %v\n%s", err, l.stdout)
	}
	if listed.Revision != git("rev-parse", "HEAD") || len(listed.Tracks) != 1 || listed.Tracks[0].Name != "engine" ||
		!strings.HasPrefix(listed.Tracks[0].Description, "Revised:") || len(listed.Tracks[0].Corpora) != 1 || !listed.Tracks[0].Corpora[0].Present {
		t.Errorf("list tracks after a new commit: %+v", listed)
	}

	// The repository is gone: offline, a race still runs from the clone, at
	// a revision it has.
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	r = race("--offline", "--track-revision", "v1")
	if got := raceJSON(t, r); got.Status != "completed" || got.Summary.Cluster.DocCount != 1000 {
		t.Errorf("offline race: status %s, docs %d", got.Status, got.Summary.Cluster.DocCount)
	}
	if strings.Contains(r.stderr, "track repository:") {
		t.Errorf("offline, yet stderr says:\n%s", r.stderr)
	}
	if r := u.rally("race", "--track", "engine", "--track-repository", repo, "--target-hosts", addr); r.code != 1 || !strings.Contains(r.stderr, "fetch into "+clone) {
		t.Errorf("online without the repository: want exit 1 and the fetch's error, got %s", r)
	}
}
