package provision

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"rally/gitrepo"
)

// Team is a set of cars in Rally's team format: cars/v1/*.ini, and the
// base directories they name, each with a templates/ tree and optionally
// a config.ini of default variables.
type Team struct {
	// Dir is the team's directory on disk; empty for the embedded default
	// team.
	Dir string

	fsys  fs.FS
	cars  map[string]*carFile
	bases map[string]*baseDir
}

// baseDir is a parsed base directory.
type baseDir struct {
	path  string     // slash path in the team's fs, e.g. cars/v1/vanilla
	vars  []iniEntry // its config.ini [variables]
	hooks string     // its config.py, when it has one
}

// carsDir is where a team keeps its cars (Rally's TEAM_FORMAT_VERSION 1).
const carsDir = "cars/v1"

// defaultTeamFS holds the team rally ships: see teams/default.
//
//go:embed all:teams/default
var defaultTeamFS embed.FS

// LoadTeam reads the team in dir. Every car file is parsed now, so a
// mistake in any of them is reported before anything is rendered.
func LoadTeam(dir string) (*Team, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("team %s: %w", dir, err)
	}
	if st, err := os.Stat(filepath.Join(abs, filepath.FromSlash(carsDir))); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("team %s: no %s directory: not a Rally team (want cars/v1/*.ini)", dir, carsDir)
	}
	return loadTeam(os.DirFS(abs), abs)
}

// DefaultTeam returns the team embedded in rally: the cars defaults,
// 1gheap ... 16gheap, ea, g1gc, zgc, parallelgc and lean-watermarks, for
// Elasticsearch 7.17 to 9 and OpenSearch 2 and 3.
func DefaultTeam() (*Team, error) {
	sub, err := fs.Sub(defaultTeamFS, "teams/default")
	if err != nil {
		return nil, err
	}
	return loadTeam(sub, "")
}

func loadTeam(fsys fs.FS, dir string) (*Team, error) {
	t := &Team{Dir: dir, fsys: fsys, cars: map[string]*carFile{}, bases: map[string]*baseDir{}}
	entries, err := fs.ReadDir(fsys, carsDir)
	if err != nil {
		return nil, fmt.Errorf("team %s: %w", t.display(carsDir), err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".ini")
		if !ok || e.IsDir() || name == "" {
			continue
		}
		p := path.Join(carsDir, e.Name())
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("team: %w", err)
		}
		cf, err := parseCarFile(name, t.display(p), data)
		if err != nil {
			return nil, err
		}
		t.cars[name] = cf
	}
	if len(t.cars) == 0 {
		return nil, fmt.Errorf("team %s: no car files (*.ini)", t.display(carsDir))
	}
	return t, nil
}

// display names a path of the team for messages: on disk for a team
// directory, "default team: <path>" for the embedded one.
func (t *Team) display(p string) string {
	if t.Dir == "" {
		return "default team: " + p
	}
	return filepath.Join(t.Dir, filepath.FromSlash(p))
}

// Cars lists the team's cars and mixins, cars first, each group by name
// as Rally's list cars, numbers by value (2gheap before 16gheap).
func (t *Team) Cars() []CarInfo {
	out := make([]CarInfo, 0, len(t.cars))
	for _, cf := range t.cars {
		out = append(out, CarInfo{Name: cf.name, Type: cf.typ, Description: cf.description})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return naturalLess(out[i].Name, out[j].Name)
	})
	return out
}

// naturalLess orders names with runs of digits compared by value.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// base reads base directory b as named by car file cf, once per team.
func (t *Team) base(cf *carFile, b string) (*baseDir, error) {
	bd, ok := t.bases[b]
	if !ok {
		p := path.Join(carsDir, b)
		if st, err := fs.Stat(t.fsys, p); err != nil || !st.IsDir() {
			return nil, &ConfigError{File: cf.file, Line: cf.basesLine, Key: "config.base",
				Msg: fmt.Sprintf("base directory %q: %s does not exist", b, t.display(p))}
		}
		bd = &baseDir{path: p}
		if _, err := fs.Stat(t.fsys, path.Join(p, "config.py")); err == nil {
			bd.hooks = path.Join(p, "config.py")
		}
		cfg := path.Join(p, "config.ini")
		if data, err := fs.ReadFile(t.fsys, cfg); err == nil {
			doc, err := parseINI(t.display(cfg), data)
			if err != nil {
				return nil, err
			}
			if bd.vars, err = doc.sectionValues("variables"); err != nil {
				return nil, err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("team: %w", err)
		}
		t.bases[b] = bd
	}
	if bd.hooks != "" {
		return nil, fmt.Errorf("car %q (%s): base directory %q has install hooks in %s, which are Python run by Rally; rally does not run a team's Python: pick a car without them or port the hook to the team's templates",
			cf.name, cf.file, b, t.display(bd.hooks))
	}
	return bd, nil
}

// CloneTeam makes a team repository available in cacheDir and checks out
// revision (a commit, tag or branch of the remote; empty for the remote's
// default branch), returning the team's directory. The first call clones;
// later calls fetch into the same clone (package gitrepo, shared with the
// track repositories). The cache is rally's own, so whatever was changed
// or left in it is discarded. Errors show git's own output.
func CloneTeam(ctx context.Context, repoURL, revision, cacheDir string) (string, error) {
	if repoURL == "" {
		return "", errors.New("team repository: no URL")
	}
	co, err := gitrepo.Sync(ctx, gitrepo.Options{Remote: repoURL, Revision: revision,
		Dir: filepath.Join(cacheDir, gitrepo.DirName(repoURL)), DiscardLocalChanges: true})
	if err != nil {
		return "", fmt.Errorf("team repository %s: %w", repoURL, err)
	}
	return co.Dir, nil
}
