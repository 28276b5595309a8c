package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seedWorkspace registers an instance (if needed) and a workspace.
func seedWorkspace(t testing.TB, s *db.Store, instance, name string, bisonID int) {
	t.Helper()
	ctx := testContext(t)
	if err := s.UpsertInstance(ctx, db.Instance{Name: instance, BaseURL: "https://" + instance + ".example.com/api"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertWorkspace(ctx, db.Workspace{Name: name, Instance: instance, BisonID: bisonID, IsActive: true}); err != nil {
		t.Fatal(err)
	}
}

// makeAccounts returns n accounts with ids first, first+1, …
func makeAccounts(n int, first int64, sent int64) []db.Account {
	created := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	out := make([]db.Account, n)
	for i := range out {
		id := first + int64(i)
		out[i] = db.Account{
			ID:            id,
			Email:         fmt.Sprintf("sender%d@Domain%d.example.COM", id, id%7),
			Name:          fmt.Sprintf("Sender %d", id),
			Status:        "Connected",
			Type:          []string{"google_workspace_oauth", "microsoft_oauth", "smtp"}[id%3],
			DailyLimit:    30,
			EmailsSent:    sent,
			TotalReplied:  id % 5,
			UniqueReplied: id % 4,
			Bounced:       id % 2,
			TotalOpened:   id % 11,
			Tags:          [][]string{{"CheapInboxes - 2"}, {" google "}, nil, {"Zapmail", "Outlook"}}[id%4],
			CreatedAt:     &created,
			UpdatedAt:     &created,
		}
	}
	return out
}

func ids(accounts []db.Account) []int64 {
	out := make([]int64, len(accounts))
	for i, a := range accounts {
		out[i] = a.ID
	}
	return out
}

// dump returns every row of table, as JSON text, in a stable order: what "exactly as before"
// is compared with.
func dump(t testing.TB, s *db.Store, table, orderBy string) []string {
	t.Helper()
	q := fmt.Sprintf("SELECT row_to_json(x)::text FROM %s x ORDER BY %s",
		pgx.Identifier{s.Schema(), table}.Sanitize(), orderBy)
	rows, err := s.Pool().Query(testContext(t), q)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dumpRaw(t testing.TB, s *db.Store) []string {
	return dump(t, s, "email_accounts_raw", "bison_instance, workspace_id, bison_account_id")
}

func dumpRegistry(t testing.TB, s *db.Store) []string {
	return dump(t, s, "client_registry", "workspace_name")
}

// exec runs SQL with {schema} replaced by the quoted schema.
func exec(t testing.TB, s *db.Store, sql string, args ...any) {
	t.Helper()
	sql = strings.ReplaceAll(sql, "{schema}", pgx.Identifier{s.Schema()}.Sanitize())
	if _, err := s.Pool().Exec(testContext(t), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// queryInt runs a query returning one integer, with {schema} replaced.
func queryInt(t testing.TB, s *db.Store, sql string, args ...any) int {
	t.Helper()
	sql = strings.ReplaceAll(sql, "{schema}", pgx.Identifier{s.Schema()}.Sanitize())
	var n int
	if err := s.Pool().QueryRow(testContext(t), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
