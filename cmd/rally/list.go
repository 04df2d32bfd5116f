package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"rally/home"
	"rally/metricsstore"
	"rally/report"
	"rally/trackrepo"
)

// listCmd is `rally list`: a group of subcommands, one per kind of thing.
type listCmd struct {
	Races     listRacesCmd     `cmd:"" help:"List saved races, newest first."`
	Cars      listCarsCmd      `cmd:"" help:"List the cars and mixins of a team."`
	Telemetry listTelemetryCmd `cmd:"" help:"List the telemetry devices (--telemetry) and their parameters."`
	Tracks    listTracksCmd    `cmd:"" help:"List the tracks of a track repository (--track names them)."`
}

// Help is the detailed description shown by `rally list --help`.
func (listCmd) Help() string {
	return `Lists what rally keeps under ~/.rally, and what it can use.

Examples:

    rally list races
    rally list cars
    rally list telemetry
    rally list tracks`
}

// listRacesCmd is `rally list races` (wired in report, and in metricsstore
// when a store is given).
type listRacesCmd struct {
	Limit         int    `default:"10" placeholder:"N" help:"Show at most N races (default: ${default})."`
	JSON          bool   `name:"json" help:"Print the races as JSON on stdout."`
	Track         string `placeholder:"NAME" help:"Only races of this track."`
	Challenge     string `placeholder:"NAME" help:"Only races of this challenge."`
	BenchmarkName string `name:"benchmark-name" placeholder:"NAME" help:"Only races whose user tag benchmark-name or name is NAME."`
	UserTags      string `name:"user-tags" placeholder:"TAGS" help:"Only races with all these user tags, as key:value pairs separated by commas, e.g. intention:baseline."`
	FromDate      string `name:"from-date" placeholder:"YYYYMMDD" help:"Only races created on this day (UTC) or later."`
	ToDate        string `name:"to-date" placeholder:"YYYYMMDD" help:"Only races created on this day (UTC) or earlier."`
	metricsStoreReadFlags

	filter metricsstore.RaceFilter `kong:"-"`
}

// Help is the detailed description shown by `rally list races --help`.
func (listRacesCmd) Help() string {
	return `Lists saved races, newest first: id, date, track, challenge, cluster, status and user tags. Use an id with "rally compare".

The races are those under ~/.rally/races/, or, with --metrics-store (or RALLY_METRICS_STORE), those of a metrics store's environment, as esrally lists them. The first line names the source.

Examples:

    rally list races
    rally list races --limit 50 --json
    rally list races --track geonames --from-date 20260101 --user-tags intention:baseline
    rally list races --metrics-store http://127.0.0.1:9200`
}

// Validate checks flag values kong cannot.
func (c *listRacesCmd) Validate() error {
	if c.Limit < 1 {
		return fmt.Errorf("--limit %d: want 1 or more", c.Limit)
	}
	tags, err := parseTags(c.UserTags)
	if err != nil {
		return fmt.Errorf("--user-tags: %w", err)
	}
	c.filter = metricsstore.RaceFilter{Track: c.Track, Challenge: c.Challenge, BenchmarkName: c.BenchmarkName, UserTags: tags}
	for _, d := range []struct {
		flag, value string
		to          *time.Time
	}{{"--from-date", c.FromDate, &c.filter.From}, {"--to-date", c.ToDate, &c.filter.To}} {
		if d.value == "" {
			continue
		}
		if *d.to, err = time.Parse("20060102", d.value); err != nil {
			return fmt.Errorf("%s %q: want a day as YYYYMMDD, e.g. 20260125", d.flag, d.value)
		}
	}
	return nil
}

// Run lists the races: from the metrics store when one is given, else
// from the local race directory.
func (c *listRacesCmd) Run(ctx context.Context, e *env) error {
	store, err := c.reader()
	if err != nil {
		return err
	}
	var (
		races   []*report.Race
		source  string
		listErr error
	)
	if store != nil {
		source = store.String()
		races, listErr = store.List(ctx, c.filter, c.Limit)
		if races == nil && listErr != nil {
			return listErr // nothing read: the store's error alone
		}
	} else {
		dir, err := home.Default()
		if err != nil {
			return err
		}
		source = dir.Races()
		var all []*report.Race
		all, listErr = report.Store{Dir: source}.List()
		for _, r := range all {
			if len(races) < c.Limit && c.filter.Match(r) {
				races = append(races, r)
			}
		}
	}
	f := report.Text
	if c.JSON {
		f = report.JSON
	} else {
		fmt.Fprintf(e.Stdout, "Races in %s:\n\n", source)
	}
	if err := report.WriteList(e.Stdout, races, f); err != nil {
		return err
	}
	// Broken races are reported after the readable ones, not instead.
	return listErr
}

