package main

import (
	"fmt"
	"os"
	"strings"
)

// criticalMutation is a line an audit broke without any test noticing (issue 15): each must
// now be killed. old must occur exactly once in file.
type criticalMutation struct {
	pkg, file, old, new, run, what string
}

func (c criticalMutation) mutant() (mutant, error) {
	src, err := os.ReadFile(c.file)
	if err != nil {
		return mutant{}, err
	}
	if n := strings.Count(string(src), c.old); n != 1 {
		return mutant{}, fmt.Errorf("critical mutation %q: %q occurs %d times in %s (update scripts/mutate/critical.go)", c.what, c.old, n, c.file)
	}
	return mutant{pkg: c.pkg, file: c.file, offset: strings.Index(string(src), c.old), old: c.old, new: c.new,
		run: c.run, what: c.what, critical: true}, nil
}

var critical = []criticalMutation{
	{pkg: "./sync", file: "sync/fetch.go", what: "every absence treated as gone without asking the source",
		old: "live, gone, err := w.checkAccounts(ctx, absent, checks)", new: "live, gone, err := []db.Account(nil), absent, error(nil)",
		run: unitSync},
	{pkg: "./sync", file: "sync/fetch.go", what: "consistent() true whatever the counts",
		old: "return l.minTotal == l.maxTotal && len(l.accounts) == l.total", new: "return true", run: unitSync},
	{pkg: "./sync", file: "sync/run.go", what: "run status when closing the run fails",
		old: "s.Status = db.DecideRunStatus(s.Tally(), interrupted)", new: "s.Status = db.RunSucceeded", run: unitSync},
	{pkg: "./db", file: "db/status.go", what: "run status when nothing succeeded",
		old: "\t\treturn RunPartial\n\tdefault:\n\t\treturn RunFailed", new: "\t\treturn RunPartial\n\tdefault:\n\t\treturn RunPartial",
		run: "TestDecideRunStatus"},
	{pkg: "./sync", file: "sync/workspace.go", what: "the stall watchdog turned off",
		old: "if idle >= limit {", new: "if false && idle >= limit {", run: unitSync},
	{pkg: "./bison", file: "bison/request.go", what: "Retry-After given as an HTTP date read as 0",
		old: "return d.Truncate(time.Second) + time.Second", new: "return 0", run: "Retry"},
	{pkg: "./bison", file: "bison/admission.go", what: "no instance-wide pause on a 429",
		old: "l.pauseLocked(now, pause)", new: "_ = pause", run: "TestRetryAfterPausesEveryRequestOfTheInstance|TestPausedUntil"},
	{pkg: "./sync", file: "bison/admission.go", what: "no instance-wide pause on a 429, seen by the engine",
		old: "l.pauseLocked(now, pause)", new: "_ = pause", run: "TestRetryAfterHoldsTheInstance"},
	{pkg: "./db", file: "db/guard.go", what: "the deletion guard's boundary (> becomes >=)",
		old: "float64(would)*100 > g.Percent*float64(size)", new: "float64(would)*100 >= g.Percent*float64(size)", run: "TestPlanCommit"},
	{pkg: "./db", file: "db/guard.go", what: "the deletion guard's minimum of 10",
		old: "would >= g.Min", new: "would > g.Min", run: "TestPlanCommit"},
	{pkg: "./sync", file: "sync/workspace.go", what: "the per-workspace deletion_guard_percent ignored",
		old: "g.Percent = *pct", new: "_ = pct", run: unitSync},
	{pkg: "./db", file: "db/lease.go", what: "the staleness re-check without the registry row lock",
		old: "    WHERE r.workspace_name = $1::text\n    FOR SHARE\n", new: "    WHERE r.workspace_name = $1::text\n",
		run: "TestLeaseStaleRecheckWaitsForACommit"},
	{pkg: "./tui", file: "tui/runstate.go", what: "API text in the Run view not sanitised",
		old: "msg := clean(e.Message)", new: "msg := e.Message", run: "TestUntrusted"},
	{pkg: "./sync", file: "db/account.go", what: "daily_limit dropped from the account row",
		old: "func(a *Account) int64 { return a.DailyLimit }", new: "func(a *Account) int64 { return 0 }", run: "TestTransientFaultsEndExact"},
	{pkg: "./db", file: "db/plan.go", what: "an unconfirmed absence deleted anyway",
		old: "if unconfirmed := missing(p.deletions, in.confirmedAbsent); len(unconfirmed) > 0 {", new: "if unconfirmed := missing(p.deletions, in.confirmedAbsent); false && len(unconfirmed) > 0 {", run: "TestPlanCommit"},
}
