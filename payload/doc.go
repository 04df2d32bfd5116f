// Package payload gets the rally worker binary onto a host: it detects the
// host's platform (uname -sm), picks a static build for it (the running
// executable, or rally-<os>-<arch> beside it or in the local cache), and
// pushes that build over SFTP to a content-addressed path,
// <workdir>/bin/rally-<first 16 hex of its SHA-256>. A host that already
// has the build gets no upload; a new upload goes to a temporary name, is
// checksummed on the host and only then renamed into place, so a host never
// sees a partial binary under the final name.
//
// payload moves bytes; it must not start the worker or know what it does.
package payload