// listCarsCmd is `rally list cars` (wired in provision).
type listCarsCmd struct {
	teamFlags

	JSON bool `name:"json" help:"Print the cars as JSON on stdout: a list of {name, type, description}."`
}

// Help is the detailed description shown by `rally list cars --help`.
func (listCarsCmd) Help() string {
	return `Lists the cars and mixins of a team, cars first: name, type and description. Combine one car with mixins in --car, e.g. "defaults,4gheap,g1gc".

Examples:

    rally list cars
    rally list cars --team-path ~/rally-teams --json
    rally list cars --team-repository https://example.org/teams.git --team-revision v2`
}

// Run lists the cars.
func (c *listCarsCmd) Run(ctx context.Context, e *env) error {
	team, err := c.load(ctx)
	if err != nil {
		return err
	}
	cars := team.Cars()
	if c.JSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cars)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tDESCRIPTION")
	for _, car := range cars {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", car.Name, car.Type, car.Description)
	}
	return tw.Flush()
}

// listTracksCmd is `rally list tracks` (wired in trackrepo).
type listTracksCmd struct {
	trackRepoFlags

	JSON bool `name:"json" help:"Print the repository and its tracks as JSON on stdout: {repository, dir, revision, tracks: [{name, description, documents, compressed_bytes, uncompressed_bytes, default_challenge, challenges, corpora: [{name, present}], error}]}."`
}

// Help is the detailed description shown by `rally list tracks --help`.
func (listTracksCmd) Help() string {
	return `Lists the tracks of a track repository, as esrally does: each directory of the repository holding a track.json is a track, named by its path there (geonames, elastic/logs), which is what --track takes. For each: its document count, whether its corpora are on this machine already (in the track's directory or ~/.rally/benchmarks/data/, so a race downloads nothing), its description and its challenges (the default one marked). A track that does not load is listed with its error.

The repository (--track-repository, default esrally's public https://github.com/elastic/rally-tracks) is cloned under ~/.rally/benchmarks/tracks/ on first use and fetched on later ones; --track-revision checks out a branch, tag or commit; --offline lists the clone as it is.

Examples:

    rally list tracks
    rally list tracks --track-repository ~/src/my-tracks --track-revision v2
    rally list tracks --offline --json`
}

// listTracksJSON is the JSON form of rally list tracks.
type listTracksJSON struct {
	Repository string              `json:"repository"`
	Dir        string              `json:"dir"`
	Revision   string              `json:"revision"`
	Tracks     []trackrepo.Summary `json:"tracks"`
}

// Run lists the tracks.
func (c *listTracksCmd) Run(ctx context.Context, e *env) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	repo, err := c.open(ctx, e.Stderr)
	if err != nil {
		return err
	}
	tracks, err := repo.List(dir.Data())
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(listTracksJSON{Repository: repo.URL, Dir: repo.Dir, Revision: repo.Commit, Tracks: tracks})
	}
	fmt.Fprintf(e.Stdout, "Tracks of track repository %s at %s:\n\n", repo, repo.Short())
	if len(tracks) == 0 {
		fmt.Fprintln(e.Stdout, "none (no directory holds a track.json)")
		return nil
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDOCUMENTS\tCORPORA\tDESCRIPTION\tCHALLENGES")
	var failed []trackrepo.Summary
	for _, t := range tracks {
		if t.Error != "" {
			failed = append(failed, t)
			fmt.Fprintf(tw, "%s\t-\t-\t(does not load: see below)\t-\n", t.Name)
			continue
		}
		challenges := make([]string, len(t.Challenges))
		for i, ch := range t.Challenges {
			challenges[i] = ch
			if ch == t.DefaultChallenge && len(t.Challenges) > 1 {
				challenges[i] += " (default)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, thousands(t.Documents), t.CorporaState(),
			oneLine(t.Description), strings.Join(challenges, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range failed {
		fmt.Fprintf(e.Stdout, "\n%s does not load: %s\n", t.Name, t.Error)
	}
	return nil
}

// thousands writes n with comma separators, as rally info does.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
