package main

import (
	"context"

	"rally/track"
)

// infoCmd is `rally info`: what a track contains, without running it
// (wired in track).
type infoCmd struct {
	TrackPath   string `required:"" type:"existingdir" placeholder:"DIR" help:"A track directory (holding track.json)."`
	Challenge   string `placeholder:"NAME" help:"Show only this challenge (default: all of them)."`
	TrackParams string `placeholder:"PARAMS" help:"Track parameters as key:value pairs separated by commas, or a JSON file."`
	JSON        bool   `name:"json" help:"Print the description as JSON on stdout."`
}

// Help is the detailed description shown by `rally info --help`.
func (infoCmd) Help() string {
	return `Renders the track with its parameters and describes it: indices, corpora with their document counts and sizes, and each challenge's schedule (operations, clients, warmup, iterations or time periods, target throughput). Nothing is connected to; this is how to check a track before a race.

Examples:

    rally info --track-path ./tracks/geonames
    rally info --track-path ./tracks/geonames --challenge append-no-conflicts --track-params bulk_size:5000 --json`
}

// Run describes the track.
func (c *infoCmd) Run(ctx context.Context, e *env) error {
	params, err := track.ParseParams(c.TrackParams)
	if err != nil {
		return usageErrorf("--track-params: %v", err)
	}
	t, err := track.Load(track.LoadOptions{Path: c.TrackPath, Params: params})
	if err != nil {
		return &usageError{err: err} // the track is the user's input
	}
	var ch *track.Challenge
	if c.Challenge != "" {
		if ch, err = t.Challenge(c.Challenge); err != nil {
			return err
		}
	}
	return track.Describe(e.Stdout, t, ch, c.JSON)
}
