package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// timeCommand reports a command's peak RSS as its own process saw it.
const timeCommand = "/usr/bin/time"

// build compiles the bisonsync binary of the module holding dir into tmp and returns its path.
func build(ctx context.Context, dir, tmp string) (string, error) {
	env := exec.CommandContext(ctx, "go", "env", "GOMOD")
	env.Dir = dir
	out, err := env.Output()
	if err != nil {
		return "", fmt.Errorf("find the module of %s: %w", dir, err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("%s is not inside a Go module (-root names the bisonsync repository)", dir)
	}
	bin := filepath.Join(tmp, "bisonsync")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %w\n%s", cmd.Dir, err, out)
	}
	logf("built %s in %.1fs", cmd.Dir, time.Since(start).Seconds())
	return bin, nil
}

// runResult is one run of the binary as its operator sees it.
type runResult struct {
	took    time.Duration // wall time of the process, start to exit
	peakKB  int64         // its maximum resident set size
	summary sync.Summary  // what it printed with --json
}

// syncOnce runs `bisonsync --headless --json` on the schema under /usr/bin/time -v and checks
// that it exited 0 with a succeeded run of want accounts. Its log goes to a file in tmp.
func syncOnce(ctx context.Context, bin, schema, tmp, name string, want int) (runResult, error) {
	base := filepath.Join(tmp, strings.ReplaceAll(name, " ", "-"))
	logPath, timePath := base+".log", base+".time"
	logFile, err := os.Create(logPath)
	if err != nil {
		return runResult{}, err
	}
	defer logFile.Close()
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, timeCommand, "-v", "-o", timePath, bin, "--headless", "--json", "--schema", schema)
	cmd.Stdout, cmd.Stderr = &stdout, logFile
	// A group of its own, interrupted as a whole: time ignores SIGINT while it waits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = time.Minute
	start := time.Now()
	err = cmd.Run()
	r := runResult{took: time.Since(start)}
	if err != nil {
		return r, fmt.Errorf("%s: %w; the end of its log:\n%s", name, err, tail(logPath, 15))
	}
	if r.peakKB, err = peakRSS(timePath); err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &r.summary); err != nil {
		return r, fmt.Errorf("%s: read its --json summary: %w", name, err)
	}
	if s := r.summary; s.Status != db.RunSucceeded || s.AccountsSynced != want {
		return r, fmt.Errorf("%s: run %d %s with %d accounts synced, want succeeded with %d",
			name, s.RunID, s.Status, s.AccountsSynced, want)
	}
	return r, nil
}

// peakRSS reads the maximum resident set size, in kilobytes, from /usr/bin/time -v's report.
func peakRSS(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s's report: %w", timeCommand, err)
	}
	const label = "Maximum resident set size (kbytes):"
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), label); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New(timeCommand + "'s report has no maximum resident set size")
}

// tail is the last n lines of a file, for an error message.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// logf prints a progress line on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05")+" "+format+"\n", args...)
}
