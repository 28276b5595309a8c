package db

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Account is one sender account as the API reported it, ready to be stored.
type Account struct {
	ID     int64
	Email  string
	Name   string
	Status string
	Type   string
	// The counters and the daily limit are int64: a counter past 2^31 is a number, not a
	// reason to fail the workspace (issue 11).
	DailyLimit          int64
	EmailsSent          int64
	TotalReplied        int64
	UniqueReplied       int64
	Bounced             int64
	Unsubscribed        int64
	InterestedLeads     int64
	TotalOpened         int64
	UniqueOpened        int64
	TotalLeadsContacted int64
	// Tags are the tag names exactly as the API gave them.
	Tags      []string
	CreatedAt *time.Time
	UpdatedAt *time.Time
	// Pricing is what the workspace's pricing rules make of the account. The commit sets it,
	// from the complete list (CommitWorkspace): never set it elsewhere.
	Pricing Pricing
}

// accountTable is the one list of email_accounts_raw's per-account columns: every statement
// and COPY that writes an account is generated from it (accountSQL, built once at init), and
// so is the row's hash (rowHash). Adding a column is one entry here and a migration that
// adds it to the table.
//
// The workspace's identity (bison_instance, workspace_id, workspace_name) and the row's
// timestamps (first_seen_at, last_synced_at, deleted_at) are not per-account values: the
// commit writes them from its own parameters. row_hash follows the account's values.
var accountTable = []accountColumn{
	column("bison_account_id", "bigint", notNull, func(a *Account) int64 { return a.ID }),
	column("email_address", "text", notNull, func(a *Account) string { return a.Email }),
	column("account_name", "text", nullable, func(a *Account) string { return a.Name }),
	column("status", "text", nullable, func(a *Account) string { return a.Status }),
	column("account_type", "text", nullable, func(a *Account) string { return a.Type }),
	column("daily_limit", "bigint", notNull, func(a *Account) int64 { return a.DailyLimit }),
	column("emails_sent_count", "bigint", notNull, func(a *Account) int64 { return a.EmailsSent }),
	column("total_replied_count", "bigint", notNull, func(a *Account) int64 { return a.TotalReplied }),
	column("unique_replied_count", "bigint", notNull, func(a *Account) int64 { return a.UniqueReplied }),
	column("bounced_count", "bigint", notNull, func(a *Account) int64 { return a.Bounced }),
	column("unsubscribed_count", "bigint", notNull, func(a *Account) int64 { return a.Unsubscribed }),
	column("interested_leads_count", "bigint", notNull, func(a *Account) int64 { return a.InterestedLeads }),
	column("total_opened_count", "bigint", notNull, func(a *Account) int64 { return a.TotalOpened }),
	column("unique_opened_count", "bigint", notNull, func(a *Account) int64 { return a.UniqueOpened }),
	column("total_leads_contacted_count", "bigint", notNull, func(a *Account) int64 { return a.TotalLeadsContacted }),
	tagsColumn("tags"),
	derived("domain", "text", nullable, func(a *Account) *string { return optional(domainOf(a.Email)) }),
	derived("email_provider", "text", nullable, func(a *Account) string { return emailProvider(a.Tags, a.Type) }),
	derived("reseller", "text", nullable, func(a *Account) *string { return optional(reseller(a.Tags)) }),
	derived("reply_rate_percentage", "numeric(7, 2)", notNull, func(a *Account) pgtype.Numeric {
		return numericHundredths(replyRateHundredths(a.UniqueReplied, a.EmailsSent))
	}),
	column("bison_created_at", "timestamptz", nullable, func(a *Account) *time.Time { return a.CreatedAt }),
	column("bison_updated_at", "timestamptz", nullable, func(a *Account) *time.Time { return a.UpdatedAt }),
	// The dashboard's prices and capacity (price.go), and the tags they were read from.
	derived("price", "numeric(10, 2)", nullable, func(a *Account) pgtype.Numeric { return a.Pricing.PriceNumeric() }),
	derived("price_source", "text", nullable, func(a *Account) *string { return optional(a.Pricing.Source) }),
	derived("pricing_needs_review", "boolean", notNull, func(a *Account) bool { return a.Pricing.NeedsReview }),
	derived("volume_per_account", "integer", notNull, func(a *Account) int32 { return int32(a.Pricing.Volume) }),
	derived("provider_tag", "text", nullable, func(a *Account) *string { return optional(a.Pricing.ProviderTag) }),
	derived("reseller_tag", "text", nullable, func(a *Account) *string { return optional(a.Pricing.ResellerTag) }),
}

