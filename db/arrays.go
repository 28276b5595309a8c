package db

// smallCommit is the largest workspace written with unnest(arrays) rather than COPY into a
// temporary table. For a few hundred accounts the temporary table's fixed costs (catalog rows
// created and dropped, its index) are most of the commit: about 3.5 ms of 9 for 433 rows. Past
// a couple of thousand accounts COPY's speed wins.
const smallCommit = 2000

// accountArrays is a list of accounts column by column, in accountTable's order: the form
// unnest() takes.
type accountArrays struct {
	cols []columnArray
	n    int
	row  []any // scratch: one account's values
}

func newAccountArrays(capacity int) *accountArrays {
	c := &accountArrays{cols: make([]columnArray, len(accountTable))}
	for i := range accountTable {
		c.cols[i] = accountTable[i].newArray(capacity)
	}
	return c
}

func (c *accountArrays) add(a *Account) {
	c.row = accountValues(c.row[:0], a)
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
