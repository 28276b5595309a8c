package db

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Table names, unqualified. Queries name them through placeholders such as {raw}, replaced at
// Open by the quoted, schema-qualified name: search_path cannot be relied on (a
// transaction-mode pooler refuses it as a startup parameter and forgets it between
// transactions), so every statement says where its tables are.
const (
	tableInstances    = "bison_instances"
	tableRegistry     = "client_registry"
	tableRaw          = "email_accounts_raw"
	tableRuns         = "sync_runs"
	tableRunWorkspace = "sync_run_workspaces"
	tableLeases       = "workspace_leases"
	tableKeyLeases    = "key_leases"
	tableHeld         = "held_deletions"
	tableConfirmed    = "workspace_confirmations"

	// The agency's dashboard (issue 13): price rules, installed dashboard schemas, and runs
	// asked for by other programs.
	tablePricingRules = "pricing_rules"
	tableDashboards   = "dashboard_installs"
	tableRequests     = "sync_requests"
	tableDiscovered   = "discovered_workspaces"

	// goose's bookkeeping lives in the schema too, under names that cannot collide with
	// another goose-managed application sharing the schema (public, typically).
	tableGooseVersion = "bisonsync_goose_version"
	tableGooseLock    = "bisonsync_goose_lock"
)

// ValidSchemaName reports whether name can hold bisonsync's tables: lowercase ASCII letters,
// digits and underscores, starting with a letter or underscore, at most 63 bytes, not a
// reserved SQL keyword and not reserved by PostgreSQL (pg_*, information_schema).
//
// Mixed case and other characters would work in bisonsync's own (quoted) queries, but goose
// names its version and lock tables as schema.table without quoting and looks them up in
// pg_tables by that spelling, so only names that read the same quoted and unquoted are safe.
func ValidSchemaName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("invalid schema name: empty")
	case len(name) > 63:
		return fmt.Errorf("invalid schema name %q: longer than 63 bytes", name)
	case strings.HasPrefix(name, "pg_") || name == "information_schema":
		return fmt.Errorf("invalid schema name %q: reserved by PostgreSQL", name)
	case reservedKeywords[name]:
		return fmt.Errorf("invalid schema name %q: a reserved SQL keyword", name)
	}
	for i, r := range name {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("invalid schema name %q: use lowercase letters, digits and underscores, starting with a letter or underscore", name)
		}
	}
	return nil
}

// reservedKeywords are PostgreSQL 15's reserved and type/function-name keywords
// (pg_get_keywords() catcode R and T): words that cannot be an unquoted schema name.
var reservedKeywords = func() map[string]bool {
	words := strings.Fields(`all analyse analyze and any array as asc asymmetric authorization
		binary both case cast check collate collation column concurrently constraint create cross
		current_catalog current_date current_role current_schema current_time current_timestamp
		current_user default deferrable desc distinct do else end except false fetch for foreign
		freeze from full grant group having ilike in initially inner intersect into is isnull join
		lateral leading left like limit localtime localtimestamp natural not notnull null offset on
		only or order outer overlaps placing primary references returning right select
		session_user similar some symmetric table tablesample then to trailing true union unique
		user using variadic verbose when where window with`)
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}()

// qualify returns the quoted, schema-qualified name of table.
func qualify(schema, table string) string {
	return pgx.Identifier{schema, table}.Sanitize()
}

// queries holds every statement with its table names resolved, built once at Open.
type queries struct {
	// registry
	upsertInstance, upsertWorkspace, workspaces, unknownWorkspaces, savePace string
	// leases
	claimLease, leaseHolder, renewLease, releaseLease, claimKeyLease, keyLeaseHolder, releaseKeyLease string
	// runs
	openRun, openRunWorkspaces, heartbeat, runningRuns, abandonRun, abandonLeases,
	abandonWorkspaces, orphanLeases, startWorkspace, finishRegistry, finishLease,
	finishRunWorkspace, closeRunLock, closeRunLeases, closeRunWorkspaces, closeRunTally, closeRun string
	// commit
	commitRegistry, commitLease, commitExisting, commitCreateTemp, commitIndexTemp,
	commitMarkDeleted, commitUpdate, commitInsert, commitUpdateRegistry, commitRunWorkspace,
	commitDeleteLease, liveAccountIDs, commitUpdateArrays, commitInsertArrays, commitConfirm string
	// guards
	clearHeld, hold, held, overlaps, analyzeRaw, setWarningRegistry, setWarningRun, schemaLockWaits string
	// history and health
	runs, run, runWorkspaces, workspaceRuns, runCounts, health string
	// raw table for COPY
	rawIdent pgx.Identifier
	// prices, the dashboard's read layer, progress and requests (their own files)
	dash dashboardQueries
	// discovery and key health (discovery.go, keyhealth.go)
	disc discoveryQueries
}

