package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"rally/metrics"
	"rally/track"
)

// shrinkSettle is how long esrally's shrink-index pauses before each wait
// for the cluster to settle (its constant: the relocation it waits for has
// to start first). Tests shorten it.
var shrinkSettle = 3 * time.Second

// shrinkIndexSpec is esrally's shrink-index: for each index that
// "source-index" names (a name or a pattern, GET /{source-index}) it pins
// the index to one node ("shrink-node", else a random data node from GET
// /_nodes) and blocks writes, waits for the relocation, shrinks it to
// "target-index" (plus what follows the sources' common prefix when there
// are several) with "target-body", whose pinning and block it clears, and
// waits for the shrunken index. Weight is the number of source indices.
type shrinkIndexSpec struct {
	source, target string
	node           string
	body           []byte
	settle         time.Duration
	retry          retryPolicy
	ro             requestOptions
}

func compileShrinkIndex(_ *track.Track, _ *track.Task, p params) (opSpec, error) {
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
	sp := shrinkIndexSpec{settle: shrinkSettle, ro: ro}
	if sp.source, err = p.requiredStr("source-index"); err != nil {
		return nil, err
	}
	if sp.target, err = p.requiredStr("target-index"); err != nil {
		return nil, err
	}
	if sp.node, err = p.str("shrink-node", ""); err != nil {
		return nil, err
	}
	body, err := p.object("target-body")
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errors.New(`parameter "target-body" is mandatory`)
	}
	body = maps.Clone(body)
	settings, _ := body["settings"].(map[string]any)
	settings = maps.Clone(settings)
	if settings == nil {
		settings = map[string]any{}
	}
	settings["index.routing.allocation.require._name"] = nil
	settings["index.blocks.write"] = nil
	body["settings"] = settings
	if sp.body, err = json.Marshal(body); err != nil {
		return nil, fmt.Errorf(`parameter "target-body": %w`, err)
	}
	if sp.retry, err = p.retryPolicy(); err != nil {
		return nil, err
	}
	return sp, nil
}

// newRunner gives each client its own random choice of shrink node,
// reproducible from the client's seed.
func (sp shrinkIndexSpec) newRunner(c clientSlot) (runner, error) {
	return retrying{inner: &shrinkIndex{spec: &sp, rng: rand.New(rand.NewPCG(c.seed, 0x5e1ec7))}, policy: sp.retry}, nil
}
func (shrinkIndexSpec) unit() string { return "ops/s" }
func (shrinkIndexSpec) finite() bool { return false }

type shrinkIndex struct {
	spec *shrinkIndexSpec
	rng  *rand.Rand
}

func (r *shrinkIndex) run(ctx context.Context, s *session) outcome {
	sp := r.spec
	var found map[string]json.RawMessage
	if out, ok := getJSON(ctx, s, "/"+sp.source, &sp.ro, &found, "an index list"); !ok {
		return out
	}
	sources := slices.Sorted(maps.Keys(found))
	nodes := []string{sp.node}
	if sp.node == "" {
		var info struct {
			Nodes map[string]struct {
				Name  string   `json:"name"`
				Roles []string `json:"roles"`
			} `json:"nodes"`
		}
		if out, ok := getJSON(ctx, s, "/_nodes", &sp.ro, &info, "a nodes info answer"); !ok {
			return out
		}
		nodes = nil
		for _, id := range slices.Sorted(maps.Keys(info.Nodes)) {
			if n := info.Nodes[id]; slices.Contains(n.Roles, "data") {
				nodes = append(nodes, n.Name)
			}
		}
		if len(nodes) == 0 {
			return outcome{fatal: true, err: errors.New("shrink-index: could not choose a suitable shrink-node automatically (no node has the data role); specify it explicitly")}
		}
	}
	stem := commonPrefix(sources)
	for _, src := range sources {
		node := nodes[r.rng.IntN(len(nodes))]
		pin, _ := json.Marshal(map[string]any{"settings": map[string]any{"index.routing.allocation.require._name": node, "index.blocks.write": "true"}})
		if _, out := s.call(ctx, "PUT", "/"+src+"/_settings?preserve_existing=true", pin, &sp.ro); out.err != nil {
			return out
		}
		if out := r.settle(ctx, s, src, "shard relocation for index ["+src+"]"); out.err != nil {
			return out
		}
		target := sp.target + strings.TrimPrefix(src, stem)
		if _, out := s.call(ctx, "PUT", "/"+src+"/_shrink/"+target, sp.body, &sp.ro); out.err != nil {
			return out
		}
		if out := r.settle(ctx, s, target, "shrink for index ["+target+"]"); out.err != nil {
			return out
		}
	}
	return outcome{weight: int64(len(sources))}
}

// settle waits as esrally's shrink-index does: a pause, then cluster
// health of the index with wait_for_no_relocating_shards, retried on
// timeouts (and HTTP 408) for as long as it takes. Shards still
// relocating then is fatal.
func (r *shrinkIndex) settle(ctx context.Context, s *session, index, what string) outcome {
	sleepCtx(ctx, r.spec.settle)
	health := retrying{
		inner:  clusterHealth{path: "/_cluster/health/" + index + "?wait_for_no_relocating_shards=true", noRelocating: true, ro: r.spec.ro},
		policy: retryPolicy{onTimeout: true, wait: 500 * time.Millisecond},
	}
	out := health.run(ctx, s)
	if out.errType == metrics.ErrCondition {
		return outcome{fatal: true, err: fmt.Errorf("shrink-index: failed to wait for [%s]: %w", what, out.err)}
	}
	return out
}

// commonPrefix is the longest common prefix of the names (Python's
// os.path.commonprefix, which esrally uses).
func commonPrefix(names []string) string {
	if len(names) == 0 {
		return ""
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	return prefix
}
