package coordinator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"rally/control"
	"rally/inventory"
	"rally/payload"
	"rally/race"
	"rally/report"
	"rally/spelling"
)

// racing is the coordinator's race state: the conductor (created once,
// it registers the race handlers on the actor system) and the running
// race, if any.
type racing struct {
	once      sync.Once
	conductor *race.Conductor
	mu        sync.Mutex
	busy      bool // from StartRace's check until the race's end
	cancel    context.CancelFunc
	// pieces are the corpus pieces described for earlier races.
	pieces pieceCache
}

func (c *Coordinator) raceConductor() *race.Conductor {
	c.racing.once.Do(func() {
		c.racing.conductor = race.NewConductor(race.Config{
			System:  c.sys,
			Store:   report.Store{Dir: c.cfg.Home.Races()},
			Version: c.cfg.Version,
			Logger:  c.log,
			// The hosts of the nodes this coordinator started.
			HostTelemetry: c.sampleHosts,
			Progress: func(p race.Progress) {
				c.events.publish(control.Event{Time: time.Now(), Kind: control.EventRace, Race: &p})
			},
		})
	})
	return c.racing.conductor
}

// StartRace checks a race request, pushes the track to every joined
// load-driver host and starts the race in the background, which first
// pushes the corpora (corpusDelivery). Its progress
// and final report are published as race events; the race is saved
// under ~/.rally/races.
func (c *Coordinator) StartRace(ctx context.Context, req control.RaceRequest) (control.RaceStarted, error) {
	c.racing.mu.Lock()
	if c.racing.busy {
		c.racing.mu.Unlock()
		return control.RaceStarted{}, race.ErrBusy
	}
	c.racing.busy = true
	c.racing.mu.Unlock()
	started := false
	defer func() {
		if !started {
			c.racing.mu.Lock()
			c.racing.busy = false
			c.racing.mu.Unlock()
		}
	}()
	if n := req.Telemetry.NodeStart(); len(n) > 0 {
		return control.RaceStarted{}, &BadRequestError{Err: fmt.Errorf("telemetry %s: set when the nodes start: give --telemetry %s to rally up", strings.Join(n, ","), strings.Join(n, ","))}
	}
	if req.TargetHosts == "" {
		if req.TargetHosts = c.targetHosts(); req.TargetHosts == "" {
			return control.RaceStarted{}, &BadRequestError{Err: errors.New("no target: give --target-hosts host:port of a running cluster, or bring the cluster up with provisioner hosts and a distribution (rally up --distribution-path FILE)")}
		}
		if p := c.cfg.Provision; p != nil {
			req.Pipeline, req.Car = "from-distribution", p.Car
			// What the nodes were started with, for the race's record.
			req.Telemetry.Devices = append(req.Telemetry.Devices, p.Telemetry.Devices...)
		}
	}
	if err := req.Corpus.Check(); err != nil {
		return control.RaceStarted{}, &BadRequestError{Err: err}
	}
	plan, err := race.Check(req)
	if err != nil {
		return control.RaceStarted{}, &BadRequestError{Err: err}
	}
	hosts, err := c.raceHosts(req.LoadDriverHosts, req.MinLoadDrivers)
	if err != nil {
		return control.RaceStarted{}, err
	}
	var members []string
	byName := map[string]*hostRun{}
	paths := map[string]string{}
	trackDir, trackFile := req.TrackPath, ""
	if st, err := os.Stat(req.TrackPath); err == nil && !st.IsDir() {
		trackDir, trackFile = filepath.Dir(req.TrackPath), filepath.Base(req.TrackPath)
	}
	for _, h := range hosts {
		if h.phase() != control.PhaseJoined {
			continue // lost since raceHosts looked
		}
		h.mu.Lock()
		client, workdir := h.client, h.workdir
		h.mu.Unlock()
		// The track goes without its documents files: the corpus source
		// says how they reach the host (the corpus push, below, sends
		// only what its clients read).
		res, err := payload.PushTreeExcept(ctx, client, trackDir, workdir, "tracks", trackCorpusFiles(plan))
		if err != nil {
			return control.RaceStarted{}, err
		}
		rp := res.RemoteDir
		if trackFile != "" {
			rp = path.Join(rp, trackFile)
		}
		paths[string(h.inv.Name)] = rp
		members = append(members, string(h.inv.Name))
		byName[string(h.inv.Name)] = h
	}
	if len(members) == 0 {
		return control.RaceStarted{}, errors.New("no joined load-driver host to run the race")
	}
	plan.TrackPaths = paths
	plan.Corpora = c.corpusDelivery(plan, byName, members)
	plan.ID = report.NewRaceID(time.Now())
	rctx, cancel := context.WithCancel(c.life)
	c.racing.mu.Lock()
	c.racing.cancel = cancel
	c.racing.mu.Unlock()
	started = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() {
			cancel()
			c.racing.mu.Lock()
			c.racing.busy, c.racing.cancel = false, nil
			c.racing.mu.Unlock()
		}()
		r, err := c.raceConductor().Run(rctx, plan, members)
		if err != nil {
			c.log.Error("race ended with an error", "race", plan.ID, "err", err)
		} else {
			c.log.Info("race finished", "race", r.ID, "status", r.Status)
		}
	}()
	return control.RaceStarted{ID: plan.ID}, nil
}

