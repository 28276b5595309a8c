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
	if len(b) == len(laravelTime)+2 && b[0] == '"' {
		if v, ok := parseLaravelTime(b[1 : len(b)-1]); ok && b[len(b)-1] == '"' {
			t.Time = v // the common case, without a string or a layout
			return nil
		}
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

// laravelTime is how Laravel writes a timestamp: 2025-03-01T10:00:00.000000Z.
const laravelTime = "2006-01-02T15:04:05.000000Z"

// parseLaravelTime reads exactly Laravel's form, as time.Parse(time.RFC3339Nano, ...) would,
// without allocating. It declines (false) whatever it is not sure of, for the general path.
func parseLaravelTime(b []byte) (time.Time, bool) {
	if len(b) != len(laravelTime) {
		return time.Time{}, false
	}
	for i := range laravelTime {
		if c := laravelTime[i]; (c >= '0' && c <= '9') != (b[i] >= '0' && b[i] <= '9') || (c < '0' || c > '9') && c != b[i] {
			return time.Time{}, false
		}
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range b[from:to] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, micro := num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC), true
}

// daysIn is the length of a month of the proleptic Gregorian calendar, as time.Parse checks it.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
