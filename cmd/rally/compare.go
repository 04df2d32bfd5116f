package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"rally/home"
	"rally/metricsstore"
	"rally/report"
)

// compareCmd is `rally compare`: the difference between two saved races,
// metric by metric (wired in report).
type compareCmd struct {
	Baseline     string `required:"" placeholder:"ID" help:"The race to compare against (see rally list races)."`
	Contender    string `required:"" placeholder:"ID" help:"The race to compare."`
	ReportFormat string `enum:"text,markdown,csv,json" default:"text" placeholder:"FORMAT" help:"Format of the comparison: text, markdown, csv or json (default: ${default})."`
	ReportFile   string `placeholder:"FILE" help:"Also write the comparison to FILE."`
	JSON         bool   `name:"json" help:"Print the comparison as JSON on stdout (the same as --report-format json)."`
	metricsStoreReadFlags
}

// Help is the detailed description shown by `rally compare --help`.
func (compareCmd) Help() string {
	return `Puts two saved races side by side: throughput, latency and service time percentiles, error rates and totals per task, with the difference of the contender to the baseline.

The races are read from ~/.rally/races/, or, with --metrics-store (or RALLY_METRICS_STORE), from a metrics store's rally-races-* documents, as esrally compares them; the text report's first line names the source. An id prefix that names one race is enough.

Examples:

    rally compare --baseline 20260125T101500Z-1a2b --contender 20260126T093000Z-3c4d
    rally compare --baseline 20260125T101500Z-1a2b --contender 20260126T093000Z-3c4d --report-format markdown --report-file diff.md
    rally compare --baseline 20260125T101500Z-1a2b --contender 20260126T093000Z-3c4d --metrics-store http://127.0.0.1:9200`
}

// Validate rejects --json with another report format.
func (c *compareCmd) Validate() error {
	if c.JSON && c.ReportFormat != "text" && c.ReportFormat != "json" {
		return errors.New("--json conflicts with --report-format " + c.ReportFormat)
	}
	return nil
}

// Run prints the comparison of two races: from the metrics store when one
// is given, else from the local race directory.
func (c *compareCmd) Run(ctx context.Context, e *env) error {
	f, err := report.ParseFormat(c.ReportFormat)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if c.JSON {
		f = report.JSON
	}
	store, err := c.reader()
	if err != nil {
		return err
	}
	var (
		source string
		load   func(id string) (*report.Race, error)
	)
	if store != nil {
		source = store.String()
		load = func(id string) (*report.Race, error) {
			r, err := store.Load(ctx, id)
			if errors.Is(err, metricsstore.ErrUnknownRace) {
				return nil, &usageError{err: err}
			}
			return r, err // the store could not answer: a failure, not bad usage
		}
	} else {
		dir, err := home.Default()
		if err != nil {
			return err
		}
		local := report.Store{Dir: dir.Races()}
		source = local.Dir
		load = func(id string) (*report.Race, error) {
			r, err := local.Load(id)
			if err != nil {
				return nil, &usageError{err: err}
			}
			return r, nil
		}
	}
	base, err := load(c.Baseline)
	if err != nil {
		return wrapErr("--baseline", err)
	}
	cont, err := load(c.Contender)
	if err != nil {
		return wrapErr("--contender", err)
	}
	if f == report.Text {
		fmt.Fprintf(e.Stdout, "Races from %s\n\n", source)
	}
	cmp := report.Compare(base, cont)
	if err := report.WriteComparison(e.Stdout, cmp, f); err != nil {
		return err
	}
	if c.ReportFile == "" {
		return nil
	}
	out, err := os.OpenFile(c.ReportFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := report.WriteComparison(out, cmp, f); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// wrapErr puts flag before err's message, keeping it a usageError when it
// is one.
func wrapErr(flag string, err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		return usageErrorf("%s: %w", flag, ue.err)
	}
	return fmt.Errorf("%s: %w", flag, err)
}
