package provision

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"rally/gitrepo/gittest"
)

func TestDefaultTeamCars(t *testing.T) {
	team, err := DefaultTeam()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range team.Cars() {
		names = append(names, c.Name+":"+string(c.Type))
		if c.Description == "" {
			t.Errorf("car %s has no description", c.Name)
		}
	}
	want := []string{"defaults:car", "1gheap:mixin", "2gheap:mixin", "4gheap:mixin", "8gheap:mixin", "16gheap:mixin",
		"ea:mixin", "g1gc:mixin", "lean-watermarks:mixin", "parallelgc:mixin", "zgc:mixin"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("cars = %v, want %v", names, want)
	}
	if team.Dir != "" {
		t.Errorf("Dir = %q, want empty for the embedded team", team.Dir)
	}
}

func TestNaturalLess(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"2gheap", "16gheap", true}, {"16gheap", "2gheap", false}, {"ea", "g1gc", true},
		{"a", "ab", true}, {"x02", "x2", false}, {"x2", "x02", false}, {"same", "same", false},
	} {
		if got := naturalLess(tt.a, tt.b); got != tt.want {
			t.Errorf("naturalLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// gitRepo makes a git repository in a temp dir holding the test team and
// returns its path and the commit of each of its two revisions: v1 with
// base.ini's color red, v2 (on main, also tagged v2) with blue.
func gitRepo(t *testing.T) (dir, first, second string) {
	t.Helper()
	dir = t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		return gittest.Git(t, dir, args...)
	}
	run("init", "--quiet", "--initial-branch=main")
	writeFiles(t, dir, map[string]string{
		"cars/v1/base.ini":                           "[meta]\ndescription = first\n[config]\nbase = plain\n[variables]\ncolor = red\n",
		"cars/v1/plain/templates/config/jvm.options": "color={{ color }}\n",
	})
	run("add", ".")
	run("commit", "--quiet", "-m", "first")
	first = run("rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"cars/v1/base.ini": "[meta]\ndescription = second\n[config]\nbase = plain\n[variables]\ncolor = blue\n"})
	run("commit", "--quiet", "-am", "second")
	run("tag", "v2")
	second = run("rev-parse", "HEAD")
	return dir, first, second
}

func TestCloneTeam(t *testing.T) {
	repo, first, second := gitRepo(t)
	cache := t.TempDir()
	ctx := context.Background()
	description := func(dir string) string {
		t.Helper()
		team, err := LoadTeam(dir)
		if err != nil {
			t.Fatal(err)
		}
		return team.Cars()[0].Description
	}
	tests := []struct {
		name, url, revision, want string
	}{
		{"default_branch_on_first_clone", repo, "", "second"},
		{"a_commit", repo, first, "first"},
		{"a_branch_after_fetch", repo, "main", "second"},
		{"a_tag", repo, "v2", "second"},
		{"a_short_commit", repo, first[:10], "first"},
		{"a_file_url_is_another_cache", "file://" + repo, second, "second"},
	}
	var dirs []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := CloneTeam(ctx, tt.url, tt.revision, cache)
			if err != nil {
				t.Fatal(err)
			}
			if got := description(dir); got != tt.want {
				t.Errorf("description = %q, want %q", got, tt.want)
			}
			dirs = append(dirs, dir)
		})
	}
	if len(dirs) == len(tests) && (dirs[0] != dirs[3] || dirs[0] == dirs[5]) {
		t.Errorf("cache dirs %v: want one per repository URL", dirs)
	}

	t.Run("unknown_revision", func(t *testing.T) {
		_, err := CloneTeam(ctx, repo, "no-such-branch", cache)
		if err == nil || !strings.Contains(err.Error(), `revision "no-such-branch": not a branch, tag or commit`) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("clone_failure_shows_git_output", func(t *testing.T) {
		_, err := CloneTeam(ctx, filepath.Join(t.TempDir(), "missing"), "", cache)
		if err == nil || !strings.Contains(err.Error(), "clone: git clone: exit status 128: fatal:") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("revision_like_an_option", func(t *testing.T) {
		_, err := CloneTeam(ctx, repo, "--upload-pack=x", cache)
		if err == nil || !strings.Contains(err.Error(), "must not start with '-'") {
			t.Fatalf("error = %v", err)
		}
	})
}
