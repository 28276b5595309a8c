package db_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// The account column table and the migrations must agree: every per-account column the
// commit writes exists in email_accounts_raw with the type and nullability the table
// declares. The commit's temporary table is generated from the column table, so its columns
// are compared with the real table's.
func TestAccountTableMatchesSchema(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	const columnsSQL = `
SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'existing'
ORDER BY a.attnum`
	type col struct {
		Type    string
		NotNull bool
	}
	read := func(tx pgx.Tx, table string) map[string]col {
		rows, err := tx.Query(ctx, columnsSQL, table)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]col{}
		var (
			name string
			c    col
		)
		if _, err := pgx.ForEachRow(rows, []any{&name, &c.Type, &c.NotNull}, func() error {
			out[name] = c
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.CreateCommitTempSQL()); err != nil {
			return err
		}
		temp := read(tx, "pg_temp.bisonsync_commit_accounts")
		raw := read(tx, pgx.Identifier{s.Schema(), "email_accounts_raw"}.Sanitize())
		if len(temp) != len(db.AccountColumns) {
			t.Errorf("temporary table has %d account columns, the column table %d", len(temp), len(db.AccountColumns))
		}
		for _, name := range db.AccountColumns {
			got, ok := raw[name]
			switch {
			case !ok:
				t.Errorf("column %s is in the column table but not in email_accounts_raw", name)
			case got != temp[name]:
				t.Errorf("column %s: email_accounts_raw has %+v, the column table declares %+v", name, got, temp[name])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
