package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Options say which repository to check out where.
type Options struct {
	// Remote is the repository: a URL git understands (https://, ssh://,
	// git@host:path, file://) or a local path. A local path is cloned too,
	// never used in place.
	Remote string
	// Revision is a branch, tag or commit of Remote; empty means the
	// remote's default branch. A branch is taken from the remote (as last
	// fetched), never from a stale local branch of the same name.
	Revision string
	// Dir is the clone's directory. Its parent is created when missing.
	Dir string
	// Offline uses the clone in Dir as it is: no clone, no fetch, nothing
	// that talks to Remote. Without a clone in Dir, Sync fails with
	// ErrNotCloned.
	Offline bool
	// DiscardLocalChanges makes the checkout overwrite changes made in Dir
	// and removes every file git does not track (git clean -dfx): for a
	// cache only rally writes to. Without it a checkout that would lose a
	// local change fails, naming the files, as esrally's does.
	DiscardLocalChanges bool
	// Progress, when set, is told before a step that may take long (a
	// clone or a fetch), as a sentence.
	Progress func(msg string)
}

// Checkout is what Sync left in the clone.
type Checkout struct {
	// Dir is the clone's directory (Options.Dir).
	Dir string
	// Commit is the full hash of the commit checked out.
	Commit string
}

// ErrNotCloned is returned (wrapped) by an offline Sync when there is no
// clone yet.
var ErrNotCloned = errors.New("no clone yet")

// ErrUnknownRevision is returned (wrapped) when the revision is no branch,
// tag or commit of the repository.
var ErrUnknownRevision = errors.New("not a branch, tag or commit of the repository")

// Sync makes Dir a clone of Remote checked out at Revision: it clones when
// Dir holds nothing yet, else fetches (unless offline), then checks the
// revision out (detached, so a branch always means the remote's branch).
// Errors name the step and carry git's own output. Two processes syncing
// the same Dir take turns.
func Sync(ctx context.Context, o Options) (Checkout, error) {
	if o.Remote == "" {
		return Checkout{}, errors.New("no repository given")
	}
	if o.Dir == "" {
		return Checkout{}, errors.New("no directory for the clone")
	}
	if strings.HasPrefix(o.Revision, "-") {
		return Checkout{}, fmt.Errorf("revision %q: must not start with '-'", o.Revision)
	}
	remote := Normalize(o.Remote)
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return Checkout{}, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Checkout{}, err
	}
	waiting := func() {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf("waiting for another rally process to finish with %s", dir))
		}
	}
	unlock, err := lock(ctx, filepath.Join(parent, "."+filepath.Base(dir)+".lock"), waiting)
	if err != nil {
		return Checkout{}, err
	}
	defer unlock()

	g := runner{dir: dir}
	cloned, err := isClone(dir)
	if err != nil {
		return Checkout{}, err
	}
	switch {
	case !cloned && o.Offline:
		return Checkout{}, fmt.Errorf("offline: %w of %s in %s", ErrNotCloned, remote, dir)
	case !cloned:
		if o.Progress != nil {
			o.Progress(fmt.Sprintf("cloning %s into %s", remote, dir))
		}
		if err := clone(ctx, remote, dir); err != nil {
			return Checkout{}, fmt.Errorf("clone: %w", err)
		}
	default:
		if _, err := g.run(ctx, "rev-parse", "--git-dir"); err != nil {
			return Checkout{}, fmt.Errorf("%s is not a usable git clone (remove it to clone again): %w", dir, err)
		}
		if err := checkOrigin(ctx, g, remote, o.Offline); err != nil {
			return Checkout{}, err
		}
		if !o.Offline {
			if o.Progress != nil {
				o.Progress(fmt.Sprintf("fetching %s into %s", remote, dir))
			}
			if _, err := g.run(ctx, "fetch", "--quiet", "--prune", "--tags", "--force", "origin"); err != nil {
				return Checkout{}, fmt.Errorf("fetch into %s: %w", dir, err)
			}
		}
	}
	commit, err := resolveRevision(ctx, g, o.Revision, o.Offline)
	if err != nil {
		if o.Offline && errors.Is(err, ErrUnknownRevision) {
			return Checkout{}, fmt.Errorf("revision %s: %w (offline: as of the clone's last fetch)", quoteRevision(o.Revision), err)
		}
		return Checkout{}, fmt.Errorf("revision %s: %w", quoteRevision(o.Revision), err)
	}
	args := []string{"checkout", "--quiet", "--detach", commit}
	if o.DiscardLocalChanges {
		args = []string{"checkout", "--quiet", "--force", "--detach", commit}
	}
	if _, err := g.run(ctx, args...); err != nil {
		return Checkout{}, fmt.Errorf("checkout %s in %s: %w", quoteRevision(o.Revision), dir, err)
	}
	if o.DiscardLocalChanges {
		// Files left over from another revision would be read as part of
		// this one.
		if _, err := g.run(ctx, "clean", "--quiet", "-d", "--force", "-x"); err != nil {
			return Checkout{}, fmt.Errorf("clean %s: %w", dir, err)
		}
	}
	return Checkout{Dir: dir, Commit: commit}, nil
}

