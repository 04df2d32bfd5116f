package coordinator

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rally/control"
	"rally/estarget"
	"rally/inventory"
	"rally/report"
	"rally/track"
)

// TestCheckLoadDrivers: a race refuses to start while a load driver of
// the inventory is not joined, naming it, unless --min-load-drivers allows
// the joined ones; provisioner-only hosts do not count.
func TestCheckLoadDrivers(t *testing.T) {
	host := func(name, phase string, roles ...inventory.Role) *hostRun {
		return &hostRun{inv: inventory.Host{Name: inventory.HostName(name), Roles: roles},
			status: control.HostStatus{Name: name, Phase: phase}}
	}
	ld := inventory.RoleLoadDriver
	for _, tc := range []struct {
		name    string
		hosts   []*hostRun
		min     int
		wantErr string // "" means the race may start
	}{
		{"all joined", []*hostRun{host("h1", control.PhaseJoined, ld), host("h2", control.PhaseJoined, ld)}, 0, ""},
		{"one lost is named", []*hostRun{host("h1", control.PhaseJoined, ld), host("h3", control.PhaseLost, ld)}, 0,
			"1 of 2 load drivers joined; not joined: h3 (lost); wait for them (rally status) or pass --min-load-drivers 1"},
		{"min allows the joined", []*hostRun{host("h1", control.PhaseJoined, ld), host("h3", control.PhaseRestarting, ld)}, 1, ""},
		{"min above the joined", []*hostRun{host("h1", control.PhaseJoined, ld), host("h3", control.PhaseFailed, ld)}, 2,
			"1 load drivers joined, --min-load-drivers asks for 2; not joined: h3 (failed)"},
		{"a provisioner does not count", []*hostRun{host("h1", control.PhaseJoined, ld), host("es", control.PhaseLost, inventory.RoleProvisioner)}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Coordinator{hosts: tc.hosts, log: slog.New(slog.DiscardHandler)}
			_, err := c.raceHosts(nil, tc.min)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var bad *BadRequestError
			if err == nil || !errors.As(err, &bad) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want a bad request saying %q", err, tc.wantErr)
			}
		})
	}
}

// TestRaceHostsSubset: --load-driver-hosts picks load drivers by inventory
// name or address; a name that is no load driver of the inventory, or an
// address several share, is refused naming it; the joined check and
// --min-load-drivers apply to the hosts named only.
func TestRaceHostsSubset(t *testing.T) {
	host := func(name, addr, phase string, roles ...inventory.Role) *hostRun {
		return &hostRun{inv: inventory.Host{Name: inventory.HostName(name), Address: addr, Roles: roles},
			status: control.HostStatus{Name: name, Phase: phase}}
	}
	ld, joined := inventory.RoleLoadDriver, control.PhaseJoined
	hosts := []*hostRun{
		host("h1", "10.0.0.11", joined, ld),
		host("h2", "10.0.0.12", joined, ld, inventory.RoleProvisioner),
		host("h3", "10.0.0.13", control.PhaseLost, ld),
		host("es", "10.0.0.21", joined, inventory.RoleProvisioner),
		host("h4", "10.0.0.40", joined, ld),
		host("h5", "10.0.0.40", joined, ld),
	}
	for _, tc := range []struct {
		name    string
		names   []string
		min     int
		want    []string
		wantErr string
	}{
		{"by name, while a host not named is lost", []string{"h2", "h1"}, 0, []string{"h1", "h2"}, ""},
		{"by address", []string{"10.0.0.12", "h4"}, 0, []string{"h2", "h4"}, ""},
		{"a host named twice over runs once", []string{"h1", "10.0.0.11"}, 0, []string{"h1"}, ""},
		{"an unknown name with a hint", []string{"h1", "h9"}, 0, nil,
			`--load-driver-hosts: h9 is no host of the inventory (did you mean "h1"?); its load drivers: h1 (10.0.0.11), h2 (10.0.0.12), h3 (10.0.0.13), h4 (10.0.0.40), h5 (10.0.0.40)`},
		{"every bad name is named", []string{"x-ray", "es"}, 0, nil,
			"--load-driver-hosts: x-ray is no host of the inventory; its load drivers: h1 (10.0.0.11), h2 (10.0.0.12), h3 (10.0.0.13), h4 (10.0.0.40), h5 (10.0.0.40); es is not a load driver (its roles: provisioner)"},
		{"the address of a provisioner", []string{"10.0.0.21"}, 0, nil, "10.0.0.21 (es) is not a load driver (its roles: provisioner)"},
		{"an address several load drivers share", []string{"10.0.0.40"}, 0, nil, "10.0.0.40 is the address of h4, h5: name the one you mean"},
		{"a named host not joined is refused", []string{"h1", "h3"}, 0, nil,
			"1 of 2 load drivers of --load-driver-hosts joined; not joined: h3 (lost); wait for them (rally status) or pass --min-load-drivers 1 to race on the joined ones"},
		{"min-load-drivers applies to the hosts named", []string{"h1", "h3", "h4"}, 2, []string{"h1", "h4"}, ""},
		{"min-load-drivers above the joined of those named", []string{"h1", "h3"}, 2, nil,
			"1 load drivers of --load-driver-hosts joined, --min-load-drivers asks for 2; not joined: h3 (lost)"},
		{"none of those named joined", []string{"h3"}, 0, nil, "none of the 1 load drivers of --load-driver-hosts is joined: h3 (lost); wait for them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Coordinator{hosts: hosts, log: slog.New(slog.DiscardHandler)}
			got, err := c.raceHosts(tc.names, tc.min)
			if tc.wantErr != "" {
				var bad *BadRequestError
				if err == nil || !errors.As(err, &bad) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want a bad request saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range got {
				names = append(names, string(h.inv.Name))
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("hosts %v, want %v", names, tc.want)
			}
		})
	}
}

