package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"rally/home"
)

// ErrNoneUp means no cluster has a control socket on this machine (nor,
// for ResolveKnown, a state file). It comes wrapped with ErrNotRunning.
var ErrNoneUp = errors.New("no cluster is up")

// AmbiguousError means several clusters could be meant and none was named.
type AmbiguousError struct {
	// Names are the candidates, sorted.
	Names []string
	// Known is set when the candidates include clusters that only left a
	// state file (ResolveKnown), not only running ones.
	Known bool
}

func (e *AmbiguousError) Error() string {
	what := "up"
	if e.Known {
		what = "known"
	}
	return fmt.Sprintf("several clusters are %s (%s): name one with --cluster", what, strings.Join(e.Names, ", "))
}

// Found is the cluster a command is about.
type Found struct {
	Name string
	// Client talks to the cluster's coordinator. It is nil only from
	// ResolveKnown, for a cluster whose coordinator does not answer.
	Client *Client
	// Status is the coordinator's answer to the probe; zero without Client.
	Status Status
}

// probeTimeout bounds the status request that tells whether a coordinator
// answers: a hung coordinator must not hang the command asking.
const probeTimeout = 10 * time.Second

// Resolve finds the running cluster a command talks to: the named one,
// else the only one with a control socket under dir. It fails when none
// is up (ErrNoneUp), when several are and none is named (*AmbiguousError),
// and when the cluster's coordinator does not answer (ErrNotRunning, with
// the hint to clean up after a crashed one).
func Resolve(ctx context.Context, dir home.Dir, name string) (Found, error) {
	name, err := choose(name, sockets(dir), false)
	if err != nil {
		return Found{}, err
	}
	f, err := probe(ctx, dir, name)
	if err == nil {
		return f, nil
	}
	if !exists(dir.Socket(name)) && !exists(dir.StateFile(name)) {
		return Found{}, fmt.Errorf("cluster %s: %w: it is not up (start it with: rally up -i hosts.yaml)", name, ErrNotRunning)
	}
	return Found{}, fmt.Errorf("cluster %s: %w (if its coordinator crashed: rally down -i hosts.yaml)", name, err)
}

// ResolveKnown finds the cluster `rally down` is about: the named one,
// else the only one that has a control socket or left a state file. A
// cluster whose coordinator does not answer is no error here: Found then
// has no Client, and the caller cleans up from the state file. It fails
// when no cluster is known (ErrNoneUp) or several are and none is named
// (*AmbiguousError).
func ResolveKnown(ctx context.Context, dir home.Dir, name string) (Found, error) {
	known := sockets(dir)
	for _, n := range stateFiles(dir) {
		if !slices.Contains(known, n) {
			known = append(known, n)
		}
	}
	slices.Sort(known)
	name, err := choose(name, known, true)
	if err != nil {
		return Found{}, err
	}
	f, err := probe(ctx, dir, name)
	if err != nil {
		return Found{Name: name}, nil
	}
	return f, nil
}

// choose returns the named cluster, checked, or else the only candidate.
func choose(name string, candidates []string, known bool) (string, error) {
	if name != "" {
		return name, home.CheckCluster(name)
	}
	switch len(candidates) {
	case 0:
		return "", fmt.Errorf("%w: %w (start one with: rally up -i hosts.yaml)", ErrNotRunning, ErrNoneUp)
	case 1:
		return candidates[0], nil
	}
	return "", &AmbiguousError{Names: candidates, Known: known}
}

// probe asks the named cluster's coordinator for its status.
func probe(ctx context.Context, dir home.Dir, name string) (Found, error) {
	client := NewClient(dir.Socket(name))
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	st, err := client.Status(pctx)
	if err != nil {
		return Found{}, err
	}
	return Found{Name: name, Client: client, Status: st}, nil
}

// sockets names the clusters with a control socket, sorted.
func sockets(dir home.Dir) []string {
	paths, _ := filepath.Glob(filepath.Join(dir.RunDir(), "*.sock"))
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".sock"))
	}
	slices.Sort(names)
	return names
}

// stateFiles names the clusters with a state file, sorted.
func stateFiles(dir home.Dir) []string {
	paths, _ := filepath.Glob(dir.StateFile("*"))
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(filepath.Dir(p)))
	}
	slices.Sort(names)
	return names
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
