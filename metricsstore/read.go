package metricsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"rally/report"
)

// ErrUnknownRace is the error (wrapped) of a race id that names no race of
// the store's environment, or more than one.
var ErrUnknownRace = errors.New("unknown race")

// Reader reads races back from a metrics store, as esrally's `list races`
// and `compare` do: from the rally-races-* documents of one environment,
// whose results (esrally's op_metrics and cluster-wide figures) are what
// a comparison needs. Races written by esrally read as well as rally's;
// rally's documents carry more (request counts, node figures, the
// target's hosts), so that a race read back compares as its race.json
// does. Requests are sent once, not retried: the reader is a command a
// user runs again.
type Reader struct {
	cfg    Config
	client *client
}

// NewReader returns a Reader of the store cfg names. Environment, when
// empty, is esrally's default "local"; Timeout bounds each read (default
// 30 seconds).
func NewReader(cfg Config) (*Reader, error) {
	cfg, c, err := cfg.open(30 * time.Second)
	if err != nil {
		return nil, err
	}
	return &Reader{cfg: cfg, client: c}, nil
}

// String names the store for people: "the metrics store at
// http://127.0.0.1:9200 (environment local)".
func (rd *Reader) String() string {
	return fmt.Sprintf("the metrics store at %s (environment %s)", rd.cfg.URL.Redacted(), rd.cfg.Environment)
}

// RaceFilter narrows a list of races as esrally's `list races` options do
// (--track, --challenge, --benchmark-name, --user-tags, --from-date,
// --to-date). Its zero value lets every race through. Reader.List asks the
// store for the races it lets through; Match applies the same rule to
// races read from elsewhere (the local race directory).
type RaceFilter struct {
	Track     string
	Challenge string
	// BenchmarkName matches the user tag "benchmark-name" or "name".
	BenchmarkName string
	// UserTags must all be among the race's user tags, with these values.
	UserTags map[string]string
	// From and To bound the day (UTC) the race was created, both days
	// included; a zero time leaves that end open.
	From, To time.Time
}

