// Command estarget runs the TEST TARGET of package estarget on a TCP
// address: a fault proxy in front of a real Elasticsearch or OpenSearch
// node (--upstream), or without one a small canned imitation of the REST
// API. It is not Elasticsearch and its timings say nothing about any
// engine.
//
// This package is wiring only: flags (kong) into estarget.Options, then
// estarget.Listen until SIGINT or SIGTERM. It prints the address it listens
// on to stdout and logs to stderr.
//
// Exit codes: 0 ok, 1 failure (e.g. the address is taken), 2 bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
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

const description = `estarget is a TEST TARGET for rally's load driver. It is NOT Elasticsearch: it keeps no documents, evaluates no query, and its timings say nothing about any engine.

Proxy mode (--upstream http://HOST:PORT): every request goes to that real Elasticsearch or OpenSearch node, bodies streamed both ways, and the fault rules damage the requests they match. This is how to see what the driver makes of a misbehaving engine while the engine stays the ground truth (its _count says what was really indexed).

Canned mode (no --upstream): just enough of the API for tests without an engine: GET /, _nodes, _nodes/stats, index create, delete, exists, get and settings, _cluster/health and _cluster/settings, _bulk (action lines parsed, every item done, a document COUNTER per index, no sources), single-document writes, _count (the counter), _search (no hits, the counter as total; no query evaluation, no aggregations), _refresh, _flush, _forcemerge, _stats and _tasks; and fixed answers for what the minimal integ-test archives lack: ES|QL, SQL, async search, downsample, and by name (no bodies kept) templates, ingest pipelines, data streams, ILM and enrich policies, transforms, ML jobs and datafeeds. Any other API is a 400 saying estarget does not implement it.

Fault rules (both modes; /_estarget/ is never faulted): the first rule whose method and path glob match a request decides its fate: latency and jitter, stalls like a stop-the-world GC pause (every --stall-every a --stall-for window opens; requests arriving in it and those answered in it wait until it ends), seeded shares of 429 (es_rejected_execution_exception), 503 and 500 answers and of connection resets (TCP RST), all instead of the engine's answer; truncated answers (full Content-Length declared, half the body sent, connection closed) and slow answers (chunks with pauses) on the engine's real answer. The fault flags make one rule for the requests --match names (all by default), after the rules of --faults. Change the rules at runtime with

    curl -XPUT localhost:9200/_estarget/faults -d '{"seed":1,"rules":[{"method":"POST","path":"*/_bulk","rate_429":0.1},{"path":"*/_search","rate_truncate":0.05}]}'

read them back with GET /_estarget/faults and the counters (requests by API, faults by kind) with GET /_estarget/stats.

Exit codes: 0 ok, 1 failure, 2 bad usage.`

