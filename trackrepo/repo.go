package trackrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"rally/gitrepo"
	"rally/spelling"
)

// DefaultURL is the repository esrally takes tracks from unless told
// otherwise.
const DefaultURL = "https://github.com/elastic/rally-tracks"

// DefaultName is the default repository's name, as in esrally: its
// directory under the tracks root, and what --track-repository may say
// for it.
const DefaultName = "default"

// Source says which track repository to use and how.
type Source struct {
	// Repository is a git URL or a local path of a git repository; empty
	// or DefaultName means DefaultURL.
	Repository string
	// Revision is a branch, tag or commit; empty means the repository's
	// default branch.
	Revision string
	// Offline uses the clone as it is, never talking to the repository.
	Offline bool
}

// Repo is a track repository checked out on this machine.
type Repo struct {
	// Name is the clone's directory name under the tracks root:
	// DefaultName for the default repository (esrally's directory, so an
	// esrally clone is used as it is), else the repository's base name and
	// a hash of its URL.
	Name string
	// URL is the repository (a local path made absolute).
	URL string
	// Dir is the clone.
	Dir string
	// Commit is the commit checked out.
	Commit string
}

// ErrUnknownTrack is returned (wrapped) by TrackDir for a name that is no
// track of the repository.
var ErrUnknownTrack = errors.New("no such track")

// Open checks the repository out under root (rally's
// ~/.rally/benchmarks/tracks): a clone on first use, a fetch on later ones
// (none offline), then the revision. It never edits what is in the clone:
// a checkout that would lose a local change fails. progress, when set, is
// told before a clone or fetch. Errors wrap gitrepo's ErrNotCloned and
// ErrUnknownRevision.
func Open(ctx context.Context, root string, src Source, progress func(string)) (*Repo, error) {
	url, name := resolve(src.Repository)
	r := &Repo{Name: name, URL: url, Dir: filepath.Join(root, name)}
	co, err := gitrepo.Sync(ctx, gitrepo.Options{Remote: url, Revision: src.Revision, Dir: r.Dir,
		Offline: src.Offline, Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("track repository %s: %w", r, err)
	}
	r.Dir, r.Commit = co.Dir, co.Commit
	return r, nil
}

// resolve names a repository: the default one by esrally's name, any
// other by gitrepo.DirName.
func resolve(repository string) (url, name string) {
	if repository == "" || repository == DefaultName {
		return DefaultURL, DefaultName
	}
	url = gitrepo.Normalize(repository)
	if strings.TrimSuffix(strings.TrimRight(url, "/"), ".git") == DefaultURL {
		return url, DefaultName
	}
	return url, gitrepo.DirName(url)
}

// String names the repository for messages: "default (https://...)" or
// its URL.
func (r *Repo) String() string {
	if r.Name == DefaultName {
		return DefaultName + " (" + r.URL + ")"
	}
	return r.URL
}

// Short is the commit checked out, abbreviated as git does.
func (r *Repo) Short() string {
	if len(r.Commit) > 10 {
		return r.Commit[:10]
	}
	return r.Commit
}

// Tracks names the repository's tracks, sorted: every directory holding a
// track.json, by its slash path in the repository, nested ones too
// ("elastic/logs"), as esrally's track_names does. Hidden directories
// (.git, .github, ...) and the repository's top directory itself are not
// tracks.
func (r *Repo) Tracks() ([]string, error) {
	var names []string
	err := filepath.WalkDir(r.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != r.Dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if path == r.Dir {
			return nil
		}
		if fi, err := os.Stat(filepath.Join(path, "track.json")); err == nil && fi.Mode().IsRegular() {
			rel, err := filepath.Rel(r.Dir, path)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("track repository %s: %w", r, err)
	}
	sort.Strings(names)
	return names, nil
}

// TrackDir is the directory of the track called name. An unknown name is
// an error (wrapping ErrUnknownTrack) that suggests the nearest name and
// lists the repository's tracks.
func (r *Repo) TrackDir(name string) (string, error) {
	names, err := r.Tracks()
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if n == name {
			return filepath.Join(r.Dir, filepath.FromSlash(n)), nil
		}
	}
	where := fmt.Sprintf("track repository %s at %s", r, r.Short())
	if len(names) == 0 {
		return "", fmt.Errorf("%w in %s: it has no tracks (no directory with a track.json)", ErrUnknownTrack, where)
	}
	hint := ""
	if best, ok := nearest(name, names); ok {
		hint = fmt.Sprintf(": did you mean %q?", best)
	}
	return "", fmt.Errorf("%w in %s%s Its tracks: %s", ErrUnknownTrack, where, hintOrDot(hint), strings.Join(names, ", "))
}

// nearest suggests a track for a typo, or for a nested track's last part
// ("logs" for "elastic/logs") when only one track ends so.
func nearest(name string, names []string) (string, bool) {
	var byBase []string
	for _, n := range names {
		if n == name || strings.HasSuffix(n, "/"+name) {
			byBase = append(byBase, n)
		}
	}
	if len(byBase) == 1 {
		return byBase[0], true
	}
	return spelling.Nearest(name, names, max(2, len(name)/3))
}

func hintOrDot(hint string) string {
	if hint == "" {
		return "."
	}
	return hint
}