// accountColumn is one per-account column: its name and type in email_accounts_raw, and how
// its value comes from an Account.
type accountColumn struct {
	name    string
	sqlType string
	notNull bool
	// derived columns are computed by bisonsync (derive.go) rather than given by the API.
	derived bool
	// value is what COPY writes for the account; nil pointers are NULL.
	value func(a *Account) any
	// The array path (arrays.go) sends each column as one array parameter: newArray collects
	// the values, arrayType is the parameter's element type and fromArray the SQL that turns
	// an element of the unnest alias t back into the column's value.
	newArray  func(capacity int) columnArray
	arrayType string
	fromArray string
}

const (
	notNull  = true
	nullable = false
)

// column declares a column given by the API; T is the Go type pgx encodes it from.
func column[T any](name, sqlType string, notNull bool, get func(*Account) T) accountColumn {
	return accountColumn{
		name: name, sqlType: sqlType, notNull: notNull,
		value:     func(a *Account) any { return get(a) },
		newArray:  func(n int) columnArray { return &typedArray[T]{vals: make([]T, 0, n)} },
		arrayType: sqlType,
		fromArray: "t." + name,
	}
}

// derived declares a column computed from the account's other values.
func derived[T any](name, sqlType string, notNull bool, get func(*Account) T) accountColumn {
	c := column(name, sqlType, notNull, get)
	c.derived = true
	return c
}

// tagsColumn declares the tags (text[], never null: no tags is an empty array). unnest cannot
// take a ragged text[][], so the array path sends each row's tags as a JSON array.
func tagsColumn(name string) accountColumn {
	c := column(name, "text[]", notNull, func(a *Account) []string {
		if a.Tags == nil {
			return []string{}
		}
		return a.Tags
	})
	c.newArray = func(n int) columnArray { return &jsonArray{vals: make([]string, 0, n)} }
	c.arrayType = "text"
	c.fromArray = fmt.Sprintf("ARRAY(SELECT jsonb_array_elements_text(t.%s::jsonb))", name)
	return c
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// accountValues appends a's values, in accountTable's order, to dst.
func accountValues(dst []any, a *Account) []any {
	for i := range accountTable {
		dst = append(dst, accountTable[i].value(a))
	}
	return dst
}

// rowValues appends what the commit writes for a's row: its values, in accountTable's order,
// then its hash (the last of accountSQL.names).
func rowValues(dst []any, h *rowHasher, workspace string, a *Account) []any {
	n := len(dst)
	dst = accountValues(dst, a)
	return append(dst, h.sum(workspace, dst[n:]))
}

// The row hash: what lets a re-sync write only the accounts that changed. It is computed in
// Go from exactly the values a commit would write (workspace_name included, derived columns
// included, so a renamed workspace or a changed derivation rule rewrites the rows), stored in
// row_hash, and compared, in planCommit, with the hash of the values just fetched. A row
// written by anything else has no hash (a trigger voids it on any other update, migration 7)
// and is rewritten by the next sync.
//
// Two CRC-32s (Castagnoli and IEEE, both computed by the CPU's own instructions) over a fixed
// encoding, side by side in 64 bits: stable across processes and releases (which Go's maphash
// is not), and fast: 40 and 75 ns for a 200-byte row, where FNV-1a, a byte at a time, took
// 500 to 700 ns and was a seventh of a million-account benchmark's CPU. The hash only needs to notice that values
// changed, not to resist forgery: two different rows agree with probability 2^-64. The column
// names and types seed it, so adding, removing or redefining a column changes every hash, and
// every row is rewritten once by its next sync with the change filled in.
type rowHasher struct {
	buf []byte
}

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	ieee       = crc32.MakeTable(crc32.IEEE)
)

// seedC and seedI are the two CRCs' state after the column names and types, where every
// row's CRCs start.
var seedC, seedI = func() (uint32, uint32) {
	var b []byte
	for _, c := range accountTable {
		b = appendHashString(b, c.name+" "+c.sqlType)
	}
	return crc32.Update(0, castagnoli, b), crc32.Update(0, ieee, b)
}()

