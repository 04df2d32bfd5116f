package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"rally/control"
	"rally/home"
	"rally/race"
	"rally/report"
	"rally/telemetry"
	"rally/track"
	"rally/worker"
)

// runRace runs a race on the cluster that is up, or, when none is, on this
// machine with an in-process load driver (the same protocol as a remote
// worker). It prints progress to stderr and the summary report to stdout.
func runRace(ctx context.Context, c *raceCmd, e *env) error {
	trackPath, err := c.trackFlags.trackDir(ctx, c.TrackPath, e.Stderr)
	if err != nil {
		return err
	}
	pipeline, err := c.pipeline()
	if err != nil {
		return err
	}
	format, err := report.ParseFormat(c.ReportFormat)
	if err != nil {
		return usageErrorf("%v", err)
	}
	abs, err := filepath.Abs(trackPath)
	if err != nil {
		return err
	}
	params, err := track.ParseParams(c.TrackParams)
	if err != nil {
		return usageErrorf("--track-params: %v", err)
	}
	tags, err := parseTags(c.UserTags)
	if err != nil {
		return usageErrorf("--user-tags: %v", err)
	}
	tele, err := c.telemetryFlags.parse()
	if err != nil {
		return err
	}
	req := control.RaceRequest{Telemetry: tele,
		TrackPath: abs, Challenge: c.Challenge, TrackParams: params, TargetHosts: c.TargetHosts,
		ClientOptions: c.ClientOptions, TestMode: c.TestMode, OnError: c.OnError, UserTags: tags,
		MinLoadDrivers: c.MinLoadDrivers,
	}
	if err := c.raceTaskFlags.apply(&req); err != nil {
		return err
	}
	if err := c.corpusFlags.apply(&req); err != nil {
		return err
	}
	if err := c.metricsStoreFlags.open(); err != nil {
		return err
	}
	defer c.metricsStoreFlags.finish(e.Stderr) // a warning after the race's own last line
	dir, err := home.Default()
	if err != nil {
		return err
	}
	store := report.Store{Dir: dir.Races()}

	var r *report.Race
	// Where a race runs: the named cluster, else the only one up, else
	// (none is up) this machine. Several clusters up, or one whose
	// coordinator does not answer, are errors rather than a silent local
	// race.
	found, err := runningCluster(ctx, dir, c.Cluster)
	if pipeline == pipelineFromDistribution || errors.Is(err, control.ErrNoneUp) {
		if err := race.CheckLocalLoadDrivers(req.LoadDriverHosts); err != nil {
			return &usageError{err: err} // this race runs on this machine only
		}
	}
	switch {
	case pipeline == pipelineFromDistribution:
		if err := checkChallenge(req); err != nil {
			return err // before any node starts
		}
		r, err = raceOnDistribution(ctx, c, dir, store, req, e.Stderr)
	case errors.Is(err, control.ErrNoneUp):
		if n := req.Telemetry.NodeStart(); len(n) > 0 {
			return usageErrorf("--telemetry %s: set when nodes start, and this race starts none: give --distribution-path, or give it to rally up", strings.Join(n, ","))
		}
		if req.TargetHosts == "" {
			return usageErrorf("no target: give --target-hosts host:port of a running cluster, --distribution-path FILE to start one on this machine, or bring a cluster up with provisioner hosts (rally up --distribution-path FILE)")
		}
		r, err = raceLocally(ctx, dir, store, req, e.Stderr, nil, c.metricsStoreFlags.conductorStore())
	case err != nil:
		return err
	default:
		if err := checkChallenge(req); err != nil {
			return err // the coordinator would refuse it too, less readably
		}
		r, err = raceOnCluster(ctx, found.Name, found.Client, store, req, e.Stderr)
		c.metricsStoreFlags.publish(ctx, r) // the coordinator saved it; this process writes it
	}
	if r == nil {
		return err
	}
	if werr := writeRaceReport(e.Stdout, r, format, c.ReportFile); werr != nil && err == nil {
		err = werr
	}
	fmt.Fprintf(e.Stderr, "race %s %s; saved in %s\n", r.ID, r.Status, filepath.Join(store.Dir, r.ID))
	if err == nil && r.Status != report.StatusCompleted {
		err = fmt.Errorf("race %s %s: %s", r.ID, r.Status, r.Error)
	}
	return err
}