// isClone says whether dir holds a clone (a .git inside), and refuses a
// directory that holds something else: it may be someone's work.
func isClone(dir string) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		return true, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case len(entries) > 0:
		return false, fmt.Errorf("%s exists but is not a git repository: move it away or remove it, and a clone is made there", dir)
	}
	return false, nil
}

// clone clones remote into dir through a temporary directory beside it,
// renamed into place when complete, so that an interrupted clone never
// looks like a usable one.
func clone(ctx context.Context, remote, dir string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".clone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := (runner{}).run(ctx, "clone", "--quiet", "--no-checkout", "--", remote, tmp); err != nil {
		return err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err // isClone let only an empty directory through
	}
	return os.Rename(tmp, dir)
}

// checkOrigin refuses a clone of another repository than remote (the
// directory name of the default repository is shared, e.g. with esrally's
// clone). A repository without origin can only be used offline.
func checkOrigin(ctx context.Context, g runner, remote string, offline bool) error {
	out, err := g.run(ctx, "config", "--get", "remote.origin.url")
	origin := strings.TrimSpace(out)
	switch {
	case err != nil && offline:
		return nil // a repository of its own, as esrally allows offline
	case err != nil:
		return fmt.Errorf("%s has no remote \"origin\" to fetch %s from: use it offline, or remove it to clone again", g.dir, remote)
	case sameRemote(origin, remote):
		return nil
	}
	return fmt.Errorf("%s is a clone of %s, not of %s: remove it to clone again, or name %s as the repository", g.dir, origin, remote, origin)
}

// resolveRevision turns a revision into a commit: a branch of the remote
// first (so a fetched branch is never shadowed by a stale local one), then
// a tag or commit. The default branch is the remote's HEAD, asked for
// again unless offline; offline, a clone that never knew it (a local
// repository of its own) uses what is checked out.
func resolveRevision(ctx context.Context, g runner, revision string, offline bool) (string, error) {
	if revision == "" {
		if !offline {
			if _, err := g.run(ctx, "remote", "set-head", "origin", "--auto"); err != nil {
				return "", fmt.Errorf("find the remote's default branch: %w", err)
			}
		}
		if out, err := g.run(ctx, "rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD^{commit}"); err == nil {
			return strings.TrimSpace(out), nil
		}
		if offline {
			if out, err := g.run(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"); err == nil {
				return strings.TrimSpace(out), nil
			}
		}
		return "", errors.New("the repository has no default branch: give a revision")
	}
	if out, err := g.run(ctx, "rev-parse", "--verify", "--quiet", "refs/remotes/origin/"+revision+"^{commit}"); err == nil {
		return strings.TrimSpace(out), nil
	}
	out, err := g.run(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", revision+"^{commit}")
	if err != nil {
		return "", ErrUnknownRevision
	}
	return strings.TrimSpace(out), nil
}

func quoteRevision(r string) string {
	if r == "" {
		return "(default branch)"
	}
	return fmt.Sprintf("%q", r)
}
