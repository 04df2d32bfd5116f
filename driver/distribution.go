package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// The distributions DetectDistribution tells apart.
const (
	DistributionElasticsearch = "elasticsearch"
	DistributionOpenSearch    = "opensearch"
)

// rootPath and nodesPath are the two requests DetectDistribution may send.
// The nodes request asks for the plugins metric only: the node's base
// members (version, roles) come with every metric, and the plugin and
// module lists are where OpenSearch names itself; the default answer would
// add settings, thread pools and more that detection does not need.
const (
	rootPath  = "/"
	nodesPath = "/_nodes/_local/plugins"
)

// DetectDistribution asks a node which distribution and version it runs.
// It asks GET / first: "opensearch" when version.distribution says so,
// else "elasticsearch". Elasticsearch 8 and 9 builds without the rest-root
// module (the integ-test archives) have no GET /: they answer 405 because
// only DELETE / is routed; a node or proxy that routes nothing at / answers
// 400 (Elasticsearch's "no handler found") or 404. On those answers it asks
// GET /_nodes/_local/plugins. Other failures (401,
// 403, 5xx, no answer) are returned as they are, since the nodes API would
// fail the same way.
func DetectDistribution(ctx context.Context, c Client) (name, version string, err error) {
	var resp Response
	name, version, status, rootErr := detectFromRoot(ctx, c, &resp)
	if rootErr == nil {
		return name, version, nil
	}
	if !rootUnrouted(status) {
		return "", "", fmt.Errorf("detect distribution: %w", rootErr)
	}
	name, version, nodesErr := detectFromNodes(ctx, c, &resp)
	if nodesErr != nil {
		return "", "", fmt.Errorf("detect distribution: %w; then %w", rootErr, nodesErr)
	}
	return name, version, nil
}

// rootUnrouted reports whether a GET / status means the node (or a proxy
// before it) routes nothing to GET /, rather than refusing the request.
func rootUnrouted(status int) bool {
	return status == 400 || status == 404 || status == 405
}

// detectFromRoot reads the distribution from GET /. status is the HTTP
// status when a response was read, 0 otherwise.
func detectFromRoot(ctx context.Context, c Client, resp *Response) (name, version string, status int, err error) {
	req := Request{Method: "GET", Path: rootPath}
	if err := c.Do(ctx, &req, resp); err != nil {
		return "", "", 0, fmt.Errorf("GET %s: %w", rootPath, err)
	}
	if resp.Status != 200 {
		return "", "", resp.Status, fmt.Errorf("GET %s: HTTP %d: %s", rootPath, resp.Status, snippet(resp.Body))
	}
	var info struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.Unmarshal(resp.Body, &info); err != nil {
		return "", "", resp.Status, fmt.Errorf("GET %s: response is not the root document: %w", rootPath, err)
	}
	if info.Version.Number == "" {
		return "", "", resp.Status, fmt.Errorf("GET %s: no version.number in the response", rootPath)
	}
	if info.Version.Distribution == DistributionOpenSearch {
		return DistributionOpenSearch, info.Version.Number, resp.Status, nil
	}
	return DistributionElasticsearch, info.Version.Number, resp.Status, nil
}

// nodePlugin is one entry of a node's plugins or modules list. OpenSearch
// writes opensearch_version where Elasticsearch writes
// elasticsearch_version.
type nodePlugin struct {
	OpenSearchVersion string `json:"opensearch_version"`
}

// nodeInfo is what detection reads of one node in a nodes info answer.
type nodeInfo struct {
	Version string       `json:"version"`
	Roles   []string     `json:"roles"`
	Plugins []nodePlugin `json:"plugins"`
	Modules []nodePlugin `json:"modules"`
}

// distribution names the distribution a node runs. The nodes API has no
// version.distribution as GET / has: an OpenSearch node shows itself by
// opensearch_version in its plugin and module entries, or, with none
// listed, by the cluster_manager role OpenSearch 2 and later have (1.x
// nodes list at least the transport module).
func (n nodeInfo) distribution() string {
	for _, p := range slices.Concat(n.Modules, n.Plugins) {
		if p.OpenSearchVersion != "" {
			return DistributionOpenSearch
		}
	}
	if slices.Contains(n.Roles, "cluster_manager") {
		return DistributionOpenSearch
	}
	return DistributionElasticsearch
}

// detectFromNodes reads the distribution from the local node's info.
func detectFromNodes(ctx context.Context, c Client, resp *Response) (name, version string, err error) {
	req := Request{Method: "GET", Path: nodesPath}
	if err := c.Do(ctx, &req, resp); err != nil {
		return "", "", fmt.Errorf("GET %s: %w", nodesPath, err)
	}
	if resp.Status != 200 {
		return "", "", fmt.Errorf("GET %s: HTTP %d: %s", nodesPath, resp.Status, snippet(resp.Body))
	}
	var info struct {
		Nodes map[string]nodeInfo `json:"nodes"`
	}
	if err := json.Unmarshal(resp.Body, &info); err != nil {
		return "", "", fmt.Errorf("GET %s: response is not a nodes info answer: %w", nodesPath, err)
	}
	if len(info.Nodes) == 0 {
		return "", "", fmt.Errorf("GET %s: no node in the response: %s", nodesPath, snippet(resp.Body))
	}
	// _local names one node; should a proxy merge answers, the lowest id
	// keeps the choice stable.
	ids := make([]string, 0, len(info.Nodes))
	for id := range info.Nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	node := info.Nodes[ids[0]]
	if node.Version == "" {
		return "", "", fmt.Errorf("GET %s: node %s has no version", nodesPath, ids[0])
	}
	return node.distribution(), node.Version, nil
}

// snippet returns the start of a response body for an error message.
func snippet(b []byte) string {
	const max = 300
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
