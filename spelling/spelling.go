// Package spelling measures how far apart two words are, for the "did you
// mean ...?" hints of parsers (inventory keys, track parameters). Each
// parser keeps its own rule of what counts as a typo.
package spelling

// Distance is the Levenshtein distance between a and b, in bytes. Words
// longer than 64 bytes are reported as far apart without comparing them,
// which keeps hostile (fuzzed) input cheap.
func Distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Nearest returns the word of known closest to word when it is at most
// limit edits away, for a "did you mean" hint; ok is false when none is.
func Nearest(word string, known []string, limit int) (best string, ok bool) {
	bestDist := limit + 1
	for _, k := range known {
		if d := Distance(word, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, bestDist <= limit
}
