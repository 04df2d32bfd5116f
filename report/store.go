package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// raceFile is the name of a race's file inside its directory.
const raceFile = "race.json"

// Store keeps races on disk: <Dir>/<race-id>/race.json.
type Store struct {
	// Dir is the races directory, normally ~/.rally/races.
	Dir string
}

// BrokenRaceError is a race directory whose race.json could not be read.
type BrokenRaceError struct {
	Path string
	Err  error
}

func (e *BrokenRaceError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *BrokenRaceError) Unwrap() error { return e.Err }

// Save writes r to <Dir>/<r.ID>/race.json with mode 0600, atomically: the
// JSON goes to a temporary file in the same directory, is synced, and is
// renamed over race.json, so a reader (or a crash) sees the old file or the
// new one, never half of one. It refuses a race whose target hosts carry
// credentials (user:pass@).
func (s Store) Save(r *Race) error {
	if err := checkID(r.ID); err != nil {
		return fmt.Errorf("save race: %w", err)
	}
	for _, h := range r.TargetHosts {
		if hasUserinfo(h) {
			return fmt.Errorf("save race %s: target host %q carries credentials; store hosts without user:password@", r.ID, redact(h))
		}
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("save race %s: encode: %w", r.ID, err)
	}
	data = append(data, '\n')
	dir := filepath.Join(s.Dir, r.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save race %s: %w", r.ID, err)
	}
	if err := writeAtomic(filepath.Join(dir, raceFile), data); err != nil {
		return fmt.Errorf("save race %s: %w", r.ID, err)
	}
	return nil
}

// writeAtomic writes data to path via a temporary sibling and a rename.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// checkID refuses ids that are not a single path element.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("race id is empty")
	case id == "." || id == ".." || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, "."):
		return fmt.Errorf("race id %q is not a plain name", id)
	}
	return nil
}

// hasUserinfo reports whether a target host carries userinfo, with or
// without a scheme ("https://u:p@h:9200", "u:p@h:9200"). Host names and
// addresses never contain '@'.
func hasUserinfo(host string) bool {
	if u, err := url.Parse(host); err == nil && u.User != nil {
		return true
	}
	return strings.Contains(host, "@")
}

// redact hides everything before the last '@' of a host.
func redact(host string) string {
	i := strings.LastIndexByte(host, '@')
	if i < 0 {
		return host
	}
	scheme := ""
	if j := strings.Index(host[:i], "://"); j >= 0 {
		scheme = host[:j+3]
	}
	return scheme + "***@" + host[i+1:]
}

// Load reads the race with the given id, or with the only id starting with
// it (a unique prefix, as git takes commit ids). It says so clearly when no
// race or several races match.
func (s Store) Load(id string) (*Race, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("load race: %w", err)
	}
	path := filepath.Join(s.Dir, id, raceFile)
	if _, err := os.Stat(path); err == nil {
		return readRace(path)
	}
	ids, err := s.ids()
	if err != nil {
		return nil, fmt.Errorf("load race %s: %w", id, err)
	}
	var matches []string
	for _, have := range ids {
		if strings.HasPrefix(have, id) {
			matches = append(matches, have)
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("load race %s: no race with that id or id prefix in %s", id, s.Dir)
	case 1:
		return readRace(filepath.Join(s.Dir, matches[0], raceFile))
	}
	slices.Sort(matches)
	shown := matches
	if len(shown) > 5 {
		shown = append(shown[:5:5], "...")
	}
	return nil, fmt.Errorf("load race %s: ambiguous, %d races match: %s", id, len(matches), strings.Join(shown, ", "))
}

// ids returns the names of the directories holding a race.json.
func (s Store) ids() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if !e.IsDir() || checkID(e.Name()) != nil {
			continue
		}
		// A directory without race.json is a save that never finished
		// (only its temporary file, if anything, is there): not a race.
		if _, err := os.Stat(filepath.Join(s.Dir, e.Name(), raceFile)); err != nil {
			continue
		}
		ids = append(ids, e.Name())
	}
	return ids, nil
}

func readRace(path string) (*Race, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &BrokenRaceError{Path: path, Err: err}
	}
	var r Race
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, &BrokenRaceError{Path: path, Err: fmt.Errorf("decode: %w", err)}
	}
	if dec.More() {
		return nil, &BrokenRaceError{Path: path, Err: errors.New("decode: trailing data after the race")}
	}
	if want := filepath.Base(filepath.Dir(path)); r.ID != want {
		return nil, &BrokenRaceError{Path: path, Err: fmt.Errorf("holds race id %q, its directory says %q", r.ID, want)}
	}
	return &r, nil
}

// List returns the stored races, newest first. A race.json that cannot be
// read does not hide the others: List returns every race it could read and
// an error joining one *BrokenRaceError (path and reason) per broken file.
// A missing store directory is an empty list.
func (s Store) List() ([]*Race, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, fmt.Errorf("list races in %s: %w", s.Dir, err)
	}
	var (
		races  []*Race
		broken []error
	)
	for _, id := range ids {
		r, err := readRace(filepath.Join(s.Dir, id, raceFile))
		if err != nil {
			broken = append(broken, err)
			continue
		}
		races = append(races, r)
	}
	slices.SortFunc(races, func(a, b *Race) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return races, errors.Join(broken...)
}