// checkChallenge refuses, as bad input, a race whose challenge cannot run
// (race.CheckTrack: what rally info says of it, in the same words).
func checkChallenge(req control.RaceRequest) error {
	if _, _, err := race.CheckTrack(req); err != nil {
		return &usageError{err: err} // the track and challenge are the user's input
	}
	return nil
}

// raceLocally runs the race with an in-process load driver.
// hosts, when set, samples the hosts of nodes this process started; ms,
// when set, gets the race once it is saved.
func raceLocally(ctx context.Context, dir home.Dir, store report.Store, req control.RaceRequest, progress io.Writer,
	hosts func(context.Context) func(context.Context) (map[string]telemetry.Summary, error), ms race.MetricsStore) (*report.Race, error) {
	plan, err := race.Check(req)
	if err != nil {
		return nil, &usageError{err: err} // the track, target or options are the user's input
	}
	fmt.Fprintf(progress, "race %s/%s on this machine (no cluster is up: an in-process load driver)\n", plan.Track.Name, plan.Challenge.Name)
	logger := slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: logLevel}))
	local, err := race.StartLocal(context.Background(), versionString(), worker.Facts(), race.MemberConfig{DataDir: dir.Data(), Logger: logger})
	if err != nil {
		return nil, err
	}
	defer local.Close()
	pp := newProgressPrinter(progress)
	conductor := race.NewConductor(race.Config{System: local.System, Store: store, Version: versionString(),
		Logger: logger, Progress: pp.print, HostTelemetry: hosts, MetricsStore: ms})
	stop := context.AfterFunc(ctx, func() {
		fmt.Fprintln(progress, "aborting the race")
		conductor.Abort()
	})
	defer stop()
	return conductor.Run(context.Background(), plan, []string{race.LocalMember})
}

// raceOnCluster asks the cluster's coordinator to run the race and follows
// its progress until it ends.
func raceOnCluster(ctx context.Context, name string, client *control.Client, store report.Store, req control.RaceRequest, progress io.Writer) (*report.Race, error) {
	evctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pp := newProgressPrinter(progress)
	var id string
	var idMu sync.Mutex
	ended := make(chan control.RaceProgress, 1)
	streamErr := make(chan error, 1)
	go func() {
		streamErr <- client.Events(evctx, func(ev control.Event) {
			if ev.Kind != control.EventRace || ev.Race == nil {
				return
			}
			idMu.Lock()
			mine := ev.Race.ID == id
			idMu.Unlock()
			if !mine {
				return
			}
			pp.print(*ev.Race)
			if ev.Race.State != control.RaceRunning {
				select {
				case ended <- *ev.Race:
				default:
				}
			}
		})
	}()
	idMu.Lock()
	started, err := client.StartRace(ctx, req)
	if err != nil {
		idMu.Unlock()
		if errors.Is(err, control.ErrInvalidRequest) {
			return nil, &usageError{err: fmt.Errorf("cluster %s: %w", name, err)}
		}
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	id = started.ID
	idMu.Unlock()
	fmt.Fprintf(progress, "race %s on cluster %s\n", id, name)
	// The event stream may drop events or end; the race's end is also
	// asked for (GET /v1/race?id=) whenever the stream has been quiet for
	// a while or is gone, so it cannot be missed.
	quiet := time.NewTicker(2 * time.Second)
	defer quiet.Stop()
	abortSent, streamGone := false, false
	for {
		select {
		case final := <-ended:
			return loadEnded(store, final)
		case err := <-streamErr:
			if !streamGone {
				fmt.Fprintf(progress, "event stream ended (%v); following the race by polling\n", err)
			}
			streamGone = true
		case <-quiet.C:
		case <-ctx.Done():
			if !abortSent {
				fmt.Fprintln(progress, "aborting the race")
				if err := client.AbortRace(context.Background()); err != nil {
					return nil, fmt.Errorf("cluster %s: abort race %s: %w", name, id, err)
				}
				abortSent = true
			}
			ctx = context.Background()
			continue
		}
		pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rp, err := client.RaceByID(pctx, id)
		cancel()
		switch {
		case err != nil && streamGone:
			return nil, fmt.Errorf("cluster %s: race %s: the coordinator no longer answers: %w", name, id, err)
		case err == nil && rp == nil && streamGone:
			return nil, fmt.Errorf("cluster %s: the coordinator does not know race %s any more", name, id)
		case err == nil && rp != nil && rp.Ended():
			pp.print(*rp)
			return loadEnded(store, *rp)
		}
	}
}

// loadEnded loads a race that ended. One that ended before it measured
// anything (its target did not answer, its corpus push failed) was not
// saved: its error is the answer.
func loadEnded(store report.Store, final control.RaceProgress) (*report.Race, error) {
	r, err := store.Load(final.ID)
	if err != nil && final.Error != "" {
		return nil, fmt.Errorf("race %s %s: %s", final.ID, final.State, final.Error)
	}
	return r, err
}

func writeRaceReport(w io.Writer, r *report.Race, f report.Format, file string) error {
	if err := report.WriteSummary(w, r, f); err != nil {
		return err
	}
	if file == "" {
		return nil
	}
	out, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := report.WriteSummary(out, r, f); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func parseTags(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	tags := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want key:value", kv)
		}
		tags[k] = v
	}
	return tags, nil
}

