package metricsstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"rally/report"
)

// Config is a metrics store, parsed and checked at the edge.
type Config struct {
	// URL is the cluster's address (ParseURL), e.g. http://127.0.0.1:9200.
	URL         *url.URL
	Credentials Credentials
	// Environment is esrally's env.name, stored in every document so that
	// several benchmark environments can share a store (default "local",
	// esrally's default).
	Environment string
	// Timeout bounds the writing of one race, retries included (default
	// 2 minutes); for a Reader, each read (default 30 seconds).
	Timeout time.Duration
	// HTTPClient sends the requests (default: one with the default
	// transport).
	HTTPClient *http.Client
	// MaxBulkBytes bounds one _bulk body (default 5 MiB).
	MaxBulkBytes int
	// Retries is how often a request that failed for a reason that may
	// pass (unreachable, 429, 502, 503, 504) is sent again (default 3;
	// negative: never).
	Retries int
}

// Writer writes races to one metrics store. Publish and Wait may be called
// from several goroutines.
type Writer struct {
	cfg    Config
	client *client

	templMu  sync.Mutex
	templPut bool

	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// New returns a Writer for cfg.
func New(cfg Config) (*Writer, error) {
	cfg, c, err := cfg.open(2 * time.Minute)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBulkBytes <= 0 {
		cfg.MaxBulkBytes = 5 << 20
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	return &Writer{cfg: cfg, client: c}, nil
}

// open checks cfg, fills in what a reader and a writer default alike
// (esrally's environment "local", timeout, an HTTP client) and returns
// the store's client.
func (cfg Config) open(timeout time.Duration) (Config, *client, error) {
	if cfg.URL == nil {
		return cfg, nil, errors.New("metrics store: no URL")
	}
	if cfg.Environment == "" {
		cfg.Environment = "local"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = timeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return cfg, &client{base: cfg.URL, creds: cfg.Credentials, http: cfg.HTTPClient}, nil
}

// WriteError is a race the store did not take (or took only part of).
type WriteError struct {
	Store  string
	RaceID string
	Err    error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("metrics store %s: race %s not written: %v (its race.json keeps everything)", e.Store, e.RaceID, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Publish writes r in the background and returns at once; Wait says how it
// went. It reads r before it returns and never after, so the caller may
// go on using the race.
func (w *Writer) Publish(ctx context.Context, r *report.Race) {
	docs := Documents(r, w.cfg.Environment)
	id := r.ID
	ctx = context.WithoutCancel(ctx) // the race's end must not cut its own publication
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := w.write(ctx, id, docs); err != nil {
			w.mu.Lock()
			w.errs = append(w.errs, err)
			w.mu.Unlock()
		}
	}()
}

// Wait waits for the races published so far to be written, or for ctx to
// end, and returns a *WriteError per race that was not written (joined),
// or ctx's error when it ended first.
func (w *Writer) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("metrics store %s: still writing: %w", w.cfg.URL.Redacted(), ctx.Err())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	err := errors.Join(w.errs...)
	w.errs = nil
	return err
}

// Write writes r now and returns how it went (a *WriteError).
func (w *Writer) Write(ctx context.Context, r *report.Race) error {
	return w.write(ctx, r.ID, Documents(r, w.cfg.Environment))
}

func (w *Writer) write(ctx context.Context, raceID string, docs []Document) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	fail := func(err error) error {
		return &WriteError{Store: w.cfg.URL.Redacted(), RaceID: raceID, Err: err}
	}
	if err := w.ensureTemplates(ctx); err != nil {
		return fail(err)
	}
	bodies, counts, err := bulkBodies(docs, w.cfg.MaxBulkBytes)
	if err != nil {
		return fail(err)
	}
	written := 0
	for i, body := range bodies {
		if err := w.retry(ctx, func() error { return w.client.bulk(ctx, body, counts[i]) }); err != nil {
			return fail(fmt.Errorf("%w (%d of %d documents written before)", err, written, len(docs)))
		}
		written += counts[i]
	}
	return nil
}

// ensureTemplates puts the index templates once per Writer; a failed put
// is tried again with the next race.
func (w *Writer) ensureTemplates(ctx context.Context) error {
	w.templMu.Lock()
	defer w.templMu.Unlock()
	if w.templPut {
		return nil
	}
	if err := w.retry(ctx, func() error { return w.client.putTemplates(ctx) }); err != nil {
		return err
	}
	w.templPut = true
	return nil
}

// retry runs f until it succeeds, fails for good, or the retries are used
// up, waiting longer each time.
func (w *Writer) retry(ctx context.Context, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if err == nil || !retryable(err) || i >= w.cfg.Retries {
			return err
		}
		t := time.NewTimer(backoff(i))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}
