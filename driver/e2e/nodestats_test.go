package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"rally/driver"
	"rally/provision/enginetest"
)

// TestNodeTelemetryOfARealNode starts a real OpenSearch 2.19.1 node,
// reads its node stats, indexes documents with a few bulk requests, reads
// them again and checks what the race's node telemetry would show: the
// node by its name, with CPU time spent, and its version.
func TestNodeTelemetryOfARealNode(t *testing.T) {
	cl, _ := enginetest.Start(t, enginetest.Archive(t, "opensearch", "2.19.1"), enginetest.Options{Name: "rally-nodestats"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

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

// deref shows what p points to, or nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
