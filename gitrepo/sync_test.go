package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"rally/gitrepo/gittest"
)

// origin is a local git repository standing in for a remote one.
type origin struct {
	t   *testing.T
	dir string
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{t: t, dir: filepath.Join(t.TempDir(), "tracks")}
	if err := os.Mkdir(o.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o.git("init", "--quiet", "--initial-branch=main")
	return o
}

func (o *origin) git(args ...string) string {
	o.t.Helper()
	return gittest.Git(o.t, o.dir, args...)
}

// commit writes version into the file "version" and commits it,
// returning the commit's hash.
func (o *origin) commit(version string) string {
	o.t.Helper()
	if err := os.WriteFile(filepath.Join(o.dir, "version"), []byte(version), 0o644); err != nil {
		o.t.Fatal(err)
	}
	o.git("add", "-A")
	o.git("commit", "--quiet", "-m", version)
	return o.git("rev-parse", "HEAD")
}

func version(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "version"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSync(t *testing.T) {
	ctx := context.Background()
	o := newOrigin(t)
	first := o.commit("one")
	o.git("tag", "v1")
	o.git("checkout", "--quiet", "-b", "old")
	o.commit("old-branch")
	o.git("checkout", "--quiet", "main")
	second := o.commit("two")
	clone := filepath.Join(t.TempDir(), "clones", "tracks")

	tests := []struct {
		name, revision, want, commit string
	}{
		{"default_branch_on_first_clone", "", "two", second},
		{"a_branch", "old", "old-branch", ""},
		{"a_tag", "v1", "one", first},
		{"a_commit", first, "one", first},
		{"a_short_commit", first[:8], "one", first},
		{"the_default_branch_again", "", "two", second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			co, err := Sync(ctx, Options{Remote: o.dir, Revision: tt.revision, Dir: clone})
			if err != nil {
				t.Fatal(err)
			}
			if co.Dir != clone {
				t.Errorf("dir = %s, want %s", co.Dir, clone)
			}
			if got := version(t, clone); got != tt.want {
				t.Errorf("checked out %q, want %q", got, tt.want)
			}
			if tt.commit != "" && co.Commit != tt.commit {
				t.Errorf("commit = %s, want %s", co.Commit, tt.commit)
			}
		})
	}

	t.Run("update_after_a_new_commit", func(t *testing.T) {
		third := o.commit("three")
		o.git("checkout", "--quiet", "old")
		o.commit("old-branch-2")
		o.git("checkout", "--quiet", "main")
		var said []string
		co, err := Sync(ctx, Options{Remote: o.dir, Dir: clone, Progress: func(m string) { said = append(said, m) }})
		if err != nil {
			t.Fatal(err)
		}
		if got := version(t, clone); got != "three" || co.Commit != third {
			t.Errorf("checked out %q (%s), want three (%s)", got, co.Commit, third)
		}
		if len(said) != 1 || !strings.HasPrefix(said[0], "fetching "+o.dir) {
			t.Errorf("progress = %q, want one fetch", said)
		}
		// A stale local branch of the same name must not win over the
		// remote's: the clone has a local "main" from the first clone.
		if _, err := Sync(ctx, Options{Remote: o.dir, Revision: "old", Dir: clone}); err != nil {
			t.Fatal(err)
		}
		if got := version(t, clone); got != "old-branch-2" {
			t.Errorf("branch old: checked out %q, want the fetched old-branch-2", got)
		}
	})

	t.Run("unknown_revision", func(t *testing.T) {
		_, err := Sync(ctx, Options{Remote: o.dir, Revision: "no-such-branch", Dir: clone})
		if !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), `revision "no-such-branch": not a branch, tag or commit`) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("revision_like_an_option", func(t *testing.T) {
		_, err := Sync(ctx, Options{Remote: o.dir, Revision: "--upload-pack=x", Dir: clone})
		if err == nil || !strings.Contains(err.Error(), "must not start with '-'") {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestSyncOffline(t *testing.T) {
	ctx := context.Background()
	o := newOrigin(t)
	o.commit("one")
	o.git("tag", "v1")
	o.commit("two")
	clone := filepath.Join(t.TempDir(), "tracks")

	t.Run("without_a_clone_fails_with_ErrNotCloned", func(t *testing.T) {
		_, err := Sync(ctx, Options{Remote: o.dir, Dir: clone, Offline: true})
		if !errors.Is(err, ErrNotCloned) || !strings.Contains(err.Error(), clone) {
			t.Fatalf("error = %v", err)
		}
		if _, err := os.Stat(clone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("offline made %s: %v", clone, err)
		}
	})

	if _, err := Sync(ctx, Options{Remote: o.dir, Dir: clone}); err != nil {
		t.Fatal(err)
	}
	o.commit("three")
	o.git("tag", "v3")
	// The remote is gone: any git command that talks to it would fail.
	gone := o.dir + ".gone"
	if err := os.Rename(o.dir, gone); err != nil {
		t.Fatal(err)
	}

	t.Run("uses_the_clone_as_it_is", func(t *testing.T) {
		co, err := Sync(ctx, Options{Remote: o.dir, Dir: clone, Offline: true, Progress: func(m string) { t.Errorf("progress %q offline", m) }})
		if err != nil {
			t.Fatal(err)
		}
		if got := version(t, co.Dir); got != "two" {
			t.Errorf("checked out %q, want two (as last fetched)", got)
		}
	})
	t.Run("checks_out_a_revision_of_the_clone", func(t *testing.T) {
		if _, err := Sync(ctx, Options{Remote: o.dir, Revision: "v1", Dir: clone, Offline: true}); err != nil {
			t.Fatal(err)
		}
		if got := version(t, clone); got != "one" {
			t.Errorf("checked out %q, want one", got)
		}
	})
	t.Run("a_revision_never_fetched_is_unknown", func(t *testing.T) {
		_, err := Sync(ctx, Options{Remote: o.dir, Revision: "v3", Dir: clone, Offline: true})
		if !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), "offline") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("online_the_missing_remote_fails_the_fetch", func(t *testing.T) {
		_, err := Sync(ctx, Options{Remote: o.dir, Dir: clone})
		if err == nil || !strings.Contains(err.Error(), "fetch into "+clone+": git fetch: exit status") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("a_repository_without_origin", func(t *testing.T) {
		own := newOrigin(t)
		own.commit("mine")
		if _, err := Sync(ctx, Options{Remote: "https://example.org/tracks", Dir: own.dir, Offline: true}); err != nil {
			t.Fatalf("offline: %v", err)
		}
		if got := version(t, own.dir); got != "mine" {
			t.Errorf("checked out %q, want mine", got)
		}
		_, err := Sync(ctx, Options{Remote: "https://example.org/tracks", Dir: own.dir})
		if err == nil || !strings.Contains(err.Error(), `has no remote "origin"`) {
			t.Fatalf("online: error = %v", err)
		}
	})
}

func TestSyncBroken(t *testing.T) {
	ctx := context.Background()
	o := newOrigin(t)
	o.commit("one")

	t.Run("not_a_repository", func(t *testing.T) {
		_, err := Sync(ctx, Options{Remote: filepath.Join(t.TempDir(), "missing"), Dir: filepath.Join(t.TempDir(), "c")})
		if err == nil || !strings.Contains(err.Error(), "clone: git clone: exit status 128: fatal:") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("a_broken_clone", func(t *testing.T) {
		clone := filepath.Join(t.TempDir(), "c")
		if _, err := Sync(ctx, Options{Remote: o.dir, Dir: clone}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clone, ".git", "HEAD"), []byte("garbage\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Sync(ctx, Options{Remote: o.dir, Dir: clone})
		if err == nil || !strings.Contains(err.Error(), clone+" is not a usable git clone (remove it to clone again): git rev-parse:") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("a_broken_clone_inside_another_repository_stays_broken", func(t *testing.T) {
		// git would otherwise find the enclosing repository and work on it.
		outer := newOrigin(t)
		outer.commit("outer")
		clone := filepath.Join(outer.dir, "c")
		if _, err := Sync(ctx, Options{Remote: o.dir, Dir: clone, DiscardLocalChanges: true}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clone, ".git", "HEAD"), []byte("garbage\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Sync(ctx, Options{Remote: o.dir, Dir: clone, DiscardLocalChanges: true}); err == nil {
			t.Fatal("no error")
		}
		if got := version(t, outer.dir); got != "outer" {
			t.Errorf("the enclosing repository changed: %q", got)
		}
	})
	t.Run("a_directory_that_is_no_clone_is_left_alone", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "mine.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Sync(ctx, Options{Remote: o.dir, Dir: dir})
		if err == nil || !strings.Contains(err.Error(), "exists but is not a git repository") {
			t.Fatalf("error = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "mine.json")); err != nil {
			t.Errorf("the directory's file is gone: %v", err)
		}
	})
	t.Run("an_empty_directory_is_cloned_into", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Sync(ctx, Options{Remote: o.dir, Dir: dir}); err != nil {
			t.Fatal(err)
		}
		if got := version(t, dir); got != "one" {
			t.Errorf("checked out %q", got)
		}
	})
	t.Run("a_clone_of_another_repository", func(t *testing.T) {
		other := newOrigin(t)
		other.commit("other")
		clone := filepath.Join(t.TempDir(), "c")
		if _, err := Sync(ctx, Options{Remote: other.dir, Dir: clone}); err != nil {
			t.Fatal(err)
		}
		_, err := Sync(ctx, Options{Remote: o.dir, Dir: clone})
		if err == nil || !strings.Contains(err.Error(), "is a clone of "+other.dir+", not of "+o.dir) {
			t.Fatalf("error = %v", err)
		}
		// The same remote written with .git and a slash is the same.
		if _, err := Sync(ctx, Options{Remote: other.dir + ".git/", Dir: clone}); err != nil && strings.Contains(err.Error(), "is a clone of") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestSyncLocalChanges(t *testing.T) {
	ctx := context.Background()
	o := newOrigin(t)
	o.commit("one")
	o.git("tag", "v1")
	o.commit("two")

	t.Run("are_kept_and_named_by_default", func(t *testing.T) {
		clone := filepath.Join(t.TempDir(), "c")
		if _, err := Sync(ctx, Options{Remote: o.dir, Dir: clone}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clone, "version"), []byte("edited"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Sync(ctx, Options{Remote: o.dir, Revision: "v1", Dir: clone})
		if err == nil || !strings.Contains(err.Error(), `checkout "v1" in `+clone) || !strings.Contains(err.Error(), "version") {
			t.Fatalf("error = %v", err)
		}
		if got := version(t, clone); got != "edited" {
			t.Errorf("the local change is gone: %q", got)
		}
	})
	t.Run("are_discarded_when_asked", func(t *testing.T) {
		clone := filepath.Join(t.TempDir(), "c")
		if _, err := Sync(ctx, Options{Remote: o.dir, Dir: clone, DiscardLocalChanges: true}); err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"version": "edited", "left-over.json": "{}"} {
			if err := os.WriteFile(filepath.Join(clone, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Sync(ctx, Options{Remote: o.dir, Revision: "v1", Dir: clone, DiscardLocalChanges: true}); err != nil {
			t.Fatal(err)
		}
		if got := version(t, clone); got != "one" {
			t.Errorf("checked out %q, want one", got)
		}
		if _, err := os.Stat(filepath.Join(clone, "left-over.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("an untracked file survived: %v", err)
		}
	})
}

func TestSyncIgnoresGitEnvironment(t *testing.T) {
	// Inside a git hook GIT_DIR points at the hook's repository; the clone
	// must still be the one synced.
	o := newOrigin(t)
	o.commit("one")
	other := newOrigin(t)
	other.commit("other")
	t.Setenv("GIT_DIR", filepath.Join(other.dir, ".git"))
	clone := filepath.Join(t.TempDir(), "c")
	if _, err := Sync(context.Background(), Options{Remote: o.dir, Dir: clone}); err != nil {
		t.Fatal(err)
	}
	if got := version(t, clone); got != "one" {
		t.Errorf("checked out %q, want one", got)
	}
}

func TestSyncConcurrently(t *testing.T) {
	o := newOrigin(t)
	o.commit("one")
	o.git("tag", "v1")
	o.commit("two")
	clone := filepath.Join(t.TempDir(), "c")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Sync(context.Background(), Options{Remote: o.dir, Dir: clone, Revision: []string{"", "v1"}[i%2]})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("sync %d: %v", i, err)
		}
	}
}

func TestDirName(t *testing.T) {
	tests := []struct{ remote, prefix string }{
		{"https://github.com/elastic/rally-tracks", "rally-tracks-"},
		{"https://github.com/elastic/rally-teams.git", "rally-teams-"},
		{"git@github.com:elastic/rally-tracks.git/", "rally-tracks-"},
		{"/srv/git/my tracks", "my_tracks-"},
		{"/", "repository-"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := DirName(tt.remote)
		if !strings.HasPrefix(got, tt.prefix) || len(got) != len(tt.prefix)+12 {
			t.Errorf("DirName(%q) = %q, want %s and 12 hex digits", tt.remote, got, tt.prefix)
		}
		if seen[got] {
			t.Errorf("DirName(%q) = %q twice", tt.remote, got)
		}
		seen[got] = true
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if DirName("testdata/x") != DirName(filepath.Join(wd, "testdata/x")) {
		t.Error("a relative path and its absolute path name different clones")
	}
}

func TestIsURL(t *testing.T) {
	for remote, want := range map[string]bool{
		"https://github.com/elastic/rally-tracks": true,
		"file:///srv/git/tracks":                  true,
		"git@github.com:elastic/rally-tracks.git": true,
		"host:tracks":     true,
		"/srv/git/tracks": false,
		"./tracks":        false,
		"tracks":          false,
		"./a:b":           false,
	} {
		if got := IsURL(remote); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", remote, got, want)
		}
	}
}
