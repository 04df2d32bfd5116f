package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"rally/control"
	"rally/home"
	"rally/provision"
	"rally/report"
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
	p := c.Pipeline
	if p == "" {
		p = pipelineBenchmarkOnly
		if c.DistributionPath != "" {
			p = pipelineFromDistribution
		}
	}
	switch p {
	case pipelineFromSources:
		return "", usageErrorf("--pipeline from-sources: rally does not build engines; build the distribution archive (e.g. ./gradlew localDistro) and pass it with --distribution-path")
	case pipelineFromDistribution:
		if c.DistributionPath == "" {
			return "", usageErrorf("--pipeline from-distribution needs --distribution-path FILE (a zip or tar.gz of Elasticsearch or OpenSearch)")
		}
		if c.TargetHosts != "" {
			return "", usageErrorf("--target-hosts and --pipeline from-distribution exclude each other: the race targets the nodes it starts")
		}
	case pipelineBenchmarkOnly:
		if c.DistributionPath != "" {
			return "", usageErrorf("--pipeline benchmark-only races a running cluster: drop --distribution-path, or use --pipeline from-distribution")
		}
		if c.TargetHosts == "" {
			return "", usageErrorf("no target: give --target-hosts host:port of a running cluster, or --distribution-path FILE to start one on this machine")
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
	var team *provision.Team
	if c.TeamPath != "" {
		if team, err = provision.LoadTeam(c.TeamPath); err != nil {
			return nil, &usageError{err: err}
		}
	}
	name := "rally-" + report.NewRaceID(time.Now())[len("20060102T150405Z-"):]
	nodesDir := provision.NodesDir(filepath.Join(string(dir), "local"), name, c.RunAs)
	cl, err := provision.StartCluster(ctx, provision.ClusterOptions{
		Archive: c.DistributionPath, Team: team, Car: c.Car, CarParams: carParams,
		RuntimeJDK: c.RuntimeJDK, RunAs: c.RunAs, Dir: nodesDir, Name: name, Health: c.ClusterHealth,
		Progress: func(line string) { fmt.Fprintln(progress, line) },
	})
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	req.TargetHosts = cl.TargetHosts()
	req.Pipeline, req.Car = pipelineFromDistribution, c.Car
	r, raceErr := raceLocally(ctx, dir, store, req, progress)
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
