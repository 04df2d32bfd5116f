package coordinator

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"rally/control"
	"rally/inventory"
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
			err := c.checkLoadDrivers(tc.min)
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
