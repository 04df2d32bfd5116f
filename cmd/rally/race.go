package main

import "context"

// raceCmd is `rally race`: plan a track's challenge on the coordinator and
// run it on the load-driver hosts (wired in coordinator and driver).
type raceCmd struct {
	trackFlags
	TrackPath     string `xor:"track" type:"existingdir" placeholder:"DIR" help:"A track directory (holding track.json)."`
	Challenge     string `placeholder:"NAME" help:"The challenge to run (default: the track's default challenge)."`
	TrackParams   string `placeholder:"PARAMS" help:"Track parameters as key:value pairs separated by commas, or a JSON file, e.g. bulk_size:5000,number_of_replicas:0."`
	TargetHosts   string `placeholder:"HOSTS" help:"Elasticsearch HTTP endpoints as host:port separated by commas, e.g. 10.0.0.21:9200 (default: the nodes on provisioner hosts)."`
	ClientOptions string `placeholder:"OPTIONS" help:"HTTP client options as key:value pairs separated by commas, e.g. timeout:60,basic_auth_user:'elastic'; secrets come from RALLY_* environment variables."`
	TestMode      bool   `help:"Run a quick functional check: the first 1000 documents of each corpus, each task briefly."`
	OnError       string `enum:"continue,abort" default:"continue" placeholder:"POLICY" help:"What to do when a request fails or a host is lost: continue or abort (default: ${default})."`
	ReportFormat  string `enum:"text,markdown,csv,json" default:"text" placeholder:"FORMAT" help:"Format of the summary report: text, markdown, csv or json (default: ${default})."`
	ReportFile    string `placeholder:"FILE" help:"Also write the summary report to FILE."`
	UserTags      string `placeholder:"TAGS" help:"Tags saved with the race as key:value pairs separated by commas, e.g. intention:baseline,gc:g1."`
	Cluster       string `placeholder:"NAME" help:"The cluster to run on (default: the only one that is up)."`
	Pipeline      string `enum:"benchmark-only,from-distribution,from-sources," default:"" placeholder:"NAME" help:"How the target comes to be, as in esrally: benchmark-only (--target-hosts of a running cluster), from-distribution (start nodes on this machine from --distribution-path, race, stop them; the default when a distribution is given) or from-sources (not supported)."`
	distFlags
	telemetryFlags
	RunAs          string `placeholder:"USER" help:"The unprivileged user the nodes run as on this machine (required as root: Elasticsearch and OpenSearch refuse root). On provisioner hosts, the inventory's run_as says it."`
	MinLoadDrivers int    `name:"min-load-drivers" placeholder:"N" help:"Race even when some load drivers of the inventory are not joined, as long as at least N are (default: all must be joined)."`
	raceTaskFlags
	corpusFlags
	metricsStoreFlags
}

// Help is the detailed description shown by `rally race --help`.
func (raceCmd) Help() string {
	return `Renders the track (Jinja2 templates and track parameters, as Rally does), plans the challenge's schedule on the coordinator and runs it on the load-driver hosts of a cluster started with "rally up": clients are spread round-robin over the hosts, and every step starts together everywhere. Samples are merged on the coordinator into one summary report, saved under ~/.rally/races/<race-id>/.

A load driver lost mid-race is named in the report and race.json with the clients it ran; what it measured until then is kept. With --on-error continue the race goes on with the other hosts, with abort it stops and is saved as aborted. Metric deltas are numbered: one that never arrived is named and the race marked incomplete. A race refuses to start while a load driver of the inventory is not joined unless --min-load-drivers allows it.

--include-tasks and --exclude-tasks choose which tasks of the challenge run, as in esrally: task names, type:<operation-type> and tag:<tag>, separated by commas ("rally info" with the same flag shows the schedule that is left). --load-driver-hosts races from some of the cluster's load drivers only, named as in the inventory or by address.

Examples:

    rally race --track-path ./tracks/geonames --target-hosts 10.0.0.21:9200
    rally race --track-path ./tracks/geonames --challenge append-no-conflicts \
        --track-params bulk_size:5000 --on-error abort --report-format markdown --report-file report.md
    rally race --track-path ./tracks/geonames --test-mode
    rally race --track-path ./tracks/geonames --include-tasks type:search --target-hosts 10.0.0.21:9200
    rally race --track-path ./tracks/geonames --exclude-tasks index-append,tag:slow --load-driver-hosts driver-1,driver-2`
}

// Run starts the race.
func (c *raceCmd) Run(ctx context.Context, e *env) error {
	return runRace(ctx, c, e)
}