// raceHosts picks the load drivers a race runs on: every load-driver host
// of the inventory, or those --load-driver-hosts names (by inventory name
// or address), in inventory order. A name that is no load-driver host of
// the inventory is refused, naming it; so is a race that would start while
// one of the chosen hosts is not joined, naming it, unless
// --min-load-drivers allows the joined ones (at least that many of them).
func (c *Coordinator) raceHosts(names []string, min int) ([]*hostRun, error) {
	pool, err := c.loadDriverPool(names)
	if err != nil {
		return nil, &BadRequestError{Err: err}
	}
	what := "load drivers"
	if len(names) > 0 {
		what = "load drivers of --load-driver-hosts"
	}
	var joined []*hostRun
	var missing []string
	for _, h := range pool {
		if ph := h.phase(); ph == control.PhaseJoined {
			joined = append(joined, h)
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s)", h.inv.Name, ph))
		}
	}
	switch {
	case len(missing) == 0:
		return joined, nil
	case len(joined) == 0:
		return nil, &BadRequestError{Err: fmt.Errorf("none of the %d %s is joined: %s; wait for them (rally status)",
			len(pool), what, strings.Join(missing, ", "))}
	case min == 0:
		return nil, &BadRequestError{Err: fmt.Errorf("%d of %d %s joined; not joined: %s; wait for them (rally status) or pass --min-load-drivers %d to race on the joined ones",
			len(joined), len(pool), what, strings.Join(missing, ", "), len(joined))}
	case len(joined) < min:
		return nil, &BadRequestError{Err: fmt.Errorf("%d %s joined, --min-load-drivers asks for %d; not joined: %s",
			len(joined), what, min, strings.Join(missing, ", "))}
	}
	c.log.Warn("racing without every load driver", "joined", len(joined), "of", len(pool), "missing", strings.Join(missing, ", "))
	return joined, nil
}

// loadDriverPool returns the load-driver hosts of the inventory, or those
// names picks out of them, in inventory order.
func (c *Coordinator) loadDriverPool(names []string) ([]*hostRun, error) {
	var drivers []*hostRun
	for _, h := range c.hosts {
		if h.inv.Has(inventory.RoleLoadDriver) {
			drivers = append(drivers, h)
		}
	}
	if len(names) == 0 {
		return drivers, nil
	}
	chosen := map[*hostRun]bool{}
	var problems []string
	for _, name := range names {
		h, err := c.loadDriverNamed(name, drivers)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		chosen[h] = true
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("--load-driver-hosts: %s", strings.Join(problems, "; "))
	}
	var pool []*hostRun
	for _, h := range drivers {
		if chosen[h] {
			pool = append(pool, h)
		}
	}
	return pool, nil
}

// loadDriverNamed finds the load driver name means: the host of that
// inventory name, else the one load driver at that address.
func (c *Coordinator) loadDriverNamed(name string, drivers []*hostRun) (*hostRun, error) {
	for _, h := range c.hosts {
		if string(h.inv.Name) != name {
			continue
		}
		if !h.inv.Has(inventory.RoleLoadDriver) {
			return nil, fmt.Errorf("%s is not a load driver (its roles: %s)", name, roles(h.inv))
		}
		return h, nil
	}
	var at []*hostRun
	var atNames []string
	for _, h := range drivers {
		if h.inv.Address == name {
			at = append(at, h)
			atNames = append(atNames, string(h.inv.Name))
		}
	}
	switch len(at) {
	case 1:
		return at[0], nil
	case 0:
	default:
		return nil, fmt.Errorf("%s is the address of %s: name the one you mean", name, strings.Join(atNames, ", "))
	}
	for _, h := range c.hosts {
		if h.inv.Address == name {
			return nil, fmt.Errorf("%s (%s) is not a load driver (its roles: %s)", name, h.inv.Name, roles(h.inv))
		}
	}
	var known, listed []string
	for _, h := range drivers {
		known = append(known, string(h.inv.Name), h.inv.Address)
		listed = append(listed, fmt.Sprintf("%s (%s)", h.inv.Name, h.inv.Address))
	}
	hint := ""
	if best, ok := spelling.Nearest(name, known, max(2, len(name)/3)); ok {
		hint = fmt.Sprintf(" (did you mean %q?)", best)
	}
	return nil, fmt.Errorf("%s is no host of the inventory%s; its load drivers: %s", name, hint, strings.Join(listed, ", "))
}

// roles lists a host's roles for a message.
func roles(h inventory.Host) string {
	names := make([]string, len(h.Roles))
	for i, r := range h.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// BadRequestError marks a race request the coordinator refuses as the
// user's to fix (a bad track, target or option).
type BadRequestError struct{ Err error }

func (e *BadRequestError) Error() string { return e.Err.Error() }
func (e *BadRequestError) Unwrap() error { return e.Err }

// AbortRace aborts the running race.
func (c *Coordinator) AbortRace() error {
	if !c.raceConductor().Abort() {
		return fmt.Errorf("no race is running")
	}
	return nil
}

// stopRace cancels a running race (teardown).
func (c *Coordinator) stopRace() {
	c.racing.mu.Lock()
	cancel := c.racing.cancel
	c.racing.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
