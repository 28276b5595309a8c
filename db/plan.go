package db

import (
	"slices"
)

// The commit's decision: what a workspace's complete list does to its rows. It is a pure
// function of what batch 1 read and what the engine fetched, so every rule that keeps rows
// safe (CONTRACT.md §4.2: only a complete list writes, only a confirmed absence deletes, the
// mass-deletion guard) is decided, and tested, without a database; the writer only carries
// the plan out.

// storedRow is what the commit reads of one of the workspace's existing rows.
type storedRow struct {
	deleted bool
	// hash is the row's row_hash; hashed is false when it has none (written by another tool,
	// or voided by another tool's update), which makes it differ from any list.
	hash   int64
	hashed bool
}

// planInput is everything the decision looks at.
type planInput struct {
	workspace string
	// ids are the complete list's account ids, in the order of CommitInput.Accounts.
	ids []int64
	// hashes are the row hashes of the listed accounts (rowHash), in the same order; only
	// those of accounts with a stored row are looked at.
	hashes []int64
	// expected is the API's meta.total of the reconciled pass.
	expected int
	// stored are the workspace's rows by account id, deleted ones included.
	stored          map[int64]storedRow
	confirmedAbsent []int64
	guard           *DeletionGuard
}

// commitPlan is what the writer does: every position refers to the list (planInput.ids).
type commitPlan struct {
	// insert are the accounts without a row.
	insert []int
	// update are the accounts whose row is rewritten: changed, or restored.
	update []int
	// restored counts the rows of update that were marked deleted and are live again.
	restored int
	// unchanged counts the accounts whose live row already holds what the list says: they
	// are not written at all.
	unchanged int
	// deletions are the live rows to mark deleted (confirmed absences), ascending.
	deletions []int64
	// firstSync: the workspace has no row at all, so every account is an insert and nothing
	// else can happen.
	firstSync bool
}

// result is what the plan changes, as CommitWorkspace reports it.
func (p commitPlan) result() CommitResult {
	return CommitResult{Upserted: len(p.insert) + len(p.update), Inserted: len(p.insert),
		Unchanged: p.unchanged, Deleted: len(p.deletions), Restored: p.restored}
}

// planCommit decides what the workspace's complete list does to its rows, or refuses it:
// *IncompleteError when the list is not provably complete, *UnconfirmedAbsenceError when a
// live row is missing from the list without its absence confirmed at the source,
// *MassDeletionError when the guard forbids that many deletions. A refusal writes nothing.
func planCommit(in planInput) (commitPlan, error) {
	listed, err := checkComplete(in.workspace, in.ids, in.expected)
	if err != nil {
		return commitPlan{}, err
	}
	p := commitPlan{firstSync: len(in.stored) == 0}
	for i, id := range in.ids {
		row, ok := in.stored[id]
		switch {
		case !ok:
			p.insert = append(p.insert, i)
		case row.deleted:
			p.update = append(p.update, i)
			p.restored++
		case row.hashed && row.hash == in.hashes[i]:
			p.unchanged++
		default:
			p.update = append(p.update, i)
		}
	}
	live := 0
	for id, row := range in.stored {
		if row.deleted {
			continue
		}
		live++
		if _, ok := listed[id]; !ok {
			p.deletions = append(p.deletions, id)
		}
	}
	slices.Sort(p.deletions)
	if unconfirmed := missing(p.deletions, in.confirmedAbsent); len(unconfirmed) > 0 {
		return commitPlan{}, &UnconfirmedAbsenceError{Workspace: in.workspace, IDs: unconfirmed}
	}
	if size := max(live, len(in.ids)); in.guard != nil && in.guard.trips(len(p.deletions), size) {
		return commitPlan{}, &MassDeletionError{Workspace: in.workspace, Would: len(p.deletions),
			Size: size, Guard: *in.guard, IDs: p.deletions}
	}
	return p, nil
}

// checkComplete verifies that the list is complete (its distinct ids, its length and the
// API's total agree) and returns its ids as a set.
func checkComplete(workspace string, ids []int64, expected int) (map[int64]struct{}, error) {
	listed := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		listed[id] = struct{}{}
	}
	if len(listed) != len(ids) || len(ids) != expected {
		return nil, &IncompleteError{Workspace: workspace, Listed: len(ids), Distinct: len(listed), Expected: expected}
	}
	return listed, nil
}

// missing returns the ids of want, in its order, that have is lacks.
func missing(want, have []int64) []int64 {
	if len(want) == 0 {
		return nil
	}
	ok := make(map[int64]struct{}, len(have))
	for _, id := range have {
		ok[id] = struct{}{}
	}
	var out []int64
	for _, id := range want {
		if _, found := ok[id]; !found {
			out = append(out, id)
		}
	}
	return out
}