// Match reports whether f lets r through.
func (f RaceFilter) Match(r *report.Race) bool {
	switch {
	case f.Track != "" && r.Track != f.Track,
		f.Challenge != "" && r.Challenge != f.Challenge,
		f.BenchmarkName != "" && r.UserTags["benchmark-name"] != f.BenchmarkName && r.UserTags["name"] != f.BenchmarkName,
		!f.From.IsZero() && r.Created.Before(dayStart(f.From)),
		!f.To.IsZero() && !r.Created.Before(dayStart(f.To).AddDate(0, 0, 1)):
		return false
	}
	for k, v := range f.UserTags {
		if have, ok := r.UserTags[k]; !ok || have != v {
			return false
		}
	}
	return true
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// clauses are f as the filters of a bool query on rally-races, environment
// first (esrally's query, but for the date range, given here to the second).
func (f RaceFilter) clauses(environment string) []any {
	term := func(field, value string) any { return map[string]any{"term": map[string]any{field: value}} }
	c := []any{term("environment", environment)}
	if !f.From.IsZero() || !f.To.IsZero() {
		r := map[string]any{"format": "basic_date_time_no_millis"}
		if !f.From.IsZero() {
			r["gte"] = dayStart(f.From).Format(raceTimestamp)
		}
		if !f.To.IsZero() {
			r["lt"] = dayStart(f.To).AddDate(0, 0, 1).Format(raceTimestamp)
		}
		c = append(c, map[string]any{"range": map[string]any{"race-timestamp": r}})
	}
	if f.Track != "" {
		c = append(c, term("track", f.Track))
	}
	if f.BenchmarkName != "" {
		c = append(c, map[string]any{"bool": map[string]any{"should": []any{
			term("user-tags.benchmark-name", f.BenchmarkName), term("user-tags.name", f.BenchmarkName),
		}}})
	}
	if f.Challenge != "" {
		c = append(c, term("challenge", f.Challenge))
	}
	for _, k := range sortedKeys(f.UserTags) {
		c = append(c, term("user-tags."+k, f.UserTags[k]))
	}
	return c
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newestFirst is the order of a listing: by race-timestamp, then by race
// id (ids start with their creation time), newest first. unmapped_type
// keeps an index without those fields (not made from the templates) from
// failing the search.
var newestFirst = []any{
	map[string]any{"race-timestamp": map[string]any{"order": "desc", "unmapped_type": "date"}},
	map[string]any{"race-id": map[string]any{"order": "desc", "unmapped_type": "keyword"}},
}

// List returns the newest races (at most limit) of the store's environment
// that f lets through, newest first, without their results (a listing
// does not show them). A document that cannot be read does not hide the
// others: List returns every race it could read and an error naming each
// document that it could not. A store without rally-races indices has no
// races.
func (rd *Reader) List(ctx context.Context, f RaceFilter, limit int) ([]*report.Race, error) {
	if limit < 1 {
		return nil, fmt.Errorf("%s: list races: limit %d: want 1 or more", rd.name(), limit)
	}
	hits, err := rd.search(ctx, map[string]any{
		"size":    limit,
		"query":   map[string]any{"bool": map[string]any{"filter": f.clauses(rd.cfg.Environment)}},
		"sort":    newestFirst,
		"_source": map[string]any{"excludes": []string{"results", "nodes"}},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: list races: %w", rd.name(), err)
	}
	var (
		races  []*report.Race
		broken []error
	)
	for _, h := range hits {
		r, err := raceFromSource(h.Index, h.ID, h.Source)
		if err != nil {
			broken = append(broken, fmt.Errorf("%s: %w", rd.name(), err))
			continue
		}
		races = append(races, r)
	}
	return races, errors.Join(broken...)
}

// Load returns the race of the store's environment with the given id, or
// with the only id starting with it (as the local race directory takes
// ids), with its results: what a comparison reads. A race that is not
// there, or an id prefix of several, is an ErrUnknownRace.
func (rd *Reader) Load(ctx context.Context, id string) (*report.Race, error) {
	fail := func(err error) error { return fmt.Errorf("%s: race %s: %w", rd.name(), id, err) }
	if strings.TrimSpace(id) == "" {
		return nil, fail(fmt.Errorf("%w: no race id", ErrUnknownRace))
	}
	byID := func(query map[string]any, size int) ([]searchHit, error) {
		return rd.search(ctx, map[string]any{
			"size":  size,
			"query": map[string]any{"bool": map[string]any{"filter": []any{map[string]any{"term": map[string]any{"environment": rd.cfg.Environment}}, query}}},
			"sort":  newestFirst,
		})
	}
	hits, err := byID(map[string]any{"term": map[string]any{"race-id": id}}, 2)
	if err != nil {
		return nil, fail(err)
	}
	if len(hits) == 0 {
		// Up to 6 to show a few of the races an ambiguous prefix names.
		if hits, err = byID(map[string]any{"prefix": map[string]any{"race-id": id}}, 6); err != nil {
			return nil, fail(err)
		}
	}
	switch len(hits) {
	case 0:
		return nil, fail(fmt.Errorf("%w: no race with that id or id prefix", ErrUnknownRace))
	case 1:
		r, err := raceFromSource(hits[0].Index, hits[0].ID, hits[0].Source)
		if err != nil {
			return nil, fail(err)
		}
		return r, nil
	}
	var where []string
	for i, h := range hits {
		if i == 5 {
			where = append(where, "...")
			break
		}
		where = append(where, h.Index+"/"+h.ID)
	}
	return nil, fail(fmt.Errorf("%w: ambiguous, more than one race document matches: %s", ErrUnknownRace, strings.Join(where, ", ")))
}

func (rd *Reader) name() string { return "metrics store " + rd.cfg.URL.Redacted() }

// searchHit is one document of a search answer.
type searchHit struct {
	Index  string          `json:"_index"`
	ID     string          `json:"_id"`
	Source json.RawMessage `json:"_source"`
}

// searchAnswer is what _search answers, as far as rally reads it.
type searchAnswer struct {
	Shards struct {
		Failed   int               `json:"failed"`
		Failures []json.RawMessage `json:"failures"`
	} `json:"_shards"`
	Hits struct {
		Hits []searchHit `json:"hits"`
	} `json:"hits"`
}

// search sends a search of the rally-races indices. A shard that failed
// makes it an error: a listing that silently lacks races is worse than
// none.
func (rd *Reader) search(ctx context.Context, body map[string]any) ([]searchHit, error) {
	ctx, cancel := context.WithTimeout(ctx, rd.cfg.Timeout)
	defer cancel()
	req, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	path := "/" + RacesIndex + "-*/_search"
	data, err := rd.client.do(ctx, http.MethodPost, path, "application/json", req)
	if err != nil {
		return nil, err
	}
	return parseSearch(data, path)
}

// parseSearch reads a search answer (path names the call in errors).
func parseSearch(data []byte, path string) ([]searchHit, error) {
	var ans searchAnswer
	if err := json.Unmarshal(data, &ans); err != nil {
		return nil, fmt.Errorf("POST %s: answer is not a search answer: %w", path, err)
	}
	if ans.Shards.Failed > 0 {
		first := ""
		if len(ans.Shards.Failures) > 0 {
			first = ", the first: " + snippet(ans.Shards.Failures[0])
		}
		return nil, fmt.Errorf("POST %s: %d shards failed%s", path, ans.Shards.Failed, first)
	}
	for i, h := range ans.Hits.Hits {
		if isNull(h.Source) {
			return nil, fmt.Errorf("POST %s: hit %d (%s/%s) has no _source", path, i, h.Index, h.ID)
		}
	}
	return ans.Hits.Hits, nil
}
