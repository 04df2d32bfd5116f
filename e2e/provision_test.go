package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFromDistributionRefusals: what would go wrong is refused before any
// node starts or anything is unpacked: a root user with no --run-as, a
// downloaded archive whose sha512 is not the one given. The same download
// with the sum its server publishes races.
func TestFromDistributionRefusals(t *testing.T) {
	e := realEngines[0] // OpenSearch 2.19.1: the quickest to start
	zipPath := requireEngine(t, e)
	u := newUser(t)

	if os.Geteuid() == 0 {
		r := u.rally("race", "--distribution-path", zipPath, "--track-path", "testdata/tracks/engine")
		if r.code == 0 || !strings.Contains(r.stderr, "refuse") || !strings.Contains(r.stderr, "--run-as") {
			t.Errorf("root without --run-as: %s", r)
		}
		if left, _ := filepath.Glob(filepath.Join(u.home, "local", "*", "*")); len(left) > 0 {
			t.Errorf("something was installed before the refusal: %v", left)
		}
	}

	url := serveArchive(t, "127.0.0.1", zipPath)
	args := []string{"race", "--distribution-url", url, "--track-path", "testdata/tracks/engine", "--report-format", "json"}
	if os.Geteuid() == 0 {
		ensureNodeUser(t)
		args = append(args, "--run-as", nodeUser)
	}
	wrong := strings.Repeat("ab", 64)
	r := u.rally(append(args, "--distribution-sha512", wrong)...)
	if r.code == 0 || !strings.Contains(r.stderr, wrong[:16]) {
		t.Errorf("a wrong sha512 was not refused: %s", r)
	}
	if left, _ := filepath.Glob(filepath.Join(u.home, "cache", "distributions", "*")); len(left) > 0 {
		t.Errorf("a download with a wrong sha512 was kept: %v", left)
	}
	r = u.rally(args...)
	if r.code != 0 {
		t.Fatalf("race from a download checked against URL.sha512: %s", r)
	}
	if race := raceJSON(t, r); race.Status != "completed" || race.DistributionVersion != e.version {
		t.Errorf("race: status %s (%s), version %s", race.Status, race.Error, race.DistributionVersion)
	}
}

// TestTeamRepository: cars come from a team in a git repository at a
// revision; `rally list cars` lists that revision's cars and mixins.
func TestTeamRepository(t *testing.T) {
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(repo, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("cars/v1/vanilla/templates/config/jvm.options", "-Xms{{heap_size}}\n")
	write("cars/v1/tiny.ini", "[meta]\ntype = car\ndescription = the first tiny car\n[config]\nbase = vanilla\n[variables]\nheap_size = 256m\n")
	git("add", "-A")
	git("commit", "-q", "-m", "one car")
	git("tag", "v1")
	write("cars/v1/huge.ini", "[meta]\ntype = mixin\ndescription = a later mixin\n[variables]\nheap_size = 64g\n")
	git("add", "-A")
	git("commit", "-q", "-m", "a mixin")

	u := newUser(t)
	r := u.must("list", "cars", "--team-repository", repo, "--team-revision", "v1")
	if !strings.Contains(r.stdout, "tiny") || !strings.Contains(r.stdout, "the first tiny car") || strings.Contains(r.stdout, "huge") {
		t.Errorf("cars at v1:\n%s", r.stdout)
	}
	r = u.must("list", "cars", "--team-repository", repo)
	if !strings.Contains(r.stdout, "huge") || !strings.Contains(r.stdout, "mixin") {
		t.Errorf("cars at the default branch:\n%s", r.stdout)
	}
	if r := u.rally("list", "cars", "--team-repository", repo, "--team-revision", "no-such-rev"); r.code == 0 || !strings.Contains(r.stderr, "no-such-rev") {
		t.Errorf("an unknown revision: %s", r)
	}
}