// sum hashes a row's values (in accountTable's order) and its workspace name.
func (h *rowHasher) sum(workspace string, values []any) int64 {
	b := appendHashString(h.buf[:0], workspace)
	for i, v := range values {
		b = appendHashValue(b, accountTable[i].name, v)
	}
	h.buf = b
	return int64(uint64(crc32.Update(seedC, castagnoli, b))<<32 | uint64(crc32.Update(seedI, ieee, b)))
}

// appendHashValue encodes one value unambiguously: fixed-size numbers, length-prefixed
// strings, a marker for NULL.
func appendHashValue(b []byte, column string, v any) []byte {
	switch v := v.(type) {
	case int64:
		return binary.LittleEndian.AppendUint64(b, uint64(v))
	case int32:
		return binary.LittleEndian.AppendUint32(b, uint32(v))
	case bool:
		if v {
			return append(b, 1)
		}
		return append(b, 0)
	case string:
		return appendHashString(b, v)
	case *string:
		if v == nil {
			return append(b, 0)
		}
		return appendHashString(append(b, 1), *v)
	case []string:
		b = binary.AppendUvarint(b, uint64(len(v)))
		for _, s := range v {
			b = appendHashString(b, s)
		}
		return b
	case pgtype.Numeric:
		b = binary.AppendVarint(b, int64(v.Exp))
		if v.Int.IsInt64() { // always, for reply rates; big.Int.String allocates
			return binary.AppendVarint(append(b, 0), v.Int.Int64())
		}
		return appendHashString(append(b, 1), v.Int.String())
	case *time.Time:
		if v == nil {
			return append(b, 0)
		}
		return binary.LittleEndian.AppendUint64(append(b, 1), uint64(v.UnixMicro()))
	default:
		// A column of a type the hash cannot encode: a programming error that every commit
		// test would hit at once.
		panic(fmt.Sprintf("db: row hash: column %s has values of type %T", column, v))
	}
}

func appendHashString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// columnArray collects one column's values for the array path.
type columnArray interface {
	add(v any)
	arg() any
}

type typedArray[T any] struct{ vals []T }

func (c *typedArray[T]) add(v any) { c.vals = append(c.vals, v.(T)) }
func (c *typedArray[T]) arg() any  { return c.vals }

type jsonArray struct{ vals []string }

func (c *jsonArray) add(v any) {
	b, _ := json.Marshal(v) // a []string always marshals
	c.vals = append(c.vals, string(b))
}
func (c *jsonArray) arg() any { return c.vals }

// accountSQL is every piece of SQL that names the per-account columns, generated from
// accountTable once.
var accountSQL = buildAccountSQL(accountTable)

// The statements' leading parameters, before the array path's arrays.
const (
	paramInstance      = "$1::text"
	paramWorkspaceID   = "$2::integer"
	paramWorkspaceName = "$3::text"
	paramSyncedAt      = "$4::timestamptz"
	firstArrayParam    = 5
)

type accountStatements struct {
	// columns are every column written per account: accountTable's, then row_hash.
	columns []accountColumn
	// names are the columns in rowValues' order: the account's, then row_hash.
	names []string
	// tempColumns are what the COPY into the temporary table writes: whether the account
	// already has a row, then its values.
	tempColumns []string
	// directColumns are what a COPY straight into email_accounts_raw writes: the workspace's
	// identity, the account's values and the two timestamps.
	directColumns []string
	// createTemp creates the temporary table the COPY path writes into.
	createTemp string
	// update and insert write from the temporary table; updateArrays and insertArrays from
	// unnest of the arrays.
	update, insert, updateArrays, insertArrays string
}

// hashColumn is row_hash: written with every account, computed from its values.
var hashColumn = accountColumn{
	name: "row_hash", sqlType: "bigint", notNull: false,
	newArray:  func(n int) columnArray { return &typedArray[int64]{vals: make([]int64, 0, n)} },
	arrayType: "bigint",
	fromArray: "t.row_hash",
}

