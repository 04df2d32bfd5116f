// Package provision installs, configures, starts and stops Elasticsearch
// and OpenSearch nodes on one host from a distribution archive and a Rally
// "car".
//
// What is built: distributions (dist.go: engine, version, start script and
// bundled JDK read from the archive's table of contents; download.go:
// official download URLs and sha512-checked fetches), Java (jdk.go: the
// bundled JDK, else --runtime-jdk, else the lowest suitable JDK found;
// ES_JAVA_HOME or OPENSEARCH_JAVA_HOME), unpacking (unpack.go), the node
// lifecycle (node.go: started in its own session as an unprivileged user,
// ready at the wanted cluster health, stopped with SIGTERM then SIGKILL),
// and StartCluster (cluster.go): one host's part of a cluster, which
// `rally race --distribution-path` runs on this machine (esrally's
// from-distribution pipeline) and each provisioner host of a cluster runs
// through `rally provisioner start` (host.go). It must not know about SSH
// (the coordinator runs the rally binary it pushed to the host) nor about
// benchmarks.
//
// A cluster across hosts forms in two rounds, as esrally's provisioner
// does it: every host first says where its nodes will live and which
// ports are free on its address (PrepareHost); the coordinator names the
// nodes (<host>-node-<i>) and gives every host the whole cluster's seed
// hosts and master-eligible nodes; each host then installs and starts its
// nodes (StartHost) and waits until the cluster has every node at the
// wanted health. What a host installed is recorded in cluster.json before
// anything is unpacked, so that StopHost (`rally down`, also after a crash
// of the coordinator) finds every node that may run. The nodes bind the
// host's address (the one the SSH client reached it at) for HTTP; their
// transport binds it too when the cluster spans hosts, which makes the
// engines enforce their production bootstrap checks, so PrepareHost
// checks vm.max_map_count and the open-files limit first (it raises the
// latter as far as it may) and names the fix. A cluster on one host talks
// over 127.0.0.1 (transport.host), where the engines do not enforce them.
// While a race runs, `rally provisioner sample` watches the nodes' process
// groups and the host from /proc (package telemetry).
//
// Plugins (plugin.go) are esrally's --elasticsearch-plugins (alias
// --opensearch-plugins): ParsePlugins reads the list once (official
// plugin names, http, https or file URLs, paths of local zips, which
// become file URLs), and InstallPlugins hands each to the distribution's
// own tool, bin/elasticsearch-plugin or bin/opensearch-plugin install
// --batch, on the engine's Java, before the node first starts. The tool
// runs as the caller, so a plugin's files stay the caller's and the node's
// user can read but not change them; a failed install is rolled back and
// reported with the tool's last lines. Official plugins are downloaded by
// the tool itself from the engine's artifact site; Rally's plugin
// configurations from a team (name:config) are not supported.
//
// On this machine the nodes of a cluster live under ~/.rally/local/<cluster>/<node>/
// (install, data, logs, run), or under the system's temporary directory
// when the user the nodes run as cannot reach the home directory (root's
// is 0700). After a race their logs are copied into the race's directory
// and the rest removed, unless --preserve-install.
//
// Cars come from a team in Rally's format, read unchanged (team.go,
// car.go): cars/v1/*.ini, each a car or a mixin, combined as
// --car "defaults,4gheap,ea" (later files win for variables, base
// directories accumulate in order, --car-params win last). A car whose base
// directory has install hooks (config.py) is refused: they are Python run
// by Rally. rally embeds its own default team (teams/default) and can
// clone a team repository with git (CloneTeam).
//
// Rendering (render.go) follows Rally's provisioner: every file under each
// base directory's templates/ lands at the same relative path of the
// node's install directory; .yml, .yaml, .json, .ini, .txt, .options and
// .properties files are Jinja2 templates, and a later base's rendering of
// the same file is appended (that is how a mixin adds settings); other
// files are copied. The template variables are Rally's (cluster_name,
// node_name, network_host, http_port, transport_port, data_paths,
// log_path, all_node_ips, all_node_names, minimum_master_nodes,
// cluster_settings, ...) plus engine, engine_version and
// engine_major_version. One team serves both engines: a template named
// config/elasticsearch.yml or config/opensearch.yml is written under the
// engine's own name, and templates branch on engine where the engines
// differ. A rendered file replaces the distribution's; files the car does
// not render are left as the distribution ships them.
package provision
