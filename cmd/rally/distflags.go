package main

import (
	"context"
	"path/filepath"
	"strconv"

	"rally/coordinator"
	"rally/home"
	"rally/provision"
	"rally/track"
)

// distFlags say which distribution nodes start from and how they are
// configured: esrally's flags, shared by `rally up` (nodes on the
// provisioner hosts) and `rally race` (nodes on this machine when no
// cluster is up).
type distFlags struct {
	DistributionPath    string `type:"existingfile" placeholder:"FILE" help:"An Elasticsearch or OpenSearch distribution (zip or tar.gz); engine and version are read from it. rally up pushes it to every provisioner host; rally race with no cluster up starts it on this machine."`
	DistributionURL     string `name:"distribution-url" placeholder:"URL" help:"Download the distribution from URL (on each provisioner host, or on this machine); its sha512 (--distribution-sha512, else URL.sha512) is checked before it is unpacked."`
	DistributionSHA512  string `name:"distribution-sha512" placeholder:"HEX" help:"The sha512 the downloaded distribution must have."`
	DistributionVersion string `name:"distribution-version" placeholder:"VERSION" help:"Download the official distribution of this version for each host's OS and architecture (with --engine)."`
	Engine              string `enum:"elasticsearch,opensearch," default:"" placeholder:"ENGINE" help:"elasticsearch or opensearch, for --distribution-version."`
	Car                 string `default:"defaults" placeholder:"CARS" help:"The car and mixins the nodes are configured with, e.g. defaults,4gheap,g1gc (default: ${default}); rally list cars names them."`
	CarParams           string `placeholder:"PARAMS" help:"Car variables to override as key:value pairs or a JSON file, e.g. heap_size:2g."`
	teamFlags
	ElasticsearchPlugins string `name:"elasticsearch-plugins" aliases:"opensearch-plugins" placeholder:"PLUGINS" help:"Plugins to install into every node with the distribution's plugin tool, separated by commas: official names (analysis-icu), URLs of zips, or zip files of this machine (pushed to the provisioner hosts). Alias: --opensearch-plugins."`
	RuntimeJDK           int    `name:"runtime-jdk" placeholder:"N" help:"The Java major version the nodes run on (default: the distribution's bundled JDK, else the lowest suitable one found on the host)."`
	ClusterHealth        string `enum:"green,yellow" default:"green" placeholder:"STATUS" help:"The cluster health to wait for before racing (default: ${default})."`
	PreserveInstall      bool   `help:"Keep the nodes' install and data directories when they stop (their logs are fetched either way)."`
}

// sources counts the distributions given.
func (f *distFlags) sources() int {
	n := 0
	for _, set := range []bool{f.DistributionPath != "", f.DistributionURL != "", f.DistributionVersion != ""} {
		if set {
			n++
		}
	}
	return n
}

// check refuses contradictory distribution flags.
func (f *distFlags) check() error {
	if f.sources() > 1 {
		return usageErrorf("give one of --distribution-path, --distribution-url and --distribution-version")
	}
	if f.DistributionVersion != "" && f.Engine == "" {
		return usageErrorf("--distribution-version needs --engine elasticsearch or opensearch")
	}
	if f.DistributionSHA512 != "" && f.DistributionURL == "" && f.DistributionVersion == "" {
		return usageErrorf("--distribution-sha512 checks a download: give --distribution-url or --distribution-version")
	}
	return nil
}

// provision is what the flags ask of the provisioner hosts: nil when no
// distribution is given. The car is checked here, before any host is
// dialed, so that a typo fails at once.
func (f *distFlags) provision(ctx context.Context) (*coordinator.Provision, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if f.sources() == 0 {
		return nil, nil
	}
	params, err := track.ParseParams(f.CarParams)
	if err != nil {
		return nil, usageErrorf("--car-params: %v", err)
	}
	teamDir, err := f.teamFlags.dir(ctx)
	if err != nil {
		return nil, err
	}
	team, err := f.teamFlags.load(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := team.Car(f.Car, params); err != nil {
		return nil, &usageError{err: err}
	}
	plugins, err := provision.ParsePlugins(f.ElasticsearchPlugins)
	if err != nil {
		return nil, usageErrorf("--elasticsearch-plugins: %v", err)
	}
	p := &coordinator.Provision{URL: f.DistributionURL, SHA512: f.DistributionSHA512, Engine: f.Engine,
		Version: f.DistributionVersion, TeamDir: teamDir, Car: f.Car, CarParams: params, Plugins: plugins, RuntimeJDK: f.RuntimeJDK,
		Health: f.ClusterHealth, PreserveInstall: f.PreserveInstall}
	if f.DistributionPath != "" {
		if p.Archive, err = filepath.Abs(f.DistributionPath); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// args are the flags again, for the detached coordinator's command line.
func (f *distFlags) args() []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		a, _ := filepath.Abs(p)
		return a
	}
	add("distribution-path", abs(f.DistributionPath))
	add("distribution-url", f.DistributionURL)
	add("distribution-sha512", f.DistributionSHA512)
	add("distribution-version", f.DistributionVersion)
	add("engine", f.Engine)
	add("car", f.Car)
	add("car-params", f.CarParams)
	add("team-path", abs(f.TeamPath))
	add("team-repository", f.TeamRepository)
	add("team-revision", f.TeamRevision)
	add("elasticsearch-plugins", f.ElasticsearchPlugins)
	if f.RuntimeJDK != 0 {
		add("runtime-jdk", strconv.Itoa(f.RuntimeJDK))
	}
	add("cluster-health", f.ClusterHealth)
	if f.PreserveInstall {
		args = append(args, "--preserve-install")
	}
	return args
}

// dir is the team's directory to push to hosts: "" for the default team,
// which every rally binary embeds.
func (f teamFlags) dir(ctx context.Context) (string, error) {
	switch {
	case f.TeamPath != "":
		return filepath.Abs(f.TeamPath)
	case f.TeamRepository != "":
		dir, err := home.Default()
		if err != nil {
			return "", err
		}
		return provision.CloneTeam(ctx, f.TeamRepository, f.TeamRevision, filepath.Join(string(dir), "cache", "teams"))
	}
	return "", nil
}
