package db

import (
	"testing"
	"time"
)

// Every tally of up to three workspaces per state, against CONTRACT.md §4.1 written out
// independently of DecideRunStatus.
func TestDecideRunStatusExhaustive(t *testing.T) {
	for s := range 4 {
		for f := range 4 {
			for c := range 4 {
				for k := range 4 {
					for _, interrupted := range []bool{false, true} {
						tally := RunTally{Succeeded: s, Failed: f, Cancelled: c, Skipped: k}
						var want RunStatus
						switch {
						case interrupted:
							want = RunCancelled
						case f == 0 && c == 0: // every workspace succeeded or was skipped (or none)
							want = RunSucceeded
						case s == 0:
							want = RunFailed
						default:
							want = RunPartial
						}
						if got := DecideRunStatus(tally, interrupted); got != want {
							t.Errorf("DecideRunStatus(%+v, interrupted=%v) = %s, want %s", tally, interrupted, got, want)
						}
					}
				}
			}
		}
	}
}

func TestRunTallyAndWorkspaceStatus(t *testing.T) {
	var tally RunTally
	for _, s := range []WorkspaceStatus{WorkspaceSucceeded, WorkspaceFailed, WorkspaceSkipped, WorkspaceCancelled, WorkspaceQueued, WorkspaceRunning} {
		tally.Add(s)
	}
	if want := (RunTally{Succeeded: 1, Failed: 1, Skipped: 1, Cancelled: 3}); tally != want {
		t.Errorf("tally = %+v, want %+v (queued and running count as cancelled)", tally, want)
	}
	for s, want := range map[WorkspaceStatus][2]bool{
		WorkspaceSucceeded: {true, true}, WorkspaceSkipped: {true, true}, WorkspaceFailed: {true, false},
		WorkspaceCancelled: {true, false}, WorkspaceQueued: {false, false}, WorkspaceRunning: {false, false},
	} {
		if s.Final() != want[0] || s.OK() != want[1] {
			t.Errorf("%s: Final %v OK %v, want %v", s, s.Final(), s.OK(), want)
		}
	}
}

func TestJudgeHealth(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	const maxAge = 24 * time.Hour
	for _, tc := range []struct {
		name   string
		w      Workspace
		want   HealthState
		reason string
	}{
		{"never tried", Workspace{}, HealthNever, "never synced"},
		{"never succeeded", Workspace{LastAttemptAt: ago(time.Hour), LastStatus: WorkspaceCancelled}, HealthNever, "never synced successfully"},
		{"never, failing", Workspace{LastAttemptAt: ago(2 * time.Hour), LastStatus: WorkspaceFailed, LastError: "HTTP 401\nbad key", ConsecutiveFailures: 3},
			HealthNever, "never synced successfully; last attempt 2h ago failed (3 failures in a row): HTTP 401 bad key"},
		{"failing once", Workspace{LastSuccessAt: ago(3 * time.Hour), LastAttemptAt: ago(time.Hour), LastStatus: WorkspaceFailed, ConsecutiveFailures: 1},
			HealthFailing, "last attempt 1h ago failed; last success 3h ago"},
		{"failing beats stale", Workspace{LastSuccessAt: ago(30 * time.Hour), LastStatus: WorkspaceFailed},
			HealthFailing, "last attempt failed; last success 30h ago"},
		{"stale", Workspace{LastSuccessAt: ago(maxAge + time.Minute), LastStatus: WorkspaceSucceeded},
			HealthStale, "last successful sync 24h ago, older than 24h"},
		{"exactly max age is fresh", Workspace{LastSuccessAt: ago(maxAge), LastStatus: WorkspaceSucceeded}, HealthOK, ""},
		{"stale beats warning", Workspace{LastSuccessAt: ago(48 * time.Hour), LastWarning: "shared accounts"},
			HealthStale, "last successful sync 2d ago, older than 24h"},
		{"warning", Workspace{LastSuccessAt: ago(time.Hour), LastWarning: "5 of its accounts\nalso appear"},
			HealthWarning, "5 of its accounts also appear"},
		{"ok", Workspace{LastSuccessAt: ago(time.Hour), LastStatus: WorkspaceSucceeded}, HealthOK, ""},
		{"ok after a cancelled attempt", Workspace{LastSuccessAt: ago(time.Hour), LastStatus: WorkspaceCancelled}, HealthOK, ""},
		{"gone beats everything", Workspace{Instance: "main", BisonID: 11, GoneSince: ago(3 * time.Hour), KeyStatus: KeyWrong, LastStatus: WorkspaceFailed},
			HealthGone, "instance main no longer lists workspace id 11 (gone since 2026-11-29 09:00 UTC, 3h ago): remove it from client_registry, or set is_active = false"},
		{"wrong key beats never", Workspace{Name: "A", APIKey: NewSecret("12|abcdefghijklmnop"), KeyStatus: KeyWrong, KeyDetail: "it serves B", KeyCheckedAt: ago(time.Hour)},
			HealthWrongKey, `its API key …mnop serves another workspace's accounts (it serves B), found 1h ago; nothing is synced for it until its key is replaced (bisonsync keys mint --replace --workspace "A")`},
		{"rejected since", Workspace{APIKey: NewSecret("12|abcdefghijklmnop"), LastSuccessAt: ago(50 * time.Hour), LastAttemptAt: ago(time.Hour),
			LastStatus: WorkspaceFailed, LastError: "HTTP 401", ConsecutiveFailures: 3, KeyStatus: KeyRejected, KeyRejectedSince: ago(26 * time.Hour)},
			HealthFailing, "API key …mnop rejected since 2026-11-28 10:00 UTC (26h ago); last attempt 1h ago failed (3 failures in a row); last success 2d ago"},
		{"rejected, then a success", Workspace{LastSuccessAt: ago(time.Hour), LastStatus: WorkspaceSucceeded, KeyStatus: KeyRejected, KeyRejectedSince: ago(26 * time.Hour)},
			HealthOK, ""},
	} {
		got, reason := JudgeHealth(tc.w, maxAge, now)
		if got != tc.want || reason != tc.reason {
			t.Errorf("%s: JudgeHealth = %s %q, want %s %q", tc.name, got, reason, tc.want, tc.reason)
		}
	}
	for s, want := range map[HealthState]bool{HealthNever: true, HealthFailing: true, HealthStale: true, HealthWarning: false, HealthOK: false,
		HealthUnregistered: true, HealthGone: true, HealthWrongKey: true} {
		if s.NeedsAttention() != want {
			t.Errorf("%s.NeedsAttention() = %v", s, !want)
		}
	}
}
