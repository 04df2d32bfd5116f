package estarget

import (
	"net/http"
	"testing"
)

// TestNodesStatsGCGrowsWithRequests: the young collector's figures grow
// with the requests served, so a race against the target sees garbage
// collection during the race; old stays zero.
func TestNodesStatsGCGrowsWithRequests(t *testing.T) {
	s := New(Options{})
	gc := func() (young, old [2]int64) {
		var ns nodesStatsResponse
		decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/stats/jvm", "").body, &ns)
		for _, n := range ns.NodeMap {
			y, o := n.JVM.GC.Collectors["young"], n.JVM.GC.Collectors["old"]
			if y.CollectionCount == nil || o.CollectionCount == nil || y.CollectionTimeInMillis == nil || o.CollectionTimeInMillis == nil {
				t.Fatalf("collectors: %+v", n.JVM.GC.Collectors)
			}
			return [2]int64{*y.CollectionCount, *y.CollectionTimeInMillis}, [2]int64{*o.CollectionCount, *o.CollectionTimeInMillis}
		}
		t.Fatal("no node")
		return
	}
	youngBefore, _ := gc()
	for range 4 * servedPerYoungGC {
		must(t, s, http.StatusOK, http.MethodGet, "/", "")
	}
	youngAfter, old := gc()
	if youngAfter[0]-youngBefore[0] < 4 || youngAfter[1]-youngBefore[1] < 4 {
		t.Errorf("young collections %v after %d requests, %v before: want at least 4 more collections and ms", youngAfter, 4*servedPerYoungGC, youngBefore)
	}
	if old != [2]int64{} {
		t.Errorf("old collections %v, want none", old)
	}
}
