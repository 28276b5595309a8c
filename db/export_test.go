package db

// Internals the external tests (package db_test) use.

// AccountColumns are the per-account columns, row_hash last.
var AccountColumns = accountSQL.names

// DisplayHost exposes displayHost to the tests.
var DisplayHost = displayHost

// CreateCommitTempSQL is the statement that creates the commit's temporary table, whose
// columns are generated from the account column table.
func (s *Store) CreateCommitTempSQL() string { return s.q.commitCreateTemp }
