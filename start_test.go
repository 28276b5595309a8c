package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// silentServer accepts TCP connections and never answers: a wedged database, a firewall
// that swallows packets after the handshake, the wrong service on the port.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu stdsync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Every mode gives up on a database that accepts connections and never answers, within the
// bound: exit 3, naming the host and port and what it waited for.
func TestSilentDatabaseEveryModeExits3(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)
	url := fmt.Sprintf("postgres://bisonsync@%s/postgres?sslmode=disable", addr)
	modes := [][]string{{"--check"}, {"check", "--json"}, {"--headless"}, {"sync", "--json"}, {"migrate"},
		{"--schema", "other", "migrate"}, {"--demo", "--headless"}, {"sync", "--demo"}, {"sync", "--workspace", "A"}}
	var wg stdsync.WaitGroup
	for _, args := range modes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, append(args, "--database-url", url)...)
			cmd.Env = append(os.Environ(), startTimeoutEnv+"=2s")
			start := time.Now()
			out, _ := cmd.CombinedOutput()
			took := time.Since(start)
			code := cmd.ProcessState.ExitCode()
			if code != exitDatabase || took > 10*time.Second || !strings.Contains(string(out), addr) ||
				!strings.Contains(string(out), "gave up after 2s waiting for PostgreSQL") || !strings.Contains(string(out), "still waiting") {
				t.Errorf("bisonsync %v: exit %d after %s\n%s", args, code, took.Round(time.Millisecond), out)
			}
		}()
	}
	wg.Wait()
}

// A lock held on sync_runs by another session used to hang the start of a run silently; now
// the opening of the run is bounded: exit 3, saying what it waited for and where to look.
func TestLockedRunsTableExits3(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	ctx := context.Background()
	conn, err := f.Store.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE `+f.Table("sync_runs")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	p := &proc{}
	p.cmd = exec.Command(binary, "--schema", f.Store.Schema(), "sync", "--log-format", "json")
	p.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbtest.URL(), startTimeoutEnv+"=3s")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, 20*time.Second)
	msg := p.stderr.String()
	if code != exitDatabase || !strings.Contains(msg, "waiting for the run to open in "+f.Store.Schema()+".sync_runs") ||
		!strings.Contains(msg, "pg_locks") || !strings.Contains(msg, `"msg":"still waiting"`) {
		t.Fatalf("exit %d\n%s", code, msg)
	}
	tx.Rollback(ctx)
	if n := f.Int(`SELECT count(*) FROM ` + f.Table("sync_runs")); n != 0 {
		t.Fatalf("%d runs recorded by a start that gave up", n)
	}
}

func TestStartTimeoutSetting(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string { return func(string) string { return v } }
	if b, err := boundsFrom(env("")); err != nil || b != defaultBounds {
		t.Fatalf("default bounds: %+v %v", b, err)
	}
	if b, err := boundsFrom(env("5s")); err != nil || b.connect != 5*time.Second || b.open != 5*time.Second {
		t.Fatalf("5s: %+v %v", b, err)
	}
	if _, err := boundsFrom(env("soon")); err == nil {
		t.Fatal("an invalid bound was accepted")
	}
}
