// Command fleetbench measures bisonsync at scale as an operator's machine sees it: the built
// binary, in its own process, syncs a generated fleet that the simulator serves from this
// process over loopback, into a real PostgreSQL. It is BenchmarkFleetScale (sync/) seen from
// outside, on the same fleet (500 accounts a workspace on average, skewed, the largest 2% of
// the fleet: 200 workspaces at 100,000 accounts, 2,000 at a million, the largest 20,000):
//
//   - the first sync, timed, next to a plain COPY of the same rows into an equivalent empty
//     table (four workers, a workspace per transaction);
//   - under 1% of the accounts changed at the source, then the re-sync, timed, and the rows
//     it wrote by PostgreSQL's own counters (pg_stat_user_tables) next to the changes;
//   - each run's peak RSS, by /usr/bin/time -v (not the rusage of a child of this large
//     process, which can report this process's memory).
//
// Run it from the repository with PostgreSQL reachable through DATABASE_URL:
//
//	export DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
//	go run ./scripts/fleetbench -accounts 100000
//	go run ./scripts/fleetbench -accounts 1000000
//
// It prints a row of the README's table on stdout and its progress on stderr. It works in a
// schema of its own (fleetbench_…), dropped at the end unless -keep.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// config is the command line.
type config struct {
	accounts int    // accounts in the generated fleet
	root     string // a directory inside the module to build
	keep     bool   // keep the schema
}

func main() {
	var cfg config
	flag.IntVar(&cfg.accounts, "accounts", 100_000, "`N` accounts in the generated fleet (N/500 workspaces)")
	flag.StringVar(&cfg.root, "root", ".", "`DIR` inside the bisonsync module whose binary is measured")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the schema at the end (its name is printed)")
	flag.Parse()
	if cfg.accounts < 500 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: fleetbench [-accounts N (at least 500)] [-root DIR] [-keep]")
		os.Exit(2)
	}
	// GOGC and GOMEMLIMIT in the environment are for the binary measured, which inherits them;
	// the simulator here keeps the runtime's defaults, so that comparing settings compares
	// the binary alone.
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		stop()
		os.Exit(1)
	}
}

// run builds the binary, sets up the fleet and its schema, measures, prints the figures,
// and cleans up.
func run(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := build(ctx, cfg.root, tmp)
	if err != nil {
		return err
	}
	b, err := newBench(ctx, cfg.accounts, bin, tmp)
	if err != nil {
		return err
	}
	defer b.close(cfg.keep)
	f, err := b.measure(ctx)
	if err != nil {
		return err
	}
	f.print(os.Stdout)
	return f.changes.Check(f.written, f.changed)
}
