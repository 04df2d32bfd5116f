package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rally/gitrepo/gittest"
)

// runIn runs the CLI in this process, as a user would with RALLY_HOME set
// to home.
func runIn(t *testing.T, home string, args ...string) result {
	t.Helper()
	t.Setenv("RALLY_HOME", home)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// trackRepository makes a git repository of tracks: geonames and nested
// from rally-tracks and a track that does not load, tagged v1, then a
// later commit adding the track "later". It returns the repository and
// its commit at v1.
func trackRepository(t *testing.T) (repo, v1 string) {
	t.Helper()
	repo = filepath.Join(t.TempDir(), "my-tracks")
	for _, name := range []string{"geonames", "nested"} {
		gittest.CopyTree(t, filepath.Join("..", "..", "track", "testdata", "rally-tracks", name), filepath.Join(repo, name))
	}
	writeTeamFile(t, filepath.Join(repo, "broken", "track.json"), `{"version": 2, "challenges": [}`)
	gittest.Git(t, repo, "init", "--quiet", "--initial-branch=main")
	gittest.Git(t, repo, "add", "-A")
	gittest.Git(t, repo, "commit", "--quiet", "-m", "tracks")
	gittest.Git(t, repo, "tag", "v1")
	v1 = gittest.Git(t, repo, "rev-parse", "HEAD")
	writeTeamFile(t, filepath.Join(repo, "later", "track.json"), `{"version": 2, "description": "added later", "schedule": [{"operation": {"operation-type": "refresh"}}]}`)
	gittest.Git(t, repo, "add", "-A")
	gittest.Git(t, repo, "commit", "--quiet", "-m", "later")
	return repo, v1
}

func TestListTracks(t *testing.T) {
	repo, v1 := trackRepository(t)
	home := t.TempDir()

	t.Run("a_table_of_the_default_branch", func(t *testing.T) {
		r := runIn(t, home, "list", "tracks", "--track-repository", repo)
		if r.code != 0 {
			t.Fatalf("want exit 0, got %s", r)
		}
		if !strings.HasPrefix(r.stderr, "track repository: cloning "+repo+" into "+filepath.Join(home, "benchmarks", "tracks")) {
			t.Errorf("stderr does not say it clones:\n%s", r.stderr)
		}
		lines := strings.Split(r.stdout, "\n")
		if !strings.HasPrefix(lines[0], "Tracks of track repository "+repo+" at ") || !strings.HasPrefix(lines[2], "NAME ") {
			t.Fatalf("unexpected head:\n%s", r.stdout)
		}
		want := []string{
			"broken - - (does not load: see below) -",
			"geonames 11,396,503 missing POIs from Geonames append-no-conflicts (default), append-no-conflicts-index-only, ",
			"later 0 none added later default",
			"nested 11,203,029 missing StackOverflow Q&A stored as nested docs nested-search-challenge (default), index-only",
		}
		for i, w := range want {
			if line := strings.Join(strings.Fields(lines[3+i]), " "); !strings.HasPrefix(line, w) {
				t.Errorf("line %d = %q, want %q...", i, line, w)
			}
		}
		if !strings.Contains(r.stdout, "\nbroken does not load: ") || !strings.Contains(r.stdout, filepath.Join("broken", "track.json")) {
			t.Errorf("the broken track's error is not shown:\n%s", r.stdout)
		}
	})
	t.Run("json_at_a_tag_after_a_fetch", func(t *testing.T) {
		r := runIn(t, home, "list", "tracks", "--track-repository", repo, "--track-revision", "v1", "--json")
		if r.code != 0 {
			t.Fatalf("want exit 0, got %s", r)
		}
		if !strings.HasPrefix(r.stderr, "track repository: fetching "+repo) {
			t.Errorf("stderr does not say it fetches:\n%s", r.stderr)
		}
		var got listTracksJSON
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("%v in:\n%s", err, r.stdout)
		}
		if got.Repository != repo || got.Revision != v1 || !strings.HasPrefix(got.Dir, filepath.Join(home, "benchmarks", "tracks", "my-tracks-")) {
			t.Errorf("repository %s at %s in %s", got.Repository, got.Revision, got.Dir)
		}
		if len(got.Tracks) != 3 {
			t.Fatalf("want 3 tracks at v1, got %+v", got.Tracks)
		}
		geo := got.Tracks[1]
		if geo.Name != "geonames" || geo.DefaultChallenge != "append-no-conflicts" || !strings.Contains(geo.Description, "Geonames") ||
			len(geo.Corpora) != 1 || geo.Corpora[0].Present || geo.Error != "" {
			t.Errorf("geonames: %+v", geo)
		}
		if got.Tracks[0].Name != "broken" || got.Tracks[0].Error == "" {
			t.Errorf("broken: %+v", got.Tracks[0])
		}
	})
	t.Run("offline_uses_the_clone", func(t *testing.T) {
		r := runIn(t, home, "list", "tracks", "--track-repository", repo, "--offline")
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "\nlater ") {
			t.Errorf("want exit 0, the default branch and nothing on stderr, got %s", r)
		}
	})
	t.Run("offline_without_a_clone_is_bad_usage", func(t *testing.T) {
		r := runIn(t, t.TempDir(), "list", "tracks", "--track-repository", repo, "--offline")
		if r.code != 2 || !strings.Contains(r.stderr, "offline: no clone yet of "+repo) || !strings.Contains(r.stderr, "run once without --offline to clone it") {
			t.Errorf("want exit 2 and a hint, got %s", r)
		}
	})
	t.Run("unknown_revision_is_bad_usage", func(t *testing.T) {
		r := runIn(t, home, "list", "tracks", "--track-repository", repo, "--track-revision", "v9")
		if r.code != 2 || !strings.Contains(r.stderr, `rally list tracks: --track-revision: track repository `+repo+`: revision "v9": not a branch, tag or commit`) {
			t.Errorf("want exit 2, got %s", r)
		}
	})
	t.Run("a_repository_that_is_none_fails", func(t *testing.T) {
		r := runIn(t, home, "list", "tracks", "--track-repository", filepath.Join(t.TempDir(), "missing"))
		if r.code != 1 || !strings.Contains(r.stderr, "clone: git clone: exit status 128: fatal:") {
			t.Errorf("want exit 1 and git's message, got %s", r)
		}
	})
}

