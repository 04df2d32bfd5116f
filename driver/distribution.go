package driver

import (
	"context"
	"encoding/json"
	"fmt"
)

// The distributions DetectDistribution tells apart.
const (
	DistributionElasticsearch = "elasticsearch"
	DistributionOpenSearch    = "opensearch"
)

// DetectDistribution asks a node (GET /) which distribution and version it
// runs: "opensearch" when version.distribution says so, else
// "elasticsearch".
func DetectDistribution(ctx context.Context, c Client) (name, version string, err error) {
	req := Request{Method: "GET", Path: "/"}
	var resp Response
	if err := c.Do(ctx, &req, &resp); err != nil {
		return "", "", fmt.Errorf("detect distribution: GET /: %w", err)
	}
	if resp.Status != 200 {
		return "", "", fmt.Errorf("detect distribution: GET /: HTTP %d: %s", resp.Status, snippet(resp.Body))
	}
	var info struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.Unmarshal(resp.Body, &info); err != nil {
		return "", "", fmt.Errorf("detect distribution: GET /: response is not the root document: %w", err)
	}
	if info.Version.Number == "" {
		return "", "", fmt.Errorf("detect distribution: GET /: no version.number in the response")
	}
	if info.Version.Distribution == DistributionOpenSearch {
		return DistributionOpenSearch, info.Version.Number, nil
	}
	return DistributionElasticsearch, info.Version.Number, nil
}

// snippet returns the start of a response body for an error message.
func snippet(b []byte) string {
	const max = 300
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
