package bison

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Account is one sender email account as the API describes it. Unknown fields are ignored and
// missing counters decode as 0. Counters are 64-bit: a busy account's counts pass 2^31.
type Account struct {
	ID                       int64  `json:"id"`
	Email                    string `json:"email"`
	Name                     string `json:"name"`
	Status                   string `json:"status"`
	Type                     string `json:"type"`
	DailyLimit               int64  `json:"daily_limit"`
	EmailsSentCount          int64  `json:"emails_sent_count"`
	TotalRepliedCount        int64  `json:"total_replied_count"`
	UniqueRepliedCount       int64  `json:"unique_replied_count"`
	BouncedCount             int64  `json:"bounced_count"`
	UnsubscribedCount        int64  `json:"unsubscribed_count"`
	InterestedLeadsCount     int64  `json:"interested_leads_count"`
	TotalOpenedCount         int64  `json:"total_opened_count"`
	UniqueOpenedCount        int64  `json:"unique_opened_count"`
	TotalLeadsContactedCount int64  `json:"total_leads_contacted_count"`
	Tags                     []Tag  `json:"tags"`
	CreatedAt                Time   `json:"created_at"`
	UpdatedAt                Time   `json:"updated_at"`
}

// Tag is a label on an account. Names are messy at the source (trailing spaces, case); they
// are kept exactly as given.
type Tag struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
}

// Time is a timestamp from the API. It accepts RFC 3339 (Laravel's
// `2025-03-01T10:00:00.000000Z`) and `2006-01-02 15:04:05`; null, empty or unparseable values
// decode as the zero time rather than failing a whole page over a cosmetic field.
type Time struct{ time.Time }

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		s = string(b[1 : len(b)-1]) // the common case, without a second pass of the decoder
	} else if err := json.Unmarshal(b, &s); err != nil {
		return nil // a number or object where a date belongs: ignore, like a missing date
	}
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return nil
}

// MarshalJSON implements json.Marshaler (RFC 3339, or null for the zero time).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.Format(time.RFC3339Nano))
}
