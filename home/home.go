// Package home names the files rally keeps on the coordinator's machine
// under one root (default ~/.rally): control sockets, cluster state, logs,
// races, corpora and cached worker builds. It only computes paths; reading
// the environment to find the root is the CLI's job.
package home

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Dir is the root of rally's local files, e.g. /home/me/.rally.
type Dir string

// Default returns $RALLY_HOME when set, else ~/.rally.
func Default() (Dir, error) {
	if d := os.Getenv("RALLY_HOME"); d != "" {
		return Dir(d), nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	return Dir(filepath.Join(h, ".rally")), nil
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// CheckCluster rejects cluster names that would escape the tree.
func CheckCluster(name string) error {
	if !safeName.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("cluster name %q: want letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// RunDir holds the control sockets.
func (d Dir) RunDir() string { return filepath.Join(string(d), "run") }

// Socket is the control socket of a cluster's coordinator.
func (d Dir) Socket(cluster string) string { return filepath.Join(d.RunDir(), cluster+".sock") }

// ClusterDir holds a cluster's state file and coordinator log.
func (d Dir) ClusterDir(cluster string) string {
	return filepath.Join(string(d), "clusters", cluster)
}

// StateFile records what was started where for a cluster.
func (d Dir) StateFile(cluster string) string {
	return filepath.Join(d.ClusterDir(cluster), "state.json")
}

// CoordinatorLog is where a detached coordinator writes its log.
func (d Dir) CoordinatorLog(cluster string) string {
	return filepath.Join(d.ClusterDir(cluster), "coordinator.log")
}

// WorkerLogs is where worker logs of a cluster are fetched to at down.
func (d Dir) WorkerLogs(cluster string) string { return filepath.Join(string(d), "logs", cluster) }

// Races holds saved races.
func (d Dir) Races() string { return filepath.Join(string(d), "races") }

// Data holds corpora.
func (d Dir) Data() string { return filepath.Join(string(d), "benchmarks", "data") }

// BuildCache holds worker builds for platforms other than the coordinator's.
func (d Dir) BuildCache() string { return filepath.Join(string(d), "cache", "bin") }