func buildQueries(schema string) queries {
	r := strings.NewReplacer(
		"{instances}", qualify(schema, tableInstances),
		"{registry}", qualify(schema, tableRegistry),
		"{raw}", qualify(schema, tableRaw),
		"{runs}", qualify(schema, tableRuns),
		"{run_ws}", qualify(schema, tableRunWorkspace),
		"{leases}", qualify(schema, tableLeases),
		"{key_leases}", qualify(schema, tableKeyLeases),
		"{held}", qualify(schema, tableHeld),
		"{confirmations}", qualify(schema, tableConfirmed),
		"{discovered}", qualify(schema, tableDiscovered),
		"{temp}", qualify("pg_temp", commitTempTable),
		"{pricing_rules}", qualify(schema, tablePricingRules),
		"{dashboards}", qualify(schema, tableDashboards),
		"{requests}", qualify(schema, tableRequests),
	)
	return queries{
		upsertInstance:    r.Replace(upsertInstanceSQL),
		upsertWorkspace:   r.Replace(upsertWorkspaceSQL),
		workspaces:        r.Replace(workspacesSQL),
		unknownWorkspaces: r.Replace(unknownWorkspacesSQL),
		savePace:          r.Replace(savePaceSQL),

		claimLease:   r.Replace(claimLeaseSQL),
		leaseHolder:  r.Replace(leaseHolderSQL),
		renewLease:   r.Replace(renewLeaseSQL),
		releaseLease: r.Replace(releaseLeaseSQL),

		clearHeld:          r.Replace(clearHeldSQL),
		hold:               r.Replace(holdSQL),
		held:               r.Replace(heldSQL),
		overlaps:           r.Replace(overlapsSQL),
		analyzeRaw:         r.Replace(analyzeRawSQL),
		setWarningRegistry: r.Replace(setWarningRegistrySQL),
		setWarningRun:      r.Replace(setWarningRunSQL),
		schemaLockWaits:    schemaLockWaitsSQL,

		claimKeyLease:   r.Replace(claimKeyLeaseSQL),
		keyLeaseHolder:  r.Replace(keyLeaseHolderSQL),
		releaseKeyLease: r.Replace(releaseKeyLeaseSQL),

		openRun:            r.Replace(openRunSQL),
		openRunWorkspaces:  r.Replace(openRunWorkspacesSQL),
		heartbeat:          r.Replace(heartbeatSQL),
		runningRuns:        r.Replace(runningRunsSQL),
		abandonRun:         r.Replace(abandonRunSQL),
		abandonLeases:      r.Replace(abandonLeasesSQL),
		abandonWorkspaces:  r.Replace(abandonWorkspacesSQL),
		orphanLeases:       r.Replace(orphanLeasesSQL),
		startWorkspace:     r.Replace(startWorkspaceSQL),
		finishRegistry:     r.Replace(finishRegistrySQL),
		finishLease:        r.Replace(finishLeaseSQL),
		finishRunWorkspace: r.Replace(finishRunWorkspaceSQL),
		closeRunLock:       r.Replace(closeRunLockSQL),
		closeRunLeases:     r.Replace(closeRunLeasesSQL),
		closeRunWorkspaces: r.Replace(closeRunWorkspacesSQL),
		closeRunTally:      r.Replace(closeRunTallySQL),
		closeRun:           r.Replace(closeRunSQL),

		commitRegistry:       r.Replace(commitRegistrySQL),
		commitLease:          r.Replace(commitLeaseSQL),
		commitExisting:       r.Replace(commitExistingSQL),
		commitCreateTemp:     r.Replace(accountSQL.createTemp),
		commitIndexTemp:      r.Replace(commitIndexTempSQL),
		commitMarkDeleted:    r.Replace(commitMarkDeletedSQL),
		commitUpdate:         r.Replace(accountSQL.update),
		commitInsert:         r.Replace(accountSQL.insert),
		commitUpdateRegistry: r.Replace(commitUpdateRegistrySQL),
		commitRunWorkspace:   r.Replace(commitRunWorkspaceSQL),
		commitDeleteLease:    r.Replace(commitDeleteLeaseSQL),
		commitConfirm:        r.Replace(commitConfirmSQL),
		commitUpdateArrays:   r.Replace(accountSQL.updateArrays),
		commitInsertArrays:   r.Replace(accountSQL.insertArrays),
		liveAccountIDs:       r.Replace(liveAccountIDsSQL),

		runs:          r.Replace(runsSQL),
		runCounts:     r.Replace(runCountsSQL),
		run:           r.Replace(runSQL),
		runWorkspaces: r.Replace(runWorkspacesSQL),
		workspaceRuns: r.Replace(workspaceRunsSQL),
		health:        r.Replace(healthSQL),

		rawIdent: pgx.Identifier{schema, tableRaw},
		dash:     buildDashboardQueries(r),
		disc:     buildDiscoveryQueries(r),
	}
}
