package sync

import (
	"cmp"
	"os"
	"time"

	"github.com/bisonsync/bisonsync/bison"
)

// Config tunes the engine. The zero value of every field means its documented default;
// defaults live in withDefaults and nowhere else.
type Config struct {
	// Trigger is recorded on the run: "headless", "tui", "demo"... Default "headless".
	Trigger string
	// Host and PID identify this process in runs and leases. Defaults: os.Hostname, os.Getpid.
	Host string
	PID  int

	// Workers is how many workspaces are in progress at once. Pages within a workspace are
	// fetched concurrently as well; the per-instance limits are what bound the requests.
	// Default 32.
	Workers int
	// AccountBudget bounds how many accounts all workers hold in memory at once (a workspace
	// larger than the budget still runs, alone). Default 200,000 (≈100 MB).
	AccountBudget int
	// DefaultMaxInFlight applies to instances whose max_concurrency is null.
	// Default bison.DefaultMaxInFlight.
	DefaultMaxInFlight int

	// Attempts bounds the tries of one workspace that fails transiently. Default 3.
	Attempts int
	// RetryBackoff is the wait before a workspace's second attempt, doubled after.
	// Default 2s.
	RetryBackoff time.Duration
	// Passes bounds the full fetches of a workspace in one attempt when its list drifts while
	// paged (a drifting list needs two identical passes in a row). Default 4.
	Passes int
	// MaxAbsenceChecks bounds the single-account requests made to confirm that accounts really
	// vanished or to settle drift; beyond it the workspace fails as unconfirmed. Default 2,000.
	MaxAbsenceChecks int

	// StallTimeout fails a workspace that makes no progress (no page, no answer) for this
	// long: the watchdog. Default 2m.
	StallTimeout time.Duration
	// LeaseTTL is how long a claim on a workspace lasts without renewal. Default 2m.
	LeaseTTL time.Duration
	// Heartbeat is how often the run proves it is alive and renews its leases. Default 15s.
	Heartbeat time.Duration
	// DeadAfter is how old a heartbeat must be before another host's run counts as
	// abandoned. Default 1m (CONTRACT.md §4.5).
	DeadAfter time.Duration
	// DatabaseOutage is how long a workspace waits for an unreachable database (a restart,
	// a failover, killed connections) before it fails; the waits do not count as attempts.
	// Default 1m.
	DatabaseOutage time.Duration
	// ProgressInterval is how often a run writes its live figures (run counters, each
	// workspace's pages and accounts) for other programs. Default 1s.
	ProgressInterval time.Duration

	// DeletionGuardPercent and DeletionGuardMin: a sync that would mark more than this share
	// of a workspace's live accounts deleted, and at least this many, writes nothing and is
	// held for review (client_registry.deletion_guard_percent overrides the share per
	// workspace). Defaults 20% and 10.
	DeletionGuardPercent float64
	DeletionGuardMin     int
	// OverlapWarnMin is how many of a workspace's accounts must also live under another
	// workspace before it is flagged as possibly using the other's key. Default 5.
	OverlapWarnMin int

	// Client configures the Email Bison client (timeouts, retries).
	Client bison.Options
	// LookupEnv resolves `env:VAR` keys. Default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ProcessAlive tells whether a process of this host still runs. Default: signal 0.
	ProcessAlive func(pid int) bool
}

func (c Config) withDefaults() Config {
	c.Trigger = cmp.Or(c.Trigger, "headless")
	if c.Host == "" {
		host, _ := os.Hostname()
		c.Host = cmp.Or(host, "unknown-host")
	}
	c.PID = cmp.Or(c.PID, os.Getpid())
	for _, d := range []struct {
		field *int
		value int
	}{
		{&c.Workers, 32}, {&c.AccountBudget, 200_000}, {&c.DefaultMaxInFlight, bison.DefaultMaxInFlight},
		{&c.Attempts, 3}, {&c.Passes, 4}, {&c.MaxAbsenceChecks, 2000}, {&c.DeletionGuardMin, 10},
		{&c.OverlapWarnMin, 5},
	} {
		if *d.field <= 0 {
			*d.field = d.value
		}
	}
	for _, d := range []struct {
		field *time.Duration
		value time.Duration
	}{
		{&c.RetryBackoff, 2 * time.Second}, {&c.StallTimeout, 2 * time.Minute}, {&c.LeaseTTL, 2 * time.Minute},
		{&c.Heartbeat, 15 * time.Second}, {&c.DeadAfter, time.Minute}, {&c.DatabaseOutage, time.Minute},
		{&c.ProgressInterval, time.Second},
	} {
		if *d.field <= 0 {
			*d.field = d.value
		}
	}
	if c.DeletionGuardPercent <= 0 {
		c.DeletionGuardPercent = 20
	}
	if c.LookupEnv == nil {
		c.LookupEnv = os.LookupEnv
	}
	if c.ProcessAlive == nil {
		c.ProcessAlive = processAlive
	}
	return c
}
