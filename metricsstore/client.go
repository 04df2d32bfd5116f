package metricsstore

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// templates are esrally's legacy index templates of the three families,
// with every number that has no mapping of its own mapped as a double: Go
// writes 50.0 as 50, which dynamic mapping would make a long (truncating
// later fractions), and a field first seen as 0 and then as 0.07 would
// otherwise clash (long, then float) within one document.
//
//go:embed templates/*.json
var templates embed.FS

// templateNames are the templates put, by file: esrally's names.
var templateNames = []struct{ name, file string }{
	{RacesIndex, "templates/races.json"},
	{ResultsIndex, "templates/results.json"},
	{MetricsIndex, "templates/metrics.json"},
}

// client speaks the few REST calls the store needs.
type client struct {
	base  *url.URL
	creds Credentials
	http  *http.Client
}

// ParseURL checks a metrics store URL: http or https, a host, no
// credentials (they come from the environment), no query.
func ParseURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		return nil, fmt.Errorf("metrics store %q: want an http:// or https:// URL, e.g. http://127.0.0.1:9200", hideUserinfo(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return nil, errors.New("metrics store URL: not a URL (and credentials in the URL are refused anyway)")
		}
		return nil, fmt.Errorf("metrics store %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("metrics store %q: want an http:// or https:// URL, e.g. http://127.0.0.1:9200", s)
	case u.Host == "":
		return nil, fmt.Errorf("metrics store %q: no host", s)
	case u.User != nil:
		return nil, fmt.Errorf("metrics store %s://***@%s: credentials in the URL are refused: give them in %s and %s, or a file named by %s",
			u.Scheme, u.Host, EnvUser, EnvPassword, EnvCredentials)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("metrics store %q: no query or fragment, please", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// hideUserinfo hides what comes before the last '@' of a malformed URL.
func hideUserinfo(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return "***" + s[i:]
	}
	return s
}

// do sends one request and returns the body of a 2xx answer; any other
// status is an error naming it and the start of the body.
func (c *client) do(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	u := *c.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if c.creds.User != "" {
		req.SetBasicAuth(c.creds.User, c.creds.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The *url.Error would repeat the method and the whole URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &statusError{method: method, path: path, status: resp.StatusCode, body: snippet(data)}
	}
	return data, nil
}

// statusError is a non-2xx answer.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.method, e.path, e.status, e.body)
}

// retryable reports whether a request may succeed if sent again: the
// store was unreachable, overloaded or restarting.
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.status == http.StatusTooManyRequests || se.status == http.StatusBadGateway ||
			se.status == http.StatusServiceUnavailable || se.status == http.StatusGatewayTimeout
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// putTemplates puts the three index templates (legacy _template, which
// Elasticsearch 7.17 and 8 and OpenSearch 2 all take).
func (c *client) putTemplates(ctx context.Context) error {
	for _, t := range templateNames {
		body, err := templates.ReadFile(t.file)
		if err != nil {
			return err
		}
		if _, err := c.do(ctx, http.MethodPut, "/_template/"+t.name, "application/json", body); err != nil {
			return fmt.Errorf("put index template %s: %w", t.name, err)
		}
	}
	return nil
}

// bulkAnswer is what _bulk answers, as far as rally reads it.
type bulkAnswer struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		Index  string          `json:"_index"`
		ID     string          `json:"_id"`
		Status int             `json:"status"`
		Error  json.RawMessage `json:"error"`
	} `json:"items"`
}

// bulk indexes one body of actions and documents (n of them); a document
// the store refused makes it an error naming how many and the first
// reason.
func (c *client) bulk(ctx context.Context, body []byte, n int) error {
	data, err := c.do(ctx, http.MethodPost, "/_bulk", "application/x-ndjson", body)
	if err != nil {
		return err
	}
	var ans bulkAnswer
	if err := json.Unmarshal(data, &ans); err != nil {
		return fmt.Errorf("POST /_bulk: answer is not a bulk answer: %w", err)
	}
	if len(ans.Items) != n {
		return fmt.Errorf("POST /_bulk: answered %d items for %d documents", len(ans.Items), n)
	}
	if !ans.Errors {
		return nil
	}
	refused, first := 0, ""
	for _, item := range ans.Items {
		for _, r := range item {
			if r.Status/100 == 2 {
				continue
			}
			refused++
			if first == "" {
				first = fmt.Sprintf("%s/%s: HTTP %d: %s", r.Index, r.ID, r.Status, snippet(r.Error))
			}
		}
	}
	if refused == 0 {
		return nil
	}
	return fmt.Errorf("POST /_bulk: %d of %d documents refused, the first %s", refused, n, first)
}

// bulkBodies encodes docs as _bulk bodies of at most maxBytes each (a
// single larger document gets a body of its own), returning each body and
// its document count.
func bulkBodies(docs []Document, maxBytes int) (bodies [][]byte, counts []int, err error) {
	var buf bytes.Buffer
	n := 0
	for _, d := range docs {
		action, err := json.Marshal(map[string]any{"index": map[string]string{"_index": d.Index, "_id": d.ID}})
		if err != nil {
			return nil, nil, err
		}
		src, err := json.Marshal(d.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("encode document %s/%s: %w", d.Index, d.ID, err)
		}
		if n > 0 && buf.Len()+len(action)+len(src)+2 > maxBytes {
			bodies, counts = append(bodies, bytes.Clone(buf.Bytes())), append(counts, n)
			buf.Reset()
			n = 0
		}
		buf.Write(action)
		buf.WriteByte('\n')
		buf.Write(src)
		buf.WriteByte('\n')
		n++
	}
	if n > 0 {
		bodies, counts = append(bodies, bytes.Clone(buf.Bytes())), append(counts, n)
	}
	return bodies, counts, nil
}

// backoff is the wait before retry number i (from 0): 0.5 s, 1 s, 2 s.
func backoff(i int) time.Duration { return 500 * time.Millisecond << i }
