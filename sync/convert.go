package sync

import (
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// toRow turns an account as the API gave it into the row the database layer writes. Tags keep
// their names exactly as given (messy); the database derives the clean columns.
func toRow(a bison.Account) db.Account {
	row := db.Account{
		ID: a.ID, Email: a.Email, Name: a.Name, Status: a.Status, Type: a.Type, DailyLimit: a.DailyLimit,
		EmailsSent: a.EmailsSentCount, TotalReplied: a.TotalRepliedCount, UniqueReplied: a.UniqueRepliedCount,
		Bounced: a.BouncedCount, Unsubscribed: a.UnsubscribedCount, InterestedLeads: a.InterestedLeadsCount,
		TotalOpened: a.TotalOpenedCount, UniqueOpened: a.UniqueOpenedCount, TotalLeadsContacted: a.TotalLeadsContactedCount,
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
