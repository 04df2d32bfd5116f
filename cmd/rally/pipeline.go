package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"time"

	"rally/control"
	"rally/home"
	"rally/provision"
	"rally/report"
	"rally/telemetry"
	"rally/track"
)

// Pipelines, as esrally names them.
const (
	pipelineBenchmarkOnly    = "benchmark-only"
	pipelineFromDistribution = "from-distribution"
	pipelineFromSources      = "from-sources"
)

// pipeline checks the flags that say where the target comes from and
// returns the pipeline they ask for.
func (c *raceCmd) pipeline() (string, error) {
	if err := c.distFlags.check(); err != nil {
		return "", err
	}
	sources := c.sources()
	p := c.Pipeline
	if p == "" {
		p = pipelineBenchmarkOnly
		if sources > 0 {
			p = pipelineFromDistribution
		}
	}
	switch p {
	case pipelineFromSources:
		return "", usageErrorf("--pipeline from-sources: rally does not build engines; build the distribution archive (e.g. ./gradlew localDistro) and pass it with --distribution-path")
	case pipelineFromDistribution:
		if sources == 0 {
			return "", usageErrorf("--pipeline from-distribution needs a distribution: --distribution-path FILE (a zip or tar.gz of Elasticsearch or OpenSearch), --distribution-url URL or --distribution-version V --engine E")
		}
		if c.TargetHosts != "" {
			return "", usageErrorf("--target-hosts and --pipeline from-distribution exclude each other: the race targets the nodes it starts")
		}
	case pipelineBenchmarkOnly:
		if sources > 0 {
			return "", usageErrorf("--pipeline benchmark-only races a running cluster: drop the distribution, or use --pipeline from-distribution")
		}
	}
	return p, nil
}

