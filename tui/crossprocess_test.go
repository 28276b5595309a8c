package tui

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// buildBinary builds bisonsync into the test's temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bisonsync")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is a bisonsync process started by a test, killed by the test's cleanup if it is
// still running then.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

func startChild(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	c.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbtest.URL(), "NO_COLOR=1")
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// wait returns the child's exit code, failing the test if it outlives timeout.
func (c *child) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
		c.done <- nil // for the cleanup
	case <-time.After(timeout):
		t.Fatalf("bisonsync did not exit within %s\nstderr:\n%s", timeout, c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode()
}

var pagesFigure = regexp.MustCompile(`· pages (\d+) ·`)

// pagesShown is the Run view's pages figure, -1 when it is not on screen.
func pagesShown(text string) int {
	m := pagesFigure.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Issue 14's acceptance: a headless run in another OS process, on a simulated fleet with
// latency, and the console's Run view following it from the database to its end: whose it
// is (trigger, host, pid), pages advancing as that process records them, the final status.
func TestScreenFollowsARunOfAnotherOSProcess(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.slowInstance(100 * time.Millisecond) // 40 pages one at a time: over 4s
	s := startScreenWith(t, env.backend(), 140, 36, config{pollEvery: 200 * time.Millisecond})
	s.waitFor(10*time.Second, "5 workspaces")

	p := startChild(t, bin, "sync", "--schema", env.store.Schema())
	host, _ := os.Hostname()
	s.waitFor(30*time.Second, fmt.Sprintf("following run #1 (%s)", host))
	s.press("2")
	s.waitFor(10*time.Second, fmt.Sprintf("Run #1 · trigger headless · host %s (pid %d)", host, p.cmd.Process.Pid), "» running")

	// The pages go up as the other process records them, poll after poll.
	first, last := -1, -1
	deadline := time.Now().Add(30 * time.Second)
	for seen := 0; seen < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		text := s.term.text()
		n := pagesShown(text)
		if n <= 0 || n == last || lineOf(text, "» running") == "" {
			continue
		}
		if first < 0 {
			first = n
		}
		last = n
		seen++
	}
	if first < 0 || last <= first {
		t.Fatalf("the pages did not advance while the run went (first %d, last %d):\n%s", first, last, s.term.text())
	}

	if code := p.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("bisonsync sync exited %d\nstderr:\n%s", code, p.stderr.String())
	}
	text := s.waitFor(15*time.Second, "✓ succeeded", "workspaces 5/5 done: 5 ok", "accounts 562 synced of 562",
		fmt.Sprintf("run #1 (headless on %s) finished: ✓ succeeded", host))
	if n := pagesShown(text); n < last {
		t.Errorf("the pages went back at the end: %d after %d", n, last)
	}
	s.press("1")
	s.waitFor(10*time.Second, "✓ all fresh")
}
