package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"rally/metricsstore"
	"rally/race"
	"rally/report"
)

var _ race.MetricsStore = (*metricsstore.Writer)(nil)

// metricsStoreFlags are esrally's metrics store as a flag: where every race
// is also written (package metricsstore does the writing).
type metricsStoreFlags struct {
	MetricsStore            string `name:"metrics-store" placeholder:"URL" help:"Also write the race to an Elasticsearch or OpenSearch cluster, in esrally's rally-races-*, rally-results-* and rally-metrics-* indices, e.g. http://127.0.0.1:9200. Credentials come from RALLY_METRICS_STORE_USER and RALLY_METRICS_STORE_PASSWORD, or a file (user:password, mode 0600) named by RALLY_METRICS_STORE_CREDENTIALS."`
	MetricsStoreEnvironment string `name:"metrics-store-environment" default:"local" placeholder:"NAME" help:"The environment stored with every document, as esrally's env.name (default: ${default})."`

	writer *metricsstore.Writer `kong:"-"`
}

// metricsStoreWait bounds how long a race's end waits for its writing.
const metricsStoreWait = 2 * time.Minute

// open checks the URL and the credentials (bad usage when wrong); without
// --metrics-store it does nothing.
func (f *metricsStoreFlags) open() error {
	if f.MetricsStore == "" {
		return nil
	}
	u, err := metricsstore.ParseURL(f.MetricsStore)
	if err != nil {
		return &usageError{err: fmt.Errorf("--metrics-store: %w", err)}
	}
	creds, err := metricsstore.CredentialsFromEnv(os.Getenv)
	if err != nil {
		return &usageError{err: err}
	}
	f.writer, err = metricsstore.New(metricsstore.Config{URL: u, Credentials: creds, Environment: f.MetricsStoreEnvironment, Timeout: metricsStoreWait})
	return err
}

// conductorStore is what a race conducted in this process publishes to:
// nil without a store.
func (f *metricsStoreFlags) conductorStore() race.MetricsStore {
	if f.writer == nil {
		return nil
	}
	return f.writer
}

// publish writes a race conducted elsewhere (by a cluster's coordinator)
// once it is saved and loaded here.
func (f *metricsStoreFlags) publish(ctx context.Context, r *report.Race) {
	if f.writer != nil && r != nil {
		f.writer.Publish(ctx, r)
	}
}

// finish waits for the writing and prints a warning when it failed; the
// race's outcome is not changed by it.
func (f *metricsStoreFlags) finish(stderr io.Writer) {
	if f.writer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), metricsStoreWait+10*time.Second)
	defer cancel()
	if err := f.writer.Wait(ctx); err != nil {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
}
