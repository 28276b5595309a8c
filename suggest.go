package main

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold is the form in which names are compared when the operator's spelling may differ from
// the registry's: case folded and accents removed, so "muller" meets "Müller" and "STRASSE"
// meets "Straße".
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC, cases.Fold())
	out, _, err := transform.String(t, strings.TrimSpace(s))
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

// closest returns up to limit candidates nearest to typed, nearest first: those within a few
// edits of it (a quarter of its length, at least two), and those it begins or that contain
// it, compared folded.
func closest(typed string, candidates []string, limit int) []string {
	t := fold(typed)
	if t == "" {
		return nil
	}
	type scored struct {
		name string
		dist int
	}
	var near []scored
	for _, c := range candidates {
		f := fold(c)
		d := editDistance(t, f)
		switch {
		case d <= max(2, len([]rune(t))/4):
		case len([]rune(t)) >= 3 && strings.Contains(f, t):
			d = len([]rune(f)) // a fragment: after every near miss
		default:
			continue
		}
		near = append(near, scored{c, d})
	}
	slices.SortStableFunc(near, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), strings.Compare(a.name, b.name))
	})
	var out []string
	for _, s := range near[:min(limit, len(near))] {
		out = append(out, s.name)
	}
	return out
}

// didYouMean phrases suggestions as the end of an error: `; did you mean --headless?`, each
// name written by show.
func didYouMean(names []string, show func(string) string) string {
	if len(names) == 0 {
		return ""
	}
	shown := make([]string, len(names))
	for i, n := range names {
		shown[i] = show(n)
	}
	if len(shown) == 1 {
		return "; did you mean " + shown[0] + "?"
	}
	return "; did you mean " + strings.Join(shown[:len(shown)-1], ", ") + " or " + shown[len(shown)-1] + "?"
}

// Ways to write a suggestion.
func asFlag(name string) string    { return "--" + name }
func asCommand(name string) string { return name }
func asName(name string) string    { return strconv.Quote(name) }

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