func TestInfoByTrackName(t *testing.T) {
	repo, _ := trackRepository(t)
	home := t.TempDir()

	// A challenge that can run (append-no-conflicts needs geonames'
	// track.py, which the copy lacks: info would exit 2 as a race would).
	byName := runIn(t, home, "info", "--track", "geonames", "--track-repository", repo, "--challenge", "append-no-conflicts-index-only")
	if byName.code != 0 {
		t.Fatalf("want exit 0, got %s", byName)
	}
	clone := filepath.Join(home, "benchmarks", "tracks")
	entries, err := os.ReadDir(clone)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) != 1 || !strings.HasPrefix(dirs[0], "my-tracks-") {
		t.Fatalf("clones under %s: %q", clone, dirs)
	}
	t.Run("works_like_track_path", func(t *testing.T) {
		byPath := runIn(t, home, "info", "--track-path", filepath.Join(clone, dirs[0], "geonames"), "--challenge", "append-no-conflicts-index-only")
		if byPath.code != 0 || byPath.stdout != byName.stdout {
			t.Errorf("--track-path gives:\n%s\n--track gives:\n%s", byPath, byName)
		}
		if !strings.Contains(byName.stdout, "geonames") || !strings.Contains(byName.stdout, "append-no-conflicts") {
			t.Errorf("no description:\n%s", byName.stdout)
		}
	})
	t.Run("json_offline", func(t *testing.T) {
		r := runIn(t, home, "info", "--track", "later", "--track-repository", repo, "--offline", "--json")
		var d struct{ Name, Description string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &d) != nil || d.Name != "later" || d.Description != "added later" {
			t.Errorf("want exit 0 and the track as JSON, got %s", r)
		}
	})
	t.Run("unknown_track_suggests_one_and_lists_them", func(t *testing.T) {
		r := runIn(t, home, "info", "--track", "geonmaes", "--track-repository", repo, "--offline")
		want := `rally info: --track geonmaes: no such track in track repository ` + repo + ` at `
		if r.code != 2 || !strings.HasPrefix(r.stderr, want) ||
			!strings.HasSuffix(r.stderr, `: did you mean "geonames"? Its tracks: broken, geonames, later, nested`+"\n") {
			t.Errorf("want exit 2 and %q..., got %s", want, r)
		}
	})
	t.Run("a_track_that_does_not_load_is_bad_input", func(t *testing.T) {
		r := runIn(t, home, "info", "--track", "broken", "--track-repository", repo, "--offline")
		if r.code != 2 || !strings.Contains(r.stderr, filepath.Join("broken", "track.json")) {
			t.Errorf("want exit 2 naming the file, got %s", r)
		}
	})
	t.Run("repository_flags_with_track_path_are_bad_usage", func(t *testing.T) {
		r := runIn(t, home, "info", "--track-path", filepath.Join(clone, dirs[0], "geonames"), "--track-repository", repo)
		if r.code != 2 || !strings.Contains(r.stderr, "they mean nothing with --track-path") {
			t.Errorf("want exit 2, got %s", r)
		}
	})
	t.Run("no_track_is_bad_usage", func(t *testing.T) {
		r := runIn(t, home, "info")
		if r.code != 2 || !strings.Contains(r.stderr, "no track: give --track NAME") {
			t.Errorf("want exit 2, got %s", r)
		}
	})
	t.Run("race_refuses_an_unknown_track_before_anything_else", func(t *testing.T) {
		r := runIn(t, home, "race", "--track", "nestd", "--track-repository", repo, "--offline", "--target-hosts", "127.0.0.1:1")
		if r.code != 2 || !strings.Contains(r.stderr, `did you mean "nested"?`) {
			t.Errorf("want exit 2, got %s", r)
		}
	})
}
