// Package provision installs, configures, starts and stops Elasticsearch
// nodes on provisioner hosts from a Rally "car" and its plugins.
//
// It is not built yet: the CLI reports provisioning as not implemented
// rather than pretending. It must not know about SSH (the worker on the
// host calls it) nor about benchmarks.
package provision
