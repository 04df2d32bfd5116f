package main

import (
	"context"

	"rally/race"
	"rally/track"
)

// infoCmd is `rally info`: what a track contains, without running it
// (wired in track).
type infoCmd struct {
	trackFlags
	TrackPath   string `xor:"track" type:"existingdir" placeholder:"DIR" help:"A track directory (holding track.json)."`
	Challenge   string `placeholder:"NAME" help:"Show only this challenge (default: all of them)."`
	TrackParams string `placeholder:"PARAMS" help:"Track parameters as key:value pairs separated by commas, or a JSON file."`
	JSON        bool   `name:"json" help:"Print the description as JSON on stdout."`
	taskFilterFlags
}

// Help is the detailed description shown by `rally info --help`.
func (infoCmd) Help() string {
	return `Renders the track with its parameters and describes it: indices, corpora with their document counts and sizes, and each challenge's schedule (operations, clients, warmup, iterations or time periods, target throughput). Nothing is connected to; this is how to check a track before a race. With --include-tasks or --exclude-tasks it shows the schedule that a race with the same filter runs.

Each challenge says whether it can run here and, if not, why, one line per problem with the file and line where it is written: a runner, param source or scheduler of the track's track.py (rally reads track.py but does not run Python), a track processor there (it may change any challenge, so every one is refused), an operation type rally's load driver lacks. A race refuses such a challenge with the same lines; with --challenge, rally info then exits 2 as rally race does.

The track is a directory (--track-path) or, as in esrally, a track of a track repository by name (--track): the repository (--track-repository, default esrally's public rally-tracks) is cloned under ~/.rally/benchmarks/tracks/ on first use and fetched on later ones, then --track-revision (default: its default branch) is checked out; --offline uses the clone as it is. "rally list tracks" names a repository's tracks.

Examples:

    rally info --track-path ./tracks/geonames
    rally info --track geonames
    rally info --track my-track --track-repository ~/src/my-tracks --track-revision v2 --offline
    rally info --track-path ./tracks/geonames --challenge append-no-conflicts --track-params bulk_size:5000 --json
    rally info --track-path ./tracks/geonames --include-tasks type:search
    rally info --track-path ./tracks/geonames --exclude-tasks index-append,tag:slow`
}

// Run describes the track.
func (c *infoCmd) Run(ctx context.Context, e *env) error {
	params, err := track.ParseParams(c.TrackParams)
	if err != nil {
		return usageErrorf("--track-params: %v", err)
	}
	trackPath, err := c.trackFlags.trackDir(ctx, c.TrackPath, e.Stderr)
	if err != nil {
		return err
	}
	t, err := track.Load(track.LoadOptions{Path: trackPath, Params: params})
	if err != nil {
		return &usageError{err: err} // the track is the user's input
	}
	var ch *track.Challenge
	if c.Challenge != "" {
		if ch, err = t.Challenge(c.Challenge); err != nil {
			return &usageError{err: err} // as rally race says it
		}
	}
	if err := c.taskFilterFlags.apply(t, ch); err != nil {
		return err
	}
	// Whether a challenge can run is what a race would say (one checker).
	status := func(ch *track.Challenge) track.Status { return race.CheckChallenge(t, ch) }
	if err := track.Describe(e.Stdout, t, ch, status, c.JSON); err != nil {
		return err
	}
	if ch != nil {
		// The challenge asked for cannot run: say it as rally race would,
		// with the same exit code.
		if err := status(ch).Err(); err != nil {
			return &usageError{err: err}
		}
	}
	return nil
}
