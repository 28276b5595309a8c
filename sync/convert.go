package sync

import (
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// toRow turns an account as the API gave it into the row the database layer writes. Tags keep
// their names exactly as given (messy); the database derives the clean columns.
func toRow(a bison.Account) db.Account {
	// The counters are int64 in the database whatever width the client decodes them to.
	row := db.Account{
		ID: a.ID, Email: a.Email, Name: a.Name, Status: a.Status, Type: a.Type, DailyLimit: int64(a.DailyLimit),
		EmailsSent: int64(a.EmailsSentCount), TotalReplied: int64(a.TotalRepliedCount),
		UniqueReplied: int64(a.UniqueRepliedCount), Bounced: int64(a.BouncedCount),
		Unsubscribed: int64(a.UnsubscribedCount), InterestedLeads: int64(a.InterestedLeadsCount),
		TotalOpened: int64(a.TotalOpenedCount), UniqueOpened: int64(a.UniqueOpenedCount),
		TotalLeadsContacted: int64(a.TotalLeadsContactedCount),
		CreatedAt:           timePtr(a.CreatedAt.Time), UpdatedAt: timePtr(a.UpdatedAt.Time),
	}
	if len(a.Tags) > 0 {
		row.Tags = make([]string, len(a.Tags))
		for i, t := range a.Tags {
			row.Tags[i] = t.Name
		}
	}
	return row
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
