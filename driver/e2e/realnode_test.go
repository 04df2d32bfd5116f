package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"rally/driver"
	"rally/provision/enginetest"
)

// TestTracksOnARealNode starts one real OpenSearch 2.19.1 node (a JVM
// start is the dear part, so the subtests share it) and runs on it what
// needs an engine's own answers: Rally's geonames track, whose searches
// the node evaluates, and a race through estarget's fault proxy in front
// of the node, whose _count says what was really indexed.
func TestTracksOnARealNode(t *testing.T) {
	cl, _ := enginetest.Start(t, enginetest.Archive(t, "opensearch", "2.19.1"), enginetest.Options{Name: "rally-driver-e2e"})
	node := driver.Target{Scheme: "http", Host: cl.TargetHosts()}
	t.Run("geonames", func(t *testing.T) { geonamesOn(t, node) })
	t.Run("faults-through-the-proxy", func(t *testing.T) { faultsThroughTheProxy(t, node) })
}

// nodeJSON sends one request to the node (never through a proxy) and
// decodes its JSON answer into v.
func nodeJSON(t *testing.T, node driver.Target, method, path, body string, v any) {
	t.Helper()
	c, err := driver.NewFastClient(node, driver.DefaultClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := driver.Request{Method: method, Path: path}
	if body != "" {
		req.Body = []byte(body)
	}
	var resp driver.Response
	if err := c.Do(ctx, &req, &resp); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.Status != 200 {
		t.Fatalf("%s %s: HTTP %d: %.300s", method, path, resp.Status, resp.Body)
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		t.Fatalf("%s %s: %v: %.300s", method, path, err, resp.Body)
	}
}

// nodeCount is the node's own count of the documents in index.
func nodeCount(t *testing.T, node driver.Target, index string) int64 {
	t.Helper()
	var c struct {
		Count int64 `json:"count"`
	}
	nodeJSON(t, node, "GET", "/"+index+"/_count", "", &c)
	return c.Count
}
