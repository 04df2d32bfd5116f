package provision

import (
	"sync"

	"rally/telemetry"
)

// Targets tells a telemetry.Sampler which process groups are the
// cluster's nodes: the group of each node's server process (the pid its
// engine wrote into its PID file), which on Elasticsearch 8+ holds the
// launcher JVM too. A node whose PID file or process cannot be read yet
// is left out until it can; a group once found is kept, so a node that
// exits shows as gone rather than vanishing from the summary.
func (c *Cluster) Targets(procRoot string) func() []telemetry.Target {
	var mu sync.Mutex
	found := map[string]int{}
	return func() []telemetry.Target {
		mu.Lock()
		defer mu.Unlock()
		var out []telemetry.Target
		for _, n := range c.Nodes {
			pgid, ok := found[n.Name]
			if !ok {
				pid, err := readPIDFile(n.PIDFile)
				if err != nil {
					continue
				}
				p, err := telemetry.ReadProcess(procRoot, pid)
				if err != nil {
					continue
				}
				pgid = p.PGID
				found[n.Name] = pgid
			}
			out = append(out, telemetry.Target{Name: n.Name, PGID: pgid})
		}
		return out
	}
}