// raceOnDistribution is esrally's from-distribution pipeline on this
// machine: it starts nodes from the distribution and the car, races them
// with an in-process load driver, stops them and keeps their logs with the
// race.
func raceOnDistribution(ctx context.Context, c *raceCmd, dir home.Dir, store report.Store, req control.RaceRequest, progress io.Writer) (*report.Race, error) {
	carParams, err := track.ParseParams(c.CarParams)
	if err != nil {
		return nil, usageErrorf("--car-params: %v", err)
	}
	team, err := c.teamFlags.load(ctx)
	if err != nil {
		return nil, err
	}
	plugins, err := provision.ParsePlugins(c.ElasticsearchPlugins)
	if err != nil {
		return nil, usageErrorf("--elasticsearch-plugins: %v", err)
	}
	archive, err := c.distribution(ctx, dir, progress)
	if err != nil {
		return nil, err
	}
	name := "rally-" + report.NewRaceID(time.Now())[len("20060102T150405Z-"):]
	nodesDir := provision.NodesDir(filepath.Join(string(dir), "local"), name, c.RunAs)
	cl, err := provision.StartCluster(ctx, provision.ClusterOptions{
		Archive: archive, Team: team, Car: c.Car, CarParams: carParams,
		RuntimeJDK: c.RuntimeJDK, RunAs: c.RunAs, Dir: nodesDir, Name: name, Health: c.ClusterHealth, Plugins: plugins,
		Telemetry: java(req.Telemetry),
		Progress:  func(line string) { fmt.Fprintln(progress, line) },
	})
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	req.TargetHosts = cl.TargetHosts()
	req.Pipeline, req.Car = pipelineFromDistribution, c.Car
	r, raceErr := raceLocally(ctx, dir, store, req, progress, sampleLocal(cl), c.metricsStoreFlags.conductorStore())
	logs := nodesDir + "-logs"
	if r != nil {
		logs = filepath.Join(store.Dir, r.ID, "logs")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.Stop(sctx, 30*time.Second, logs, c.PreserveInstall); err != nil {
		fmt.Fprintf(progress, "stopping the nodes: %v\n", err)
		if raceErr == nil {
			raceErr = fmt.Errorf("stop nodes: %w", err)
		}
	} else {
		fmt.Fprintf(progress, "nodes stopped; their logs are in %s\n", logs)
	}
	return r, raceErr
}

// teamFlags choose the team cars come from, as esrally's flags do.
type teamFlags struct {
	TeamPath       string `name:"team-path" placeholder:"DIR" type:"existingdir" help:"Read the team in DIR (a Rally team: cars/v1/*.ini) instead of rally's default team."`
	TeamRepository string `name:"team-repository" placeholder:"URL" help:"Clone the team from this git repository (a URL or a local path) into rally's cache."`
	TeamRevision   string `name:"team-revision" placeholder:"REV" help:"The branch, tag or commit of --team-repository to use (default: its default branch)."`
}

// load returns the team the flags name: a directory, a git repository
// (cloned into ~/.rally/cache/teams) or the default team.
func (f teamFlags) load(ctx context.Context) (*provision.Team, error) {
	switch {
	case f.TeamPath != "" && f.TeamRepository != "":
		return nil, usageErrorf("--team-path and --team-repository exclude each other")
	case f.TeamRevision != "" && f.TeamRepository == "":
		return nil, usageErrorf("--team-revision needs --team-repository")
	case f.TeamPath != "":
		t, err := provision.LoadTeam(f.TeamPath)
		if err != nil {
			return nil, &usageError{err: err}
		}
		return t, nil
	case f.TeamRepository != "":
		dir, err := home.Default()
		if err != nil {
			return nil, err
		}
		path, err := provision.CloneTeam(ctx, f.TeamRepository, f.TeamRevision, filepath.Join(string(dir), "cache", "teams"))
		if err != nil {
			return nil, err
		}
		t, err := provision.LoadTeam(path)
		if err != nil {
			return nil, &usageError{err: err}
		}
		return t, nil
	}
	return provision.DefaultTeam()
}

// distribution returns the archive to start nodes from: the given file,
// or one downloaded on this machine (from --distribution-url, or the
// official URL of --distribution-version) and checked against its sha512
// before anything is unpacked. Downloads are kept in
// ~/.rally/cache/distributions.
func (c *raceCmd) distribution(ctx context.Context, dir home.Dir, progress io.Writer) (string, error) {
	if c.DistributionPath != "" {
		return c.DistributionPath, nil
	}
	url := c.DistributionURL
	if url == "" {
		var err error
		if url, err = provision.DownloadURL(c.Engine, c.DistributionVersion, runtime.GOOS, runtime.GOARCH); err != nil {
			return "", usageErrorf("--distribution-version %s: %v", c.DistributionVersion, err)
		}
	}
	dest := filepath.Join(string(dir), "cache", "distributions", path.Base(url))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	if c.DistributionSHA512 != "" {
		if err := provision.VerifySHA512(dest, c.DistributionSHA512); err == nil {
			fmt.Fprintf(progress, "distribution %s already downloaded and its sha512 matches\n", dest)
			return dest, nil
		}
	}
	fmt.Fprintf(progress, "downloading %s\n", url)
	if err := provision.FetchVerified(ctx, url, c.DistributionSHA512, dest); err != nil {
		return "", err
	}
	return dest, nil
}

// sampleLocal samples this machine and the nodes of cl from /proc during
// the race, in this process, as a provisioner host's worker does.
func sampleLocal(cl *provision.Cluster) func(context.Context) func(context.Context) (map[string]telemetry.Summary, error) {
	return func(context.Context) func(context.Context) (map[string]telemetry.Summary, error) {
		s := telemetry.NewSampler("", telemetry.DefaultInterval, cl.Targets("/proc"))
		s.Start()
		return func(context.Context) (map[string]telemetry.Summary, error) {
			host, err := os.Hostname()
			if err != nil {
				host = "localhost"
			}
			return map[string]telemetry.Summary{host: s.Stop()}, nil
		}
	}
}
