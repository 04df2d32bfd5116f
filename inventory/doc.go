// Package inventory reads hosts.yaml, the list of machines rally drives over
// SSH, into validated, typed structs. It parses the file once, checks every
// rule it can check without a network (names, roles, ports, jump syntax,
// readable identity files), and reports every problem it finds with the
// file, line, column and field, so a user can fix them all in one go.
//
// It must not connect anywhere, read ~/.ssh/config or fill in SSH defaults:
// an SSH setting left unset stays zero here and the remote package decides.
// Local paths (identity_file, known_hosts) are expanded against the local
// home directory; the remote workdir is kept exactly as written.
//
// The format:
//
//	cluster: demo                  # optional, default "default"; [A-Za-z0-9._-]
//	ssh:                           # defaults for every host
//	  user: root
//	  port: 22
//	  identity_file: ~/.ssh/id_ed25519
//	  known_hosts: ~/.ssh/known_hosts
//	  jump: user@bastion:22
//	  connect_timeout: 10s
//	coordinator:
//	  port: 1900                   # the port tunnelled to every host
//	hosts:
//	  - name: driver-1
//	    address: 10.0.0.11
//	    roles: [load-driver]       # load-driver and/or provisioner
//	    ssh: {user: ubuntu}        # overrides any key of the defaults
//	    workdir: ~/.rally          # on the remote host
//
// A null value (an empty value or "null") means "not set". Relative local
// paths are taken relative to the directory of the inventory file. Anchors,
// aliases and merge keys ("<<: *defaults") work as in any YAML file.
package inventory