// TestRaceOnLoadDriverHosts races on two of three joined test hosts: only
// they get the track and run clients, race.json names only them, and
// their workers filter the schedule as the coordinator did.
func TestRaceOnLoadDriverHosts(t *testing.T) {
	tc := newTestCluster(t, 3)
	c := tc.start(nil)
	if err := up(t, c); err != nil {
		t.Fatalf("Up: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target, err := estarget.Listen(ctx, "127.0.0.1:0", estarget.New(estarget.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trackJSON := `{"version": 2, "indices": [{"name": "idx"}],
  "operations": [{"name": "q", "operation-type": "search", "index": "idx", "body": {"query": {"match_all": {}}}}],
  "schedule": [
    {"operation": {"operation-type": "create-index"}},
    {"name": "search", "operation": "q", "clients": 4, "iterations": 10},
    {"name": "skipped", "operation": "q", "clients": 3, "iterations": 10, "tags": "slow"}]}`
	if err := os.WriteFile(filepath.Join(dir, "track.json"), []byte(trackJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	filter, err := track.ParseTaskFilter("tag:slow", true)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := c.StartRace(ctx, control.RaceRequest{TrackPath: dir, TargetHosts: target.Addr().String(),
		LoadDriverHosts: []string{"h9"}}); err == nil || !strings.Contains(err.Error(), "h9 is no host of the inventory") {
		t.Errorf("race on h9: err %v, want it named", err)
	}
	started, err := c.StartRace(ctx, control.RaceRequest{TrackPath: dir, TargetHosts: target.Addr().String(),
		LoadDriverHosts: []string{"h1", "h3"}, TaskFilter: filter})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the race's end", func() bool {
		p := c.raceConductor().ByID(started.ID)
		return p != nil && p.Ended()
	})
	r, err := report.Store{Dir: tc.home.Races()}.Load(started.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != report.StatusCompleted || !slices.Equal(r.Hosts, []string{"h1", "h3"}) {
		t.Fatalf("race: status %s (%s), hosts %v; want completed on h1 and h3", r.Status, r.Error, r.Hosts)
	}
	// Four clients of ten iterations each, round-robin over h1 and h3.
	if got := r.HostRequests["search"]; len(got) != 2 || got["h1"] != 20 || got["h3"] != 20 {
		t.Errorf("host-requests of search %v, want 20 each on h1 and h3", got)
	}
	if _, ok := r.HostRequests["skipped"]; ok {
		t.Errorf("the excluded task ran: %v", r.HostRequests)
	}
	if _, err := os.Stat(filepath.Join(tc.workdirs[1], "tracks")); err == nil {
		t.Errorf("the track was pushed to h2, which does not race")
	}
}