// cli is the whole command line.
type cli struct {
	Listen       string        `default:"127.0.0.1:9200" placeholder:"HOST:PORT" help:"Address to listen on (default: ${default}); port 0 picks a free port, and the real address is printed."`
	Upstream     string        `placeholder:"URL" help:"Proxy mode: forward every request to this real engine, e.g. http://127.0.0.1:9201. Without it, the canned API answers."`
	Flavor       string        `default:"elasticsearch" enum:"elasticsearch,opensearch" help:"Canned mode: API flavor to impersonate, elasticsearch or opensearch."`
	Version      string        `placeholder:"X.Y.Z" help:"Canned mode: version to report, e.g. 8.15.0 or just 9 (default: 8.15.0 for elasticsearch, 2.17.0 for opensearch)."`
	ClusterName  string        `name:"cluster-name" placeholder:"NAME" help:"Canned mode: cluster name to report (default: the flavor's name)."`
	NoRootAPI    bool          `name:"no-root-api" help:"Canned mode: answer GET / with 405 (only DELETE is routed at /), as Elasticsearch 8 and 9 builds without the rest-root module (the integ-test archives) do; the version is then only in _nodes."`
	Faults       string        `placeholder:"JSON" help:"Fault rules as PUT /_estarget/faults takes them, e.g. '{\"rules\":[{\"method\":\"POST\",\"path\":\"*/_bulk\",\"rate_429\":0.1}]}'."`
	Match        string        `placeholder:"[METHOD ]GLOB" help:"The requests the fault flags below apply to, e.g. 'POST */_bulk' or '*/_search' (default: all)."`
	Latency      time.Duration `placeholder:"DURATION" help:"Latency added to each matching request, e.g. 2ms."`
	Jitter       time.Duration `placeholder:"DURATION" help:"Extra random latency in [0, jitter)."`
	StallEvery   time.Duration `name:"stall-every" placeholder:"DURATION" help:"Start a stall window this often, e.g. 5s (needs --stall-for)."`
	StallFor     time.Duration `name:"stall-for" placeholder:"DURATION" help:"Length of each stall window, e.g. 1s."`
	Rate429      float64       `name:"rate-429" placeholder:"RATE" help:"Share of matching requests (0..1) rejected with 429 es_rejected_execution_exception."`
	Rate5xx      float64       `name:"rate-5xx" placeholder:"RATE" help:"Share of matching requests (0..1) answered with 503 or 500."`
	RateReset    float64       `name:"rate-reset" placeholder:"RATE" help:"Share of matching requests (0..1) whose connection is reset (TCP RST) instead of answered."`
	RateTruncate float64       `name:"rate-truncate" placeholder:"RATE" help:"Share of matching requests (0..1) whose answer is cut in half and the connection closed."`
	SlowPause    time.Duration `name:"slow-body-pause" placeholder:"DURATION" help:"Slow every matching answer down: a pause after each chunk of its body, e.g. 20ms."`
	SlowChunk    int           `name:"slow-body-chunk" placeholder:"BYTES" help:"Chunk size of slow answers (default 512)."`
	Seed         int64         `placeholder:"N" help:"Seed for the injected faults and jitter; the same seed and request order give the same faults."`
	LogLevel     string        `name:"log-level" default:"info" enum:"debug,info,warn,error" help:"Log level on stderr: debug (one line per request), info, warn or error."`
}

// faults builds the fault rules: those of --faults, then the one the fault
// flags make for --match.
func (c *cli) faults() (estarget.Faults, error) {
	var f estarget.Faults
	if c.Faults != "" {
		if err := json.Unmarshal([]byte(c.Faults), &f); err != nil {
			return f, fmt.Errorf("--faults: %w", err)
		}
	}
	r := estarget.Rule{Latency: c.Latency, Jitter: c.Jitter, StallEvery: c.StallEvery, StallFor: c.StallFor,
		Rate429: c.Rate429, Rate5xx: c.Rate5xx, RateReset: c.RateReset, RateTruncate: c.RateTruncate,
		SlowBodyPause: c.SlowPause, SlowBodyChunk: c.SlowChunk}
	if r != (estarget.Rule{}) {
		if method, path, ok := strings.Cut(strings.TrimSpace(c.Match), " "); ok {
			r.Method, r.Path = method, strings.TrimSpace(path)
		} else {
			r.Path = method
		}
		f.Rules = append(f.Rules, r)
	} else if c.Match != "" {
		return f, errors.New("--match: no fault flag to apply to the requests it names")
	}
	if c.Seed != 0 {
		f.Seed = c.Seed
	}
	return f, nil
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
	f, err := c.faults()
	if err != nil {
		fmt.Fprintf(stderr, "estarget: error: %v\n", err)
		return exitUsage
	}
	opts := estarget.Options{Upstream: c.Upstream, Flavor: c.Flavor, Version: c.Version, ClusterName: c.ClusterName,
		NoRootAPI: c.NoRootAPI, Faults: f, Logger: log}
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
	mode := []any{"mode", "canned", "flavor", opts.Flavor, "version", opts.Version}
	if opts.Upstream != "" {
		mode = []any{"mode", "proxy", "upstream", opts.Upstream}
	}
	rules, _ := json.Marshal(opts.Faults)
	log.Info("serving test target", append(append([]any{"addr", sv.Addr().String()}, mode...), "faults", string(rules))...)
	err = sv.Wait()
	if err == nil || errors.Is(err, context.Canceled) {
		log.Info("stopped")
		return nil
	}
	return err
}
