package sync

import (
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
	if c.Trigger == "" {
		c.Trigger = "headless"
	}
	if c.Host == "" {
		c.Host, _ = os.Hostname()
		if c.Host == "" {
			c.Host = "unknown-host"
		}
	}
	if c.PID == 0 {
		c.PID = os.Getpid()
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.AccountBudget <= 0 {
		c.AccountBudget = 200_000
	}
	if c.DefaultMaxInFlight <= 0 {
		c.DefaultMaxInFlight = bison.DefaultMaxInFlight
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 2 * time.Second
	}
	if c.Passes <= 0 {
		c.Passes = 4
	}
	if c.MaxAbsenceChecks <= 0 {
		c.MaxAbsenceChecks = 2000
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 2 * time.Minute
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 2 * time.Minute
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.DeadAfter <= 0 {
		c.DeadAfter = time.Minute
	}
	if c.DatabaseOutage <= 0 {
		c.DatabaseOutage = time.Minute
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = time.Second
	}
	if c.DeletionGuardPercent <= 0 {
		c.DeletionGuardPercent = 20
	}
	if c.DeletionGuardMin <= 0 {
		c.DeletionGuardMin = 10
	}
	if c.OverlapWarnMin <= 0 {
		c.OverlapWarnMin = 5
	}
	if c.LookupEnv == nil {
		c.LookupEnv = os.LookupEnv
	}
	if c.ProcessAlive == nil {
		c.ProcessAlive = processAlive
	}
	return c
}
