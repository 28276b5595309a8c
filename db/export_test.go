package db

// Internals the external tests (package db_test) use.

// AccountValues exposes the row a commit writes for one account of a workspace, so a
// benchmark can COPY exactly the same values into a plain table.
func AccountValues(dst []any, workspace string, a *Account) []any {
	return rowValues(dst, &rowHasher{}, workspace, a)
}

// AccountColumns are the per-account columns, in AccountValues' order.
var AccountColumns = accountSQL.names

// DisplayHost exposes displayHost to the tests.
var DisplayHost = displayHost

// CreateCommitTempSQL is the statement that creates the commit's temporary table, whose
// columns are generated from the account column table.
func (s *Store) CreateCommitTempSQL() string { return s.q.commitCreateTemp }
