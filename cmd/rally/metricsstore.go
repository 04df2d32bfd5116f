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

// envMetricsStore names the metrics store when --metrics-store does not:
// rally has no configuration file, so this stands for esrally's
// datastore settings in rally.ini, for every command that uses a store.
const envMetricsStore = "RALLY_METRICS_STORE"

// metricsStoreFlags are esrally's metrics store as a flag: where every race
// is also written (package metricsstore does the writing).
type metricsStoreFlags struct {
	MetricsStore            string `name:"metrics-store" env:"RALLY_METRICS_STORE" placeholder:"URL" help:"Also write the race to an Elasticsearch or OpenSearch cluster, in esrally's rally-races-*, rally-results-* and rally-metrics-* indices, e.g. http://127.0.0.1:9200. Credentials come from RALLY_METRICS_STORE_USER and RALLY_METRICS_STORE_PASSWORD, or a file (user:password, mode 0600) named by RALLY_METRICS_STORE_CREDENTIALS."`
	MetricsStoreEnvironment string `name:"metrics-store-environment" default:"local" placeholder:"NAME" help:"The environment stored with every document, as esrally's env.name (default: ${default})."`

	writer *metricsstore.Writer `kong:"-"`
}

// metricsStoreReadFlags are the metrics store of the commands that read
// races (list races, compare): with one, they read from it instead of the
// local race directory. The same flag, variable and credentials as
// metricsStoreFlags.
type metricsStoreReadFlags struct {
	MetricsStore            string `name:"metrics-store" env:"RALLY_METRICS_STORE" placeholder:"URL" help:"Read the races from an Elasticsearch or OpenSearch cluster that rally race (or esrally) writes them to (esrally's rally-races-* indices) instead of ~/.rally/races, e.g. http://127.0.0.1:9200. Credentials come from RALLY_METRICS_STORE_USER and RALLY_METRICS_STORE_PASSWORD, or a file (user:password, mode 0600) named by RALLY_METRICS_STORE_CREDENTIALS."`
	MetricsStoreEnvironment string `name:"metrics-store-environment" default:"local" placeholder:"NAME" help:"Only the races of this environment, as esrally's env.name (default: ${default})."`
}

// metricsStoreRead bounds each read of a metrics store.
const metricsStoreRead = 30 * time.Second

// reader returns the store to read races from, nil without one (the
// local race directory is then the source); a bad URL or bad credentials
// are bad usage.
func (f *metricsStoreReadFlags) reader() (*metricsstore.Reader, error) {
	if f.MetricsStore == "" {
		return nil, nil
	}
	cfg, err := metricsStoreConfig(f.MetricsStore, f.MetricsStoreEnvironment)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = metricsStoreRead
	return metricsstore.NewReader(cfg)
}

// metricsStoreConfig checks a store's URL and reads its credentials from
// the environment, for writing and reading alike: bad usage when wrong.
func metricsStoreConfig(rawURL, environment string) (metricsstore.Config, error) {
	u, err := metricsstore.ParseURL(rawURL)
	if err != nil {
		return metricsstore.Config{}, &usageError{err: fmt.Errorf("--metrics-store (or %s): %w", envMetricsStore, err)}
	}
	creds, err := metricsstore.CredentialsFromEnv(os.Getenv)
	if err != nil {
		return metricsstore.Config{}, &usageError{err: err}
	}
	return metricsstore.Config{URL: u, Credentials: creds, Environment: environment}, nil
}

// metricsStoreWait bounds how long a race's end waits for its writing.
const metricsStoreWait = 2 * time.Minute

// open checks the URL and the credentials (bad usage when wrong); without
// --metrics-store it does nothing.
func (f *metricsStoreFlags) open() error {
	if f.MetricsStore == "" {
		return nil
	}
	cfg, err := metricsStoreConfig(f.MetricsStore, f.MetricsStoreEnvironment)
	if err != nil {
		return err
	}
	cfg.Timeout = metricsStoreWait
	f.writer, err = metricsstore.New(cfg)
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
