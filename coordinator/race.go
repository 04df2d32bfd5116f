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
// load-driver host and starts the race in the background. Its progress
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
	plan, err := race.Check(req)
	if err != nil {
		return control.RaceStarted{}, &BadRequestError{Err: err}
	}
	if err := c.checkLoadDrivers(req.MinLoadDrivers); err != nil {
		return control.RaceStarted{}, err
	}
	var members []string
	paths := map[string]string{}
	trackDir, trackFile := req.TrackPath, ""
	if st, err := os.Stat(req.TrackPath); err == nil && !st.IsDir() {
		trackDir, trackFile = filepath.Dir(req.TrackPath), filepath.Base(req.TrackPath)
	}
	for _, h := range c.hosts {
		if h.phase() != control.PhaseJoined || !h.inv.Has(inventory.RoleLoadDriver) {
			continue
		}
		h.mu.Lock()
		client, workdir := h.client, h.workdir
		h.mu.Unlock()
		res, err := payload.PushTree(ctx, client, trackDir, workdir, "tracks")
		if err != nil {
			return control.RaceStarted{}, err
		}
		rp := res.RemoteDir
		if trackFile != "" {
			rp = path.Join(rp, trackFile)
		}
		paths[string(h.inv.Name)] = rp
		members = append(members, string(h.inv.Name))
	}
	if len(members) == 0 {
		return control.RaceStarted{}, errors.New("no joined load-driver host to run the race")
	}
	plan.TrackPaths = paths
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

// checkLoadDrivers refuses a race that would start with fewer joined
// load drivers than the inventory lists, naming the missing hosts, unless
// the user allowed it with min (at least that many must be joined).
func (c *Coordinator) checkLoadDrivers(min int) error {
	var joined int
	var missing []string
	total := 0
	for _, h := range c.hosts {
		if !h.inv.Has(inventory.RoleLoadDriver) {
			continue
		}
		total++
		if ph := h.phase(); ph == control.PhaseJoined {
			joined++
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s)", h.inv.Name, ph))
		}
	}
	switch {
	case len(missing) == 0:
		return nil
	case min == 0:
		return &BadRequestError{Err: fmt.Errorf("%d of %d load drivers joined; not joined: %s; wait for them (rally status) or pass --min-load-drivers %d to race on the joined ones",
			joined, total, strings.Join(missing, ", "), joined)}
	case joined < min:
		return &BadRequestError{Err: fmt.Errorf("%d load drivers joined, --min-load-drivers asks for %d; not joined: %s",
			joined, min, strings.Join(missing, ", "))}
	}
	c.log.Warn("racing without every load driver", "joined", joined, "of", total, "missing", strings.Join(missing, ", "))
	return nil
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
