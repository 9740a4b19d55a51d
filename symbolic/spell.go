package symbolic

import "sort"

// nearest returns the candidate closest to name by edit distance, if it is
// close enough to be a likely misspelling, for "did you mean" hints.
func nearest(name string, candidates []string) string {
	sort.Strings(candidates) // deterministic among equally close names
	// How many edits still look like a typo grows with the name: none for
	// a one-letter name, where any other letter is one edit away.
	limit := 0
	switch n := len(name); {
	case n >= 9:
		limit = 3
	case n >= 5:
		limit = 2
	case n >= 2:
		limit = 1
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
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
