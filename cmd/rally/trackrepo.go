package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"rally/gitrepo"
	"rally/home"
	"rally/trackrepo"
)

// trackRepoFlags say which track repository tracks given by name come
// from, as esrally's flags do (wired in trackrepo). Shared by rally race,
// rally info and rally list tracks.
type trackRepoFlags struct {
	TrackRepository string `placeholder:"URL" help:"The git repository of tracks that --track picks from: a git URL, or the path of a local git repository (cloned too, never used in place). It is cloned into ~/.rally/benchmarks/tracks/ on first use and fetched on every later one, as esrally does (default: \"default\", esrally's public https://github.com/elastic/rally-tracks)."`
	TrackRevision   string `placeholder:"REV" help:"The branch, tag or commit of the track repository to check out, e.g. a release branch or a commit hash (default: the repository's default branch)."`
	Offline         bool   `help:"Use the track repository's clone as it is: no clone, no fetch, nothing that needs the network. Fails when there is no clone yet."`
}

// trackFlags are --track NAME and its repository: embedded in raceCmd and
// infoCmd next to their --track-path.
type trackFlags struct {
	Track string `xor:"track" placeholder:"NAME" help:"A track by name from the track repository, e.g. geonames or elastic/logs (a directory holding a track.json there); rally list tracks names them. Excludes --track-path."`
	trackRepoFlags
}

// tracksRoot is where track repositories are cloned, esrally's
// ~/.rally/benchmarks/tracks.
func tracksRoot(dir home.Dir) string { return filepath.Join(string(dir), "benchmarks", "tracks") }

// open checks the track repository out, saying on progress when it
// clones or fetches.
func (f trackRepoFlags) open(ctx context.Context, progress io.Writer) (*trackrepo.Repo, error) {
	dir, err := home.Default()
	if err != nil {
		return nil, err
	}
	src := trackrepo.Source{Repository: f.TrackRepository, Revision: f.TrackRevision, Offline: f.Offline}
	r, err := trackrepo.Open(ctx, tracksRoot(dir), src, func(msg string) { fmt.Fprintf(progress, "track repository: %s\n", msg) })
	switch {
	case errors.Is(err, gitrepo.ErrNotCloned):
		return nil, usageErrorf("%w: run once without --offline to clone it", err)
	case errors.Is(err, gitrepo.ErrUnknownRevision):
		return nil, usageErrorf("--track-revision: %w", err)
	case err != nil:
		return nil, err
	}
	return r, nil
}

// trackDir is the track's directory: trackPath (--track-path), or the
// directory of --track in its repository, checked out now.
func (f trackFlags) trackDir(ctx context.Context, trackPath string, progress io.Writer) (string, error) {
	repoFlag := f.TrackRepository != "" || f.TrackRevision != ""
	switch {
	case f.Track == "" && trackPath != "" && repoFlag:
		return "", usageErrorf("--track-repository and --track-revision say where --track NAME comes from; they mean nothing with --track-path")
	case f.Track == "" && trackPath == "":
		return "", usageErrorf("no track: give --track NAME (a track of the track repository; rally list tracks names them) or --track-path DIR")
	case f.Track == "":
		return trackPath, nil
	}
	r, err := f.open(ctx, progress)
	if err != nil {
		return "", err
	}
	dir, err := r.TrackDir(f.Track)
	if errors.Is(err, trackrepo.ErrUnknownTrack) {
		return "", usageErrorf("--track %s: %w", f.Track, err)
	}
	return dir, err
}
