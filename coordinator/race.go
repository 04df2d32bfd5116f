package coordinator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"rally/control"
	"rally/inventory"
	"rally/payload"
	"rally/race"
	"rally/report"
)

// racing is the coordinator's race state: the conductor (created once,
// it registers the race handlers on the actor system) and where each
// member finds the running race's track.
type racing struct {
	once      sync.Once
	conductor *race.Conductor
	mu        sync.Mutex
	paths     map[string]string // member → track path on its host
	cancel    context.CancelFunc
}

func (c *Coordinator) raceConductor() *race.Conductor {
	c.racing.once.Do(func() {
		c.racing.conductor = race.NewConductor(race.Config{
			System:  c.sys,
			Store:   report.Store{Dir: c.cfg.Home.Races()},
			Version: c.cfg.Version,
			Logger:  c.log,
			TrackPathFor: func(member, p string) string {
				c.racing.mu.Lock()
				defer c.racing.mu.Unlock()
				if rp, ok := c.racing.paths[member]; ok {
					return rp
				}
				return p
			},
			Progress: func(p control.RaceProgress) {
				c.events.publish(control.Event{Time: time.Now(), Kind: "race", Race: &p})
			},
		})
	})
	return c.racing.conductor
}

// StartRace checks a race request, pushes the track to every joined
// load-driver host and starts the race in the background. Its progress
// and final report are published as "race" events; the race is saved
// under ~/.rally/races.
func (c *Coordinator) StartRace(ctx context.Context, req control.RaceRequest) (control.RaceStarted, error) {
	if c.raceConductor().Current() != nil {
		return control.RaceStarted{}, race.ErrBusy
	}
	plan, err := race.Check(req)
	if err != nil {
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
	c.racing.mu.Lock()
	c.racing.paths = paths
	c.racing.mu.Unlock()
	plan.ID = report.NewRaceID(time.Now())
	rctx, cancel := context.WithCancel(context.Background())
	c.racing.mu.Lock()
	c.racing.cancel = cancel
	c.racing.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		r, err := c.raceConductor().Run(rctx, plan, members)
		if err != nil {
			c.log.Error("race ended with an error", "race", plan.ID, "err", err)
		} else {
			c.log.Info("race finished", "race", r.ID, "status", r.Status)
		}
	}()
	return control.RaceStarted{ID: plan.ID}, nil
}

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