// progressPrinter prints a line when a task changes state and, for running
// tasks, about every two seconds.
type progressPrinter struct {
	w         io.Writer
	mu        sync.Mutex
	state     map[string]race.TaskState
	preparing map[string]string
	// pushPhase and pushed are each host's corpus push phase and last
	// line printed, pushedAt when it was printed.
	pushPhase map[string]string
	pushed    map[string]string
	pushedAt  time.Time
	lost      map[string]bool
	last      time.Time
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	return &progressPrinter{w: w, state: map[string]race.TaskState{}, preparing: map[string]string{},
		pushPhase: map[string]string{}, pushed: map[string]string{}, lost: map[string]bool{}}
}

func (p *progressPrinter) print(rp control.RaceProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// The corpus push: a line per host when its phase changes, and every
	// two seconds while it sends.
	periodicPush := time.Since(p.pushedAt) >= 2*time.Second
	for _, host := range sortedKeys(rp.CorpusPush) {
		cp := rp.CorpusPush[host]
		line := cp.String()
		if line == p.pushed[host] || (string(cp.Phase) == p.pushPhase[host] && !periodicPush) {
			continue
		}
		p.pushed[host], p.pushPhase[host] = line, string(cp.Phase)
		p.pushedAt = time.Now()
		fmt.Fprintf(p.w, "  %s: corpus push %s\n", host, line)
	}
	for _, host := range sortedKeys(rp.Preparing) {
		if line := rp.Preparing[host]; line != p.preparing[host] {
			p.preparing[host] = line
			fmt.Fprintf(p.w, "  %s: %s\n", host, line)
		}
	}
	for _, host := range sortedKeys(rp.Lost) {
		if !p.lost[host] {
			p.lost[host] = true
			fmt.Fprintf(p.w, "  load driver %s lost: %s\n", host, rp.Lost[host])
		}
	}
	periodic := time.Since(p.last) >= 2*time.Second
	for _, t := range rp.Tasks {
		changed := p.state[t.Task] != t.State
		p.state[t.Task] = t.State
		running := t.State == control.TaskRunning
		if t.State == control.TaskWaiting || (running && !periodic) || (!running && !changed) {
			continue
		}
		line := fmt.Sprintf("  %-28s %-8s %8d requests", t.Task, t.State, t.Requests)
		if t.Done >= 0 && running {
			line += fmt.Sprintf(" %3.0f%%", 100*t.Done)
		}
		if t.Throughput > 0 {
			line += fmt.Sprintf("  %.1f %s", t.Throughput, t.Unit)
		}
		if t.LatencyP50 > 0 {
			line += fmt.Sprintf("  latency p50 %s p99 %s  service p50 %s", ms(t.LatencyP50), ms(t.LatencyP99), ms(t.ServiceTimeP50))
		}
		if t.Errors > 0 {
			line += fmt.Sprintf("  errors %d", t.Errors)
		}
		fmt.Fprintln(p.w, line)
	}
	if periodic {
		p.last = time.Now()
	}
	if rp.State != control.RaceRunning && rp.Error != "" {
		fmt.Fprintf(p.w, "race %s: %s\n", rp.State, rp.Error)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
