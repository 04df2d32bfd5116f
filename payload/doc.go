// Package payload gets the rally worker binary onto a host: it detects the
// host's platform (uname -sm), picks a static build for it (the running
// executable, or rally-<os>-<arch> beside it or in the local cache), and
// pushes that build over SFTP to a content-addressed path,
// <workdir>/bin/rally-<first 16 hex of its SHA-256>. A host that already
// has the build gets no upload; a new upload goes to a temporary name, is
// checksummed on the host and only then renamed into place, so a host never
// sees a partial binary under the final name.
//
// It also pushes a track directory (PushTree, content-addressed too) and
// byte ranges of local files as files of their own (PushRanges: corpus
// pieces), each checksummed on the host, continued after a cut, skipped
// when already there and intact.
//
// payload moves bytes; it must not start the worker or know what it does,
// nor what the bytes it pushes mean.
package payload
