package corpus

import "path/filepath"

// Present reports whether spec's documents file is on this machine where
// Prepare looks for it (o.TrackDir, then o.DataDir/<corpus>), uncompressed
// or as its archive, with the sizes the track gives: whether Prepare would
// need no download. It changes nothing.
func Present(spec Spec, o Options) (bool, error) {
	docName := filepath.Base(spec.DocumentFile)
	if spec.DocumentFile == "" {
		docName = DocumentFileName(filepath.Base(spec.SourceFile))
	}
	archiveName := filepath.Base(spec.SourceFile)
	wantArchiveSize := spec.CompressedBytes
	if archiveName == docName {
		wantArchiveSize = spec.UncompressedBytes
	}
	for _, dir := range nonEmpty(o.TrackDir, corpusDir(o.DataDir, spec.Corpus)) {
		for _, f := range []struct {
			name string
			size int64
		}{{docName, spec.UncompressedBytes}, {archiveName, wantArchiveSize}} {
			if ok, err := sizeMatches(filepath.Join(dir, f.name), f.size); err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

func corpusDir(dataDir, corpus string) string {
	if dataDir == "" {
		return ""
	}
	return filepath.Join(dataDir, corpus)
}
