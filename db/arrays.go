package db

// smallCommit is the largest workspace written with unnest(arrays) rather than COPY into a
// temporary table. For a few hundred accounts the temporary table's fixed costs (catalog rows
// created and dropped, its index) are most of the commit: about 3.5 ms of 9 for 433 rows. Past
// a couple of thousand accounts COPY's speed wins.
const smallCommit = 2000

// accountArrays is a list of rows column by column, in accountSQL.columns' order: the form
// unnest() takes.
type accountArrays struct {
	cols      []columnArray
	n         int
	workspace string
	hasher    rowHasher
	row       []any // scratch: one row's values
}

func newAccountArrays(workspace string, capacity int) *accountArrays {
	c := &accountArrays{cols: make([]columnArray, len(accountSQL.columns)), workspace: workspace}
	for i, col := range accountSQL.columns {
		c.cols[i] = col.newArray(capacity)
	}
	return c
}

func (c *accountArrays) add(a *Account) {
	c.row = rowValues(c.row[:0], &c.hasher, c.workspace, a)
	for i, v := range c.row {
		c.cols[i].add(v)
	}
	c.n++
}

// args are the statement's leading parameters (instance, workspace id, workspace name,
// synced at) followed by the arrays, as accountSQL's unnest numbers them.
func (c *accountArrays) args(head ...any) []any {
	for _, col := range c.cols {
		head = append(head, col.arg())
	}
	return head
}
