package e2e

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rally/driver"
	"rally/provision"
)

// The real engine the node telemetry test runs, from the Maven cache that
// scripts/engines.sh fills, and the JDK it runs on.
const (
	openSearchArchive = "org/opensearch/distribution/integ-test-zip/opensearch/2.19.1/opensearch-2.19.1.zip"
	java17            = "/usr/lib/jvm/java-17-openjdk-amd64"
	// nodeUser is the unprivileged user real engines run as when the
	// tests run as root (scripts/deps.sh creates it).
	nodeUser = "rally-node"
)

// TestNodeTelemetryOfARealNode starts a real OpenSearch 2.19.1 node,
// reads its node stats, indexes documents with a few bulk requests, reads
// them again and checks what the race's node telemetry would show: the
// node by its name, with CPU time spent, and its version.
func TestNodeTelemetryOfARealNode(t *testing.T) {
	archive := requireOpenSearch(t)
	runAs := ""
	if os.Geteuid() == 0 {
		if _, err := user.Lookup(nodeUser); err != nil {
			t.Fatalf("user %s: %v; create it with: bash scripts/deps.sh", nodeUser, err)
		}
		runAs = nodeUser
	}
	// The node user must reach the cluster's directory (t.TempDir's
	// parents are 0700).
	dir, err := os.MkdirTemp("", "rally-e2e-nodestats-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := provision.StartCluster(ctx, provision.ClusterOptions{
		Archive: archive, JDKRoots: []string{java17}, RunAs: runAs,
		Dir: filepath.Join(dir, "cluster"), Name: "rally-nodestats", Timeout: 3 * time.Minute,
		Progress: func(line string) { t.Log(line) },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the directory's removal, so it runs first.
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := cl.Stop(sctx, 30*time.Second, "", false); err != nil {
			t.Errorf("stop the node: %v", err)
		}
	})

	client, err := driver.NewClient("", driver.Target{Scheme: "http", Host: cl.TargetHosts()}, driver.DefaultClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := client.(interface{ Close() }); ok {
		defer c.Close()
	}
	start, err := driver.ReadNodeStats(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	for b := range 5 {
		var body strings.Builder
		for i := range 2000 {
			fmt.Fprintf(&body, "{\"index\":{\"_index\":\"telemetry\"}}\n{\"batch\":%d,\"n\":%d,\"text\":\"document %d of batch %d\"}\n", b, i, i, b)
		}
		req := driver.Request{Method: "POST", Path: "/_bulk", Body: []byte(body.String()), ContentType: "application/x-ndjson"}
		var resp driver.Response
		if err := client.Do(ctx, &req, &resp); err != nil {
			t.Fatalf("bulk %d: %v", b, err)
		}
		if resp.Status != 200 || strings.Contains(string(resp.Body[:min(len(resp.Body), 200)]), `"errors":true`) {
			t.Fatalf("bulk %d: HTTP %d: %.300s", b, resp.Status, resp.Body)
		}
	}
	end, err := driver.ReadNodeStats(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	info, err := driver.ReadNodeInfo(ctx, client)
	if err != nil {
		t.Fatal(err)
	}

	usage := driver.NodeUsageSince(start, end)
	name := cl.Nodes[0].Name
	if len(usage) != 1 || usage[0].Name != name {
		t.Fatalf("usage of nodes %+v, want node %s alone", usage, name)
	}
	u := usage[0]
	if u.CPUTime == nil || *u.CPUTime <= 0 || u.CPUPercent == nil || *u.CPUPercent <= 0 || u.Elapsed <= 0 {
		t.Errorf("node %s: CPU time %v (%v %%) over %v, want some", name, deref(u.CPUTime), deref(u.CPUPercent), u.Elapsed)
	}
	if u.HeapMaxBytes == nil || *u.HeapMaxBytes <= 0 || u.HeapUsedBytes == nil || *u.HeapUsedBytes <= 0 || !u.GC.GCAvailable {
		t.Errorf("node %s: heap %v of %v, GC %+v", name, deref(u.HeapUsedBytes), deref(u.HeapMaxBytes), u.GC)
	}
	if in := info[name]; in.Version != "2.19.1" || in.IP != "127.0.0.1" {
		t.Errorf("node info %+v, want version 2.19.1 on 127.0.0.1", info)
	}
	t.Logf("%s: CPU %v (%.0f%% of a core over %v), disk written %v bytes, heap %v of %v bytes, GC %+v",
		name, deref(u.CPUTime), deref(u.CPUPercent), u.Elapsed, deref(u.DiskWriteBytes), deref(u.HeapUsedBytes), deref(u.HeapMaxBytes), u.GC)
}

// requireOpenSearch finds the OpenSearch archive and its JDK, failing
// with how to get them, or skipping when RALLY_ENGINES=skip says real
// engines are not wanted (as provision's engine tests do).
func requireOpenSearch(t *testing.T) string {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(home, ".m2", "repository", openSearchArchive)
	var missing []string
	if _, err := os.Stat(archive); err != nil {
		missing = append(missing, "archive "+archive)
	}
	if _, err := os.Stat(filepath.Join(java17, "bin", "java")); err != nil {
		missing = append(missing, "JDK "+java17)
	}
	if len(missing) == 0 {
		return archive
	}
	msg := fmt.Sprintf("opensearch-2.19.1: missing %s; get them with: bash scripts/engines.sh", strings.Join(missing, " and "))
	if os.Getenv("RALLY_ENGINES") == "skip" {
		t.Skip(msg + " (skipped: RALLY_ENGINES=skip)")
	}
	t.Fatal(msg + " (or set RALLY_ENGINES=skip to skip real-engine tests)")
	return ""
}

// deref shows what p points to, or nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
