package provision

import (
	"path/filepath"
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

// JavaTelemetry are the telemetry devices that change how a node's JVM
// starts (esrally's gc and jfr), with the devices' parameters.
type JavaTelemetry struct {
	Devices []string       `json:"devices,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
}

// javaOpts are the JVM options the devices add to a node whose logs go
// to logDir, as esrally's devices set them: the GC log and the flight
// recording land among the node's logs, which are fetched with them.
func (t JavaTelemetry) javaOpts(logDir string) []string {
	var opts []string
	for _, d := range t.Devices {
		switch d {
		case "gc":
			opts = append(opts, "-Xlog:gc*=info,safepoint=info,age*=trace:file="+filepath.Join(logDir, "gc.log")+":utctime,uptimemillis,level,tags:filecount=0")
		case "jfr":
			rec := "maxsize=0,maxage=0s,disk=true,dumponexit=true,filename=" + filepath.Join(logDir, "profile.jfr")
			if tmpl, ok := t.Params["recording-template"].(string); ok && tmpl != "" {
				rec += ",settings=" + tmpl
			}
			opts = append(opts, "-XX:+UnlockDiagnosticVMOptions", "-XX:+DebugNonSafepoints", "-XX:StartFlightRecording="+rec)
		}
	}
	return opts
}

// javaOptsEnv is the variable each engine takes extra JVM options from.
func javaOptsEnv(engine string) string {
	if engine == EngineOpenSearch {
		return "OPENSEARCH_JAVA_OPTS"
	}
	return "ES_JAVA_OPTS"
}
