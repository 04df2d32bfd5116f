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
// and StartCluster (cluster.go), which `rally race --distribution-path`
// uses for esrally's from-distribution pipeline on this machine. Not built
// yet: provisioner hosts of a cluster (`rally up` pushing the distribution
// and starting nodes through the workers) and telemetry of the nodes. It
// must not know about SSH (the worker on the host will call it) nor about
// benchmarks.
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
// The nodes of a cluster live under ~/.rally/local/<cluster>/<node>/
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
