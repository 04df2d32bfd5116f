package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"rally/metrics"
)

// ClusterFigures reads the cumulative figures of Rally's report rows from
// `GET /_stats?level=indices` (primaries: indexing, merges, refresh,
// flush, store, docs, segments), as Rally's end-of-race telemetry does.
// Figures the target does not report stay zero; Available is set when the
// call answered.
func ClusterFigures(ctx context.Context, c Client) (metrics.ClusterFigures, error) {
	req := Request{Method: "GET", Path: "/_stats/docs,store,indexing,merge,refresh,flush,segments"}
	var resp Response
	if err := c.Do(ctx, &req, &resp); err != nil {
		return metrics.ClusterFigures{}, fmt.Errorf("cluster figures: GET /_stats: %w", err)
	}
	if resp.Status != 200 {
		return metrics.ClusterFigures{}, fmt.Errorf("cluster figures: GET /_stats: HTTP %d: %s", resp.Status, snippet(resp.Body))
	}
	var st struct {
		All struct {
			Primaries struct {
				Docs struct {
					Count int64 `json:"count"`
				} `json:"docs"`
				Store struct {
					SizeInBytes int64 `json:"size_in_bytes"`
				} `json:"store"`
				Indexing struct {
					IndexTimeInMillis    int64 `json:"index_time_in_millis"`
					ThrottleTimeInMillis int64 `json:"throttle_time_in_millis"`
				} `json:"indexing"`
				Merges struct {
					Total             int64 `json:"total"`
					TotalTimeInMillis int64 `json:"total_time_in_millis"`
				} `json:"merges"`
				Refresh struct {
					Total             int64 `json:"total"`
					TotalTimeInMillis int64 `json:"total_time_in_millis"`
				} `json:"refresh"`
				Flush struct {
					Total             int64 `json:"total"`
					TotalTimeInMillis int64 `json:"total_time_in_millis"`
				} `json:"flush"`
				Segments struct {
					Count int64 `json:"count"`
				} `json:"segments"`
			} `json:"primaries"`
		} `json:"_all"`
	}
	if err := json.Unmarshal(resp.Body, &st); err != nil {
		return metrics.ClusterFigures{}, fmt.Errorf("cluster figures: GET /_stats: %w", err)
	}
	p := st.All.Primaries
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	return metrics.ClusterFigures{
		IndexingTime:     ms(p.Indexing.IndexTimeInMillis),
		IndexingThrottle: ms(p.Indexing.ThrottleTimeInMillis),
		MergeTime:        ms(p.Merges.TotalTimeInMillis),
		MergeCount:       p.Merges.Total,
		RefreshTime:      ms(p.Refresh.TotalTimeInMillis),
		RefreshCount:     p.Refresh.Total,
		FlushTime:        ms(p.Flush.TotalTimeInMillis),
		FlushCount:       p.Flush.Total,
		StoreSizeBytes:   p.Store.SizeInBytes,
		DocCount:         p.Docs.Count,
		SegmentCount:     p.Segments.Count,
		Available:        true,
	}, nil
}
