package main

import (
	"context"
	"errors"
	"os"

	"rally/home"
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
}

// Help is the detailed description shown by `rally compare --help`.
func (compareCmd) Help() string {
	return `Puts two saved races side by side: throughput, latency and service time percentiles, error rates and totals per task, with the difference of the contender to the baseline.

Examples:

    rally compare --baseline 20260125T101500Z-1a2b --contender 20260126T093000Z-3c4d
    rally compare --baseline 20260125T101500Z-1a2b --contender 20260126T093000Z-3c4d --report-format markdown --report-file diff.md`
}

// Validate rejects --json with another report format.
func (c *compareCmd) Validate() error {
	if c.JSON && c.ReportFormat != "text" && c.ReportFormat != "json" {
		return errors.New("--json conflicts with --report-format " + c.ReportFormat)
	}
	return nil
}

// Run prints the comparison.
func (c *compareCmd) Run(ctx context.Context, e *env) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	f, err := report.ParseFormat(c.ReportFormat)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if c.JSON {
		f = report.JSON
	}
	store := report.Store{Dir: dir.Races()}
	base, err := store.Load(c.Baseline)
	if err != nil {
		return usageErrorf("--baseline: %v", err)
	}
	cont, err := store.Load(c.Contender)
	if err != nil {
		return usageErrorf("--contender: %v", err)
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
