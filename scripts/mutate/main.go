// Command mutate is mutation testing for bisonsync's decision code: it breaks the code one
// small change at a time and checks that a test notices.
//
// Two sets of mutants:
//   - generated: every comparison, boolean operator, arithmetic operator, negation, integer
//     literal and boolean result inside the decision functions listed in targets.go is
//     mutated in turn (< ↔ <=, == ↔ !=, && ↔ ||, + ↔ -, !x → x, n → n+1, true ↔ false);
//   - critical: the hand-written mutations of critical.go, the lines an audit once broke
//     without any test failing (the 404 confirmation, the guard's boundary, the instance-wide
//     pause on a 429, …). Every one of them must be killed.
//
// Each mutant is compiled through `go test -overlay`, so the working tree is never touched,
// and only the fast unit tests named for its target run: no database per mutant. It prints
// each survivor and the score, and exits 1 when a critical mutant survives or the score of
// the generated ones falls below -min.
//
//	go run ./scripts/mutate            # everything
//	go run ./scripts/mutate -only db   # targets whose package path contains "db"
//	go run ./scripts/mutate -list      # the mutants, without running anything
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// mutant is one change to one file, and the tests that should notice it.
type mutant struct {
	pkg, file string
	offset    int    // byte offset of the change in the file
	old, new  string // the text replaced, and its replacement
	run       string // go test -run pattern
	what      string // the function, or the critical mutation's purpose
	critical  bool
}

func (m mutant) String() string {
	kind := "generated"
	if m.critical {
		kind = "critical"
	}
	return fmt.Sprintf("%s:%d %s: %q → %q (%s)", m.file, line(m.file, m.offset), kind, m.old, m.new, m.what)
}

type result struct {
	m       mutant
	outcome string // killed, survived, invalid (does not compile), timeout
	detail  string
}

func main() {
	only := flag.String("only", "", "run only targets whose package contains this text")
	list := flag.Bool("list", false, "list the mutants and exit")
	minScore := flag.Float64("min", 85, "lowest acceptable score of the generated mutants, in percent")
	workers := flag.Int("workers", max(runtime.NumCPU(), 1), "mutants tested at once")
	flag.Parse()

	var mutants []mutant
	for _, t := range targets {
		if strings.Contains(t.pkg, *only) {
			ms, err := generate(t)
			if err != nil {
				fmt.Fprintln(os.Stderr, "mutate:", err)
				os.Exit(2)
			}
			mutants = append(mutants, ms...)
		}
	}
	for _, c := range critical {
		if strings.Contains(c.pkg, *only) {
			m, err := c.mutant()
			if err != nil {
				fmt.Fprintln(os.Stderr, "mutate:", err)
				os.Exit(2)
			}
			mutants = append(mutants, m)
		}
	}
	if *list {
		for _, m := range mutants {
			fmt.Println(m)
		}
		fmt.Printf("%d mutants\n", len(mutants))
		return
	}
	os.Exit(report(runAll(mutants, *workers), *minScore))
}

// runAll tests every mutant, a few at a time, printing progress on stderr.
func runAll(mutants []mutant, workers int) []result {
	dir, err := os.MkdirTemp("", "bisonsync-mutate-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(dir)
	results := make([]result, len(mutants))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] = test(dir, i, mutants[i])
				fmt.Fprintf(os.Stderr, "%4d/%d %-8s %s\n", i+1, len(mutants), results[i].outcome, mutants[i])
			}
		})
	}
	for i := range mutants {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// test compiles the package with the mutant through an overlay and runs its tests.
func test(dir string, i int, m mutant) result {
	src, err := os.ReadFile(m.file)
	if err != nil {
		return result{m: m, outcome: "invalid", detail: err.Error()}
	}
	mutated := string(src[:m.offset]) + m.new + string(src[m.offset+len(m.old):])
	file := filepath.Join(dir, fmt.Sprintf("m%d.go", i))
	overlay := filepath.Join(dir, fmt.Sprintf("m%d.json", i))
	abs, _ := filepath.Abs(m.file)
	spec, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: file}})
	if err := os.WriteFile(file, []byte(mutated), 0o644); err != nil {
		return result{m: m, outcome: "invalid", detail: err.Error()}
	}
	if err := os.WriteFile(overlay, spec, 0o644); err != nil {
		return result{m: m, outcome: "invalid", detail: err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-overlay", overlay, "-count=1", "-timeout", "90s", "-run", m.run, m.pkg)
	out, err := cmd.CombinedOutput()
	text := string(out)
	switch {
	case ctx.Err() != nil:
		return result{m: m, outcome: "killed", detail: "timed out"}
	case err == nil && strings.Contains(text, "[no tests to run]"):
		return result{m: m, outcome: "invalid", detail: "no test matches " + m.run}
	case err == nil:
		return result{m: m, outcome: "survived"}
	case strings.Contains(text, "vet: ") || strings.Contains(text, "go vet"):
		// go test runs vet, as CI does: a mutant vet rejects would not land either.
		return result{m: m, outcome: "killed", detail: "by go vet"}
	case strings.Contains(text, "[build failed]") || strings.Contains(text, "[setup failed]"):
		return result{m: m, outcome: "invalid", detail: firstLine(text)}
	}
	return result{m: m, outcome: "killed", detail: firstFail(text)}
}

// report prints the survivors and the scores, and returns the exit code.
func report(results []result, minScore float64) int {
	sort.Slice(results, func(a, b int) bool { return results[a].m.String() < results[b].m.String() })
	counts := map[string]map[string]int{"generated": {}, "critical": {}}
	fmt.Println("\nSurvivors and invalid mutants:")
	for _, r := range results {
		kind := "generated"
		if r.m.critical {
			kind = "critical"
		}
		counts[kind][r.outcome]++
		if r.outcome != "killed" {
			fmt.Printf("  %-8s %s %s\n", r.outcome, r.m, r.detail)
		}
	}
	code := 0
	for _, kind := range []string{"critical", "generated"} {
		c := counts[kind]
		valid := c["killed"] + c["survived"]
		score := 100.0
		if valid > 0 {
			score = 100 * float64(c["killed"]) / float64(valid)
		}
		fmt.Printf("%s: %d killed, %d survived, %d invalid: score %.1f%%\n", kind, c["killed"], c["survived"], c["invalid"], score)
		if (kind == "critical" && c["survived"] > 0) || (kind == "generated" && score < minScore) {
			code = 1
		}
	}
	return code
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func firstFail(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
			return strings.TrimSpace(l)
		}
	}
	return firstLine(s)
}

// line is the 1-based line of offset in file.
func line(file string, offset int) int {
	src, err := os.ReadFile(file)
	if err != nil || offset > len(src) {
		return 0
	}
	return strings.Count(string(src[:offset]), "\n") + 1
}
