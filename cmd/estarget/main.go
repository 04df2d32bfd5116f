// Command estarget runs the Elasticsearch-API TEST TARGET of package
// estarget on a TCP address, so that rally's load driver can be exercised
// on a machine without Elasticsearch. It is not Elasticsearch: it keeps
// documents in memory, scans them linearly to search, and its timings say
// nothing about Elasticsearch.
//
// This package is wiring only: flags (kong) into estarget.Options, then
// estarget.Listen until SIGINT or SIGTERM. It prints the address it listens
// on to stdout and logs to stderr.
//
// Exit codes: 0 ok, 1 failure (e.g. the address is taken), 2 bad usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"rally/estarget"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const description = `estarget is a TEST TARGET that speaks a subset of the Elasticsearch REST API (or OpenSearch's), for testing rally's load driver where no Elasticsearch is installed. It is NOT Elasticsearch: everything is kept in memory, search is a linear scan with no relevance scoring, replicas are not modelled, and its timings say nothing about Elasticsearch performance.

It implements: GET /, indices (create, delete, get, exists, settings, mappings), _cluster/health and _cluster/settings, _bulk (index, create, update, delete) and single-document APIs, _search (match_all, term, terms, ids, exists, prefix, wildcard, match, match_phrase, multi_match, range, bool, constant_score; sort, search_after, scroll, point in time; terms, min, max, avg, sum, value_count, cardinality, histogram and date_histogram aggregations), _count, _refresh, _flush, _forcemerge, _recovery, _tasks, _stats, _nodes/stats, _nodes, _cat/indices, _cat/health, legacy, composable and component templates, data streams and ingest pipelines (stored, never executed).

It does not implement: aliases, rollover, snapshots, reindex, scripts, highlighting, source filtering by field, filter_path, other query or aggregation types (unknown queries get a 400; unsupported aggregations are left out and named in the X-Estarget-Unsupported header).

Faults are injected on every API request (not on /_estarget/): latency and jitter, stalls like a stop-the-world GC pause (every --stall-every, requests arriving during a --stall-for window and those in flight wait until it ends), and seeded 429 (es_rejected_execution_exception) and 5xx rates. Change them at runtime with

    curl -XPUT localhost:9200/_estarget/faults -d '{"latency":"5ms","stall_every":"10s","stall_for":"1s","rate_429":0.01,"seed":1}'

and read counters with GET /_estarget/stats.

Exit codes: 0 ok, 1 failure, 2 bad usage.`

// cli is the whole command line.
type cli struct {
	Listen          string        `default:"127.0.0.1:9200" placeholder:"HOST:PORT" help:"Address to listen on (default: ${default}); port 0 picks a free port, and the real address is printed."`
	Flavor          string        `default:"elasticsearch" enum:"elasticsearch,opensearch" help:"API flavor to impersonate: elasticsearch or opensearch."`
	Version         string        `placeholder:"X.Y.Z" help:"Version to report, e.g. 8.15.0 or just 9 (default: 8.15.0 for elasticsearch, 2.17.0 for opensearch)."`
	ClusterName     string        `name:"cluster-name" placeholder:"NAME" help:"Cluster name to report (default: the flavor's default)."`
	Latency         time.Duration `placeholder:"DURATION" help:"Latency added to every request, e.g. 2ms."`
	Jitter          time.Duration `placeholder:"DURATION" help:"Extra random latency in [0, jitter)."`
	StallEvery      time.Duration `name:"stall-every" placeholder:"DURATION" help:"Start a stall window this often, e.g. 5s (needs --stall-for)."`
	StallFor        time.Duration `name:"stall-for" placeholder:"DURATION" help:"Length of each stall window, e.g. 1s."`
	Rate429         float64       `name:"rate-429" placeholder:"RATE" help:"Share of requests (0..1) rejected with 429 es_rejected_execution_exception."`
	Rate5xx         float64       `name:"rate-5xx" placeholder:"RATE" help:"Share of requests (0..1) answered with 503 or 500."`
	Seed            int64         `placeholder:"N" help:"Seed for the injected errors and jitter; the same seed and request order give the same faults."`
	ForceMergeDelay time.Duration `name:"force-merge-delay" placeholder:"DURATION" help:"How long each _forcemerge takes."`
	NoRootAPI       bool          `name:"no-root-api" help:"Answer GET / with 405 (only DELETE is routed at /), as Elasticsearch 8 and 9 builds without the rest-root module (the integ-test archives) do; the version is then only in _nodes."`
	LogLevel        string        `name:"log-level" default:"info" enum:"debug,info,warn,error" help:"Log level on stderr: debug (one line per request), info, warn or error."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// kongExit carries the exit code kong asks for after --help out of Parse.
type kongExit int

// run parses args, serves until ctx ends and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("estarget"),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{WrapUpperBound: 100}),
	)
	if err != nil {
		fmt.Fprintf(stderr, "estarget: internal error: %v\n", err)
		return exitFailure
	}
	defer func() {
		if r := recover(); r != nil {
			k, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(k)
		}
	}()
	if _, err := parser.Parse(args); err != nil {
		fmt.Fprintf(stderr, "estarget: error: %v\nRun \"estarget --help\" for more information.\n", err)
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		fmt.Fprintf(stderr, "estarget: error: --log-level: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts := estarget.Options{
		Flavor:      c.Flavor,
		Version:     c.Version,
		ClusterName: c.ClusterName,
		Faults: estarget.Faults{
			Latency: c.Latency, Jitter: c.Jitter,
			StallEvery: c.StallEvery, StallFor: c.StallFor,
			Rate429: c.Rate429, Rate5xx: c.Rate5xx, Seed: c.Seed,
		},
		ForceMergeDelay: c.ForceMergeDelay,
		NoRootAPI:       c.NoRootAPI,
		Logger:          log,
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "estarget: error: %v\n", err)
		return exitUsage
	}
	if err := serve(ctx, c.Listen, opts, stdout, log); err != nil {
		fmt.Fprintf(stderr, "estarget: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// serve listens on addr until ctx ends.
func serve(ctx context.Context, addr string, opts estarget.Options, stdout io.Writer, log *slog.Logger) error {
	sv, err := estarget.Listen(ctx, addr, estarget.New(opts))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "estarget listening on %s\n", sv.URL())
	log.Info("serving test target", "addr", sv.Addr().String(), "flavor", opts.Flavor, "version", opts.Version,
		"faults", fmt.Sprintf("%+v", opts.Faults))
	err = sv.Wait()
	if err == nil || errors.Is(err, context.Canceled) {
		log.Info("stopped")
		return nil
	}
	return err
}
