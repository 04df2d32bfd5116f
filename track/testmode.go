package track

import (
	"math"
	"time"
)

// testModeThroughput is what Rally sets as target throughput in test mode
// (Python's sys.maxsize): still throttled, so throttling code runs, but
// never waiting.
const testModeThroughput = float64(math.MaxInt64)

// applyTestMode rewrites a loaded track the way Rally's
// TestModeTrackProcessor does for --test-mode:
//
//   - every bulk documents entry with more than 1000 documents is cut to
//     1000 documents and its files switch to the "-1k" variants that
//     Rally's corpora publish next to the full ones:
//     documents.json.bz2 -> documents-1k.json.bz2 (and documents.json ->
//     documents-1k.json after decompression), an uncompressed
//     documents.json -> documents-1k.json; sizes become unknown (0) so they
//     are not checked;
//   - in every task of every challenge, warmup iterations and iterations
//     above the number of clients drop to the number of clients, a warmup
//     time period becomes 0, a time period above 10 s becomes 10 s, and a
//     target throughput becomes sys.maxsize in its unit.
func applyTestMode(t *Track) {
	t.TestMode = true
	for ci := range t.Corpora {
		docs := t.Corpora[ci].Documents
		for i := range docs {
			d := &docs[i]
			if d.SourceFormat != "bulk" || d.DocumentCount <= 1000 {
				continue
			}
			d.DocumentCount = 1000
			if d.DocumentArchive != "" {
				path, ext := splitExt(d.DocumentArchive)
				path2, ext2 := splitExt(path)
				d.DocumentArchive = path2 + "-1k" + ext2 + ext
				d.DocumentFile = path2 + "-1k" + ext2
				d.SourceFile = d.DocumentArchive
			} else {
				path, ext := splitExt(d.DocumentFile)
				d.DocumentFile = path + "-1k" + ext
				d.SourceFile = d.DocumentFile
			}
			d.CompressedBytes, d.UncompressedBytes = 0, 0
		}
	}
	for ci := range t.Challenges {
		for si := range t.Challenges[ci].Schedule {
			tasks := t.Challenges[ci].Schedule[si].Tasks
			for ti := range tasks {
				task := &tasks[ti]
				if task.WarmupIterations > task.Clients {
					task.WarmupIterations = task.Clients
				}
				if task.Iterations > task.Clients {
					task.Iterations = task.Clients
				}
				task.WarmupTimePeriod = 0
				if task.TimePeriod > 10*time.Second {
					task.TimePeriod = 10 * time.Second
				}
				if task.TargetThroughput > 0 {
					task.TargetThroughput = testModeThroughput
					task.TargetInterval = 0
				}
			}
		}
	}
}
