package main

// unitSync are the engine's tests that need neither PostgreSQL nor HTTP (sync/unit_test.go,
// sync/schedule_test.go).
const unitSync = "TestAbsences|TestAnAbsence|TestListing|TestALying|TestEveryWorkspace|TestRunStatusWhen|TestTheWatchdog|TestRunThatCannot|TestQueue|TestSameAccounts|TestWorkspaceGuard"

// targets are the decision functions whose every operator is mutated, with the fast tests
// that guard them. Keep it to pure decisions: mutants of I/O code are killed by the
// end-to-end tests, too slowly to run per mutant.
var targets = []target{
	{pkg: "./db", file: "db/status.go", run: "TestDecideRunStatus|TestRunTally",
		funcs: []string{"DecideRunStatus", "RunTally.Add", "WorkspaceStatus.Final", "WorkspaceStatus.OK"}},
	{pkg: "./db", file: "db/health.go", run: "TestJudgeHealth",
		funcs: []string{"JudgeHealth", "HealthState.NeedsAttention"}},
	{pkg: "./db", file: "db/derive.go", run: "TestDomainOf|TestEmailProvider|TestReseller|TestReplyRate",
		funcs: []string{"domainOf", "emailProvider", "resellerKey", "reseller", "replyRateHundredths"}},
	{pkg: "./db", file: "db/plan.go", run: "TestPlanCommit|TestCommitPlanResult",
		funcs: []string{"planCommit", "checkComplete", "missing", "commitPlan.result"}},
	{pkg: "./db", file: "db/guard.go", run: "TestPlanCommit",
		funcs: []string{"DeletionGuard.trips"}},
	{pkg: "./sync", file: "sync/fetch.go", run: unitSync,
		funcs: []string{"listing.consistent", "sameAccounts"}},
	{pkg: "./sync", file: "sync/schedule.go", run: unitSync,
		funcs: []string{"newQueue", "sizeRank", "satAdd", "queue.next", "queue.done"}},
	{pkg: "./db", file: "db/price.go", run: "TestPrice|TestCountDomains",
		funcs: []string{"CountDomains", "PricingRules.PriceWorkspace", "PricingRules.Price", "PricingRules.firstTag",
			"compiledRule.recognises", "compiledRule.within", "compiledRule.price", "compiledRule.volume"}},
	{pkg: "./sync", file: "sync/discover.go", run: "TestCompareListing|TestRegistryNames",
		funcs: []string{"CompareListing", "RegistryNames"}},
	{pkg: "./sync", file: "sync/keycheck.go", run: "TestJudgeKey|TestShares",
		funcs: []string{"shares", "judgeKey"}},
	{pkg: "./bison", file: "bison/page.go", run: "TestDecode|TestHostilePages|TestPageCheck",
		funcs: []string{"Page.check"}},
	{pkg: "./bison", file: "bison/request.go", run: "Retry|TestErrorClasses",
		funcs: []string{"parseRetryAfter"}},
}
