// Package suggest finds the nearest of a few known names to a mistyped one,
// for "did you mean" hints (commands, flags, config keys). It scores with
// Jaro-Winkler, as urfave/cli's own suggestions do.
package suggest

import "github.com/xrash/smetrics"

// MinScore is the similarity below which nothing is suggested.
const MinScore = 0.8

// Score is the Jaro-Winkler similarity of a and b, 0..1, with urfave/cli's
// boost threshold (0.7) and prefix size (4).
func Score(a, b string) float64 { return smetrics.JaroWinkler(a, b, 0.7, 4) }

// Nearest returns the candidate most similar to name, or "" when none
// scores at least MinScore.
func Nearest(name string, candidates []string) string {
	best, bestScore := "", 0.0
	for _, c := range candidates {
		if s := Score(name, c); s > bestScore {
			best, bestScore = c, s
		}
	}
	if bestScore < MinScore {
		return ""
	}
	return best
}
