package main

import (
	"context"
	"fmt"

	"rally/home"
	"rally/report"
)

// listCmd is `rally list`: a group of subcommands, one per kind of thing.
type listCmd struct {
	Races listRacesCmd `cmd:"" help:"List saved races, newest first."`
}

// Help is the detailed description shown by `rally list --help`.
func (listCmd) Help() string {
	return `Lists what rally keeps under ~/.rally.

Example:

    rally list races`
}

// listRacesCmd is `rally list races` (wired in report).
type listRacesCmd struct {
	Limit int  `default:"10" placeholder:"N" help:"Show at most N races (default: ${default})."`
	JSON  bool `name:"json" help:"Print the races as JSON on stdout."`
}

// Help is the detailed description shown by `rally list races --help`.
func (listRacesCmd) Help() string {
	return `Lists the races saved under ~/.rally/races/: id, date, track, challenge, cluster and user tags. Use an id with "rally compare".

Examples:

    rally list races
    rally list races --limit 50 --json`
}

// Validate checks flag values kong cannot.
func (c *listRacesCmd) Validate() error {
	if c.Limit < 1 {
		return fmt.Errorf("--limit %d: want 1 or more", c.Limit)
	}
	return nil
}

// Run lists the races.
func (c *listRacesCmd) Run(ctx context.Context, e *env) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	races, listErr := report.Store{Dir: dir.Races()}.List()
	if len(races) > c.Limit {
		races = races[:c.Limit]
	}
	f := report.Text
	if c.JSON {
		f = report.JSON
	}
	if err := report.WriteList(e.Stdout, races, f); err != nil {
		return err
	}
	// Broken races are reported after the readable ones, not instead.
	return listErr
}