func buildAccountSQL(accountCols []accountColumn) accountStatements {
	cols := append(accountCols[:len(accountCols):len(accountCols)], hashColumn)
	s := accountStatements{columns: cols}
	for _, c := range cols {
		s.names = append(s.names, c.name)
	}
	s.tempColumns = append([]string{"existing"}, s.names...)
	s.directColumns = append(append([]string{"bison_instance", "workspace_id", "workspace_name"},
		s.names...), "first_seen_at", "last_synced_at")
	s.createTemp = createTempSQL(cols)

	fromTemp := func(c accountColumn) string { return "t." + c.name }
	fromArrays := func(c accountColumn) string { return c.fromArray }
	unnest := unnestSQL(cols)
	// Accounts that already have a row (most of them, every sync after the first): a plain
	// UPDATE joined to the rows, about twice as fast as INSERT … ON CONFLICT DO UPDATE, which
	// probes the index and locks each row one by one. first_seen_at is left alone.
	s.update = "UPDATE {raw} r SET " + setSQL(cols, fromTemp) + `
FROM {temp} t
WHERE t.existing
  AND r.bison_instance = ` + paramInstance + ` AND r.workspace_id = ` + paramWorkspaceID + `
  AND r.bison_account_id = t.bison_account_id`
	s.updateArrays = "UPDATE {raw} r SET " + setSQL(cols, fromArrays) + `
FROM ` + unnest + `
WHERE r.bison_instance = ` + paramInstance + ` AND r.workspace_id = ` + paramWorkspaceID + `
  AND r.bison_account_id = t.bison_account_id`
	s.insert = insertSQL(cols, fromTemp, "{temp} t\nWHERE NOT t.existing")
	s.insertArrays = insertSQL(cols, fromArrays, unnest)
	return s
}

// createTempSQL is the temporary table of the COPY path; it lives in pg_temp and is dropped
// at commit. existing says, from batch 1, whether the account already has a row.
func createTempSQL(cols []accountColumn) string {
	var b strings.Builder
	b.WriteString("CREATE TEMP TABLE {temp} (\n    existing boolean NOT NULL")
	for _, c := range cols {
		fmt.Fprintf(&b, ",\n    %s %s", c.name, c.sqlType)
		if c.notNull {
			b.WriteString(" NOT NULL")
		}
	}
	b.WriteString("\n) ON COMMIT DROP")
	return b.String()
}

// setSQL is the SET list that rewrites an account's row from a source aliased t; expr gives
// each column's value. first_seen_at is left alone; deleted_at is cleared (an account seen
// again is restored).
func setSQL(cols []accountColumn, expr func(accountColumn) string) string {
	sets := []string{"workspace_name = " + paramWorkspaceName}
	for _, c := range cols[1:] { // not the key
		sets = append(sets, c.name+" = "+expr(c))
	}
	sets = append(sets, "last_synced_at = "+paramSyncedAt, "deleted_at = NULL")
	return "\n    " + strings.Join(sets, ",\n    ")
}

// insertSQL inserts new accounts from a source aliased t (from: the FROM clause and any
// WHERE). ON CONFLICT only guards against a row written meanwhile by another tool (the commit
// holds the workspace's registry row, so not by bisonsync); such a row is rewritten as an
// update would.
func insertSQL(cols []accountColumn, expr func(accountColumn) string, from string) string {
	names := []string{"bison_instance", "workspace_id", "workspace_name"}
	values := []string{paramInstance, paramWorkspaceID, paramWorkspaceName}
	conflict := []string{"workspace_name = EXCLUDED.workspace_name"}
	for _, c := range cols {
		names = append(names, c.name)
		values = append(values, expr(c))
		if c.name != cols[0].name {
			conflict = append(conflict, c.name+" = EXCLUDED."+c.name)
		}
	}
	names = append(names, "first_seen_at", "last_synced_at", "deleted_at")
	values = append(values, paramSyncedAt, paramSyncedAt, "NULL")
	conflict = append(conflict, "last_synced_at = EXCLUDED.last_synced_at", "deleted_at = NULL")
	return "INSERT INTO {raw} AS r (" + strings.Join(names, ", ") + ")\nSELECT " +
		strings.Join(values, ", ") + "\nFROM " + from + `
ON CONFLICT (bison_instance, workspace_id, bison_account_id) DO UPDATE SET
    ` + strings.Join(conflict, ",\n    ")
}

// unnestSQL turns the array parameters back into rows aliased t, with the columns' names.
func unnestSQL(cols []accountColumn) string {
	params := make([]string, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		params[i] = fmt.Sprintf("$%d::%s[]", firstArrayParam+i, c.arrayType)
		names[i] = c.name
	}
	return "unnest(" + strings.Join(params, ", ") + ")\n  AS t(" + strings.Join(names, ", ") + ")"
}
