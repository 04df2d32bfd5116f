package telemetry

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// GroupPIDs lists the live members of process group pgid under procRoot
// (normally "/proc"), in increasing order: every process whose stat field 5
// is pgid, except zombies and dead ones. An empty list is not an error: the
// group has no live process (any more).
//
// It reads the stat file of every process, since the kernel offers no index
// by group; on a host running a few hundred processes that is about a
// millisecond.
func GroupPIDs(procRoot string, pgid int) ([]int, error) {
	groups, err := scanGroups(procRoot, map[int]bool{pgid: true})
	if err != nil {
		return nil, err
	}
	return groups[pgid], nil
}

// scanGroups lists the live members of each wanted process group in one
// pass over procRoot, each list in increasing order of PID. A process that
// exits during the scan, or whose stat cannot be read or parsed, is left
// out: only listing procRoot itself can fail.
func scanGroups(procRoot string, want map[int]bool) (map[int][]int, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	groups := make(map[int][]int, len(want))
	if len(want) == 0 {
		return groups, nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "stat"))
		if err != nil {
			continue // exited since the listing, or not ours to read
		}
		st, err := parseStat(b)
		if err != nil || st.PID != pid || !want[st.PGID] || !alive(st.State) {
			continue
		}
		groups[st.PGID] = append(groups[st.PGID], pid)
	}
	for _, pids := range groups {
		slices.Sort(pids)
	}
	return groups, nil
}

// alive tells a running or sleeping process from a zombie (Z) or a dead one
// (X, or x on kernels before 3.13), which use no CPU and hold no memory.
func alive(state byte) bool {
	return state != 'Z' && state != 'X' && state != 'x'
}
