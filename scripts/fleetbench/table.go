package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// print writes the figures as a row of the README's table of the fleet at scale, its
// header above it and the plain COPY below.
func (f figures) print(w io.Writer) {
	fmt.Fprintln(w, "| accounts (workspaces) | first sync | re-sync, <1% changed | rows the re-sync wrote | binary's peak RSS (first, re-sync) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	fmt.Fprintf(w, "| %s (%s) | %s | %s | %s of %s changed | %.0f MB, %.0f MB |\n",
		thousands(int64(f.accounts)), thousands(int64(f.workspaces)),
		f.pace(f.first.took, f.accounts), f.pace(f.resync.took, f.accounts+f.changes.Inserted-f.changes.Removed),
		thousands(f.written.Rows()), thousands(f.changed.Rows()),
		float64(f.first.peakKB)/1024, float64(f.resync.peakKB)/1024)
	fmt.Fprintf(w, "\nplain COPY of the first sync's rows: %.1f s, %s/s\n",
		f.copied.Seconds(), thousands(perSecond(f.accounts, f.copied)))
}

// pace is a run's figure: seconds, accounts a second, and its time against the plain COPY's.
func (f figures) pace(took time.Duration, accounts int) string {
	return fmt.Sprintf("%.1f s: %s/s, %.1f× COPY", took.Seconds(), thousands(perSecond(accounts, took)),
		took.Seconds()/f.copied.Seconds())
}

// perSecond is n per second over d, to the hundred.
func perSecond(n int, d time.Duration) int64 {
	return int64(math.Round(float64(n)/d.Seconds()/100) * 100)
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
