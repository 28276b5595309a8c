package sync

import (
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// toRow turns an account as the API gave it into the row the database layer writes. Tags keep
// their names exactly as given (messy); the database derives the clean columns.
func toRow(a bison.Account) db.Account {
	// db.Account still holds int counters; int is 64-bit on every platform we build for.
	// The conversions go once db.Account is int64 (its columns become bigint).
	row := db.Account{
		ID: a.ID, Email: a.Email, Name: a.Name, Status: a.Status, Type: a.Type, DailyLimit: int(a.DailyLimit),
		EmailsSent: int(a.EmailsSentCount), TotalReplied: int(a.TotalRepliedCount), UniqueReplied: int(a.UniqueRepliedCount),
		Bounced: int(a.BouncedCount), Unsubscribed: int(a.UnsubscribedCount), InterestedLeads: int(a.InterestedLeadsCount),
		TotalOpened: int(a.TotalOpenedCount), UniqueOpened: int(a.UniqueOpenedCount), TotalLeadsContacted: int(a.TotalLeadsContactedCount),
		CreatedAt: timePtr(a.CreatedAt.Time), UpdatedAt: timePtr(a.UpdatedAt.Time),
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
