// Package payload gets the rally worker binary onto a host. One command on
// the host (ProbeHost) tells its platform (uname -sm) and user, makes the
// work directory when missing and lists the builds already there; Finder
// picks a static build for the platform (the running executable, or
// rally-<os>-<arch> beside it or in the local cache); Push sends it to a
// content-addressed path, <workdir>/bin/rally-<first 16 hex of its
// SHA-256>. A host that already has the build gets nothing. A new upload is
// gzip-compressed (once per build, kept in the local cache: Packer) and
// written to a temporary name; one command on the host decompresses it
// with gzip -dc, checks the result with sha256sum and only then renames it
// into place, so a host never sees a partial or wrong binary under the
// final name.
//
// It also pushes a track directory (PushTree, content-addressed too), files
// as they are (PushFile: distribution archives) and byte ranges of local
// files as files of their own (PushRanges: corpus pieces), each
// checksummed on the host, continued after a cut, skipped when already
// there and intact.
//
// payload moves bytes; it must not start the worker or know what it does,
// nor what the bytes it pushes mean.
package payload
