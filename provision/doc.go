// Package provision installs, configures, starts and stops Elasticsearch
// nodes on provisioner hosts from a Rally "car" and its plugins.
//
// It is not built yet: the CLI reports provisioning as not implemented
// rather than pretending. It must not know about SSH (the worker on the
// host calls it) nor about benchmarks.
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
