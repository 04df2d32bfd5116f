// Package corpus makes a track's documents files ready to read and reads a
// client's slice of them: it finds a file in the track directory or the
// data directory, downloads it from the corpus base URL when missing,
// decompresses .bz2, .gz and .zst archives once into the data directory,
// keeps Rally's offset table (<file>.offset) beside it, and hands out raw
// lines of disjoint per-client slices without re-encoding anything. A load
// driver may instead hold pieces of a file pushed by the coordinator (the
// runs of lines its clients read, see pieces.go): DescribePiece cuts them
// on the coordinator, UsePieces records them on the host, and Prepare and
// OpenSlice then read a slice from its piece as from the whole file.
//
// It must not talk to a cluster or know about bulk requests: the driver
// builds request bodies from the lines it reads.
package corpus
