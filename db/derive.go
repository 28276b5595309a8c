package db

import (
	"math/big"
	"math/bits"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5/pgtype"
)

// The derived columns of email_accounts_raw. They are computed in Go, once per account at
// commit time, so the rules live in one tested place and the database only stores results.

// domainOf returns the lower-cased part of an email address after its last @, or "" when
// there is none.
func domainOf(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(email[at+1:]))
}

// Providers as stored in email_provider.
const (
	providerGoogle    = "Google"
	providerMicrosoft = "Microsoft"
	providerSMTP      = "SMTP"
	providerOther     = "Other"
)

// providerTagWords maps the first letters of a word in a tag to a provider: "Google",
// "gmail", "Google Workspace", "Outlook - 2", "Office365" and "MICROSOFT " all count.
var providerTagWords = []struct{ prefix, provider string }{
	{"google", providerGoogle},
	{"gmail", providerGoogle},
	{"gsuite", providerGoogle},
	{"microsoft", providerMicrosoft},
	{"outlook", providerMicrosoft},
	{"office", providerMicrosoft},
	{"hotmail", providerMicrosoft},
}

// emailProvider decides the provider from the tags (the agency's own labelling, which wins),
// then from the account type the API reports.
func emailProvider(tags []string, accountType string) string {
	for _, tag := range tags {
		for _, word := range tagWords(tag) {
			for _, p := range providerTagWords {
				if strings.HasPrefix(word, p.prefix) {
					return p.provider
				}
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(accountType)) {
	case "google_workspace_oauth", "gmail_oauth", "google_oauth":
		return providerGoogle
	case "microsoft_oauth", "outlook_oauth", "office365_oauth":
		return providerMicrosoft
	case "smtp":
		return providerSMTP
	default:
		return providerOther
	}
}

// knownResellers are the inbox resellers recognised in tags, in their canonical spelling.
// A tag matches when, trimmed, lower-cased, without a " - N" batch suffix and without inner
// spaces, it equals the lower-cased name without spaces ("cheap inboxes - 3" → CheapInboxes).
var knownResellers = []string{
	"CheapInboxes",
	"Zapmail",
	"Mailr",
	"Maildoso",
	"Mailforge",
	"Infraforge",
	"Inframail",
	"Hypertide",
	"MissionInbox",
	"Premium Inboxes",
	"Scaledmail",
	"Inboxology",
}

var resellerByKey = func() map[string]string {
	m := make(map[string]string, len(knownResellers))
	for _, name := range knownResellers {
		m[resellerKey(name)] = name
	}
	return m
}()

// resellerKey normalises a tag for matching: trimmed, lower-cased, without the " - 3" batch
// suffix agencies append to tell purchases apart, without spaces. (By hand rather than with a
// regular expression: it runs for every tag of every account of every commit.)
func resellerKey(tag string) string {
	t := strings.TrimSpace(tag)
	if i := strings.LastIndexByte(t, '-'); i >= 0 {
		digits := strings.TrimSpace(t[i+1:])
		if digits != "" && strings.Trim(digits, "0123456789") == "" {
			t = t[:i]
		}
	}
	var b strings.Builder
	b.Grow(len(t))
	for _, r := range t {
		if !unicode.IsSpace(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// reseller returns the canonical name of the first tag naming a known reseller, or "".
func reseller(tags []string) string {
	for _, tag := range tags {
		if name, ok := resellerByKey[resellerKey(tag)]; ok {
			return name
		}
	}
	return ""
}

// tagWords splits a tag into lower-case words of letters and digits.
func tagWords(tag string) []string {
	return strings.FieldsFunc(strings.ToLower(tag), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// maxReplyRateHundredths is the largest value numeric(7,2) holds. Replies exceeding sends
// (it happens in the wild) must not make a whole workspace's commit fail.
const maxReplyRateHundredths = 9_999_999

// replyRateHundredths is unique replies / sent × 100 in hundredths of a percent, rounded half
// up, in integers so that 1/3 is exactly 33.33 and nothing drifts through floating point.
// Zero when nothing was sent. The arithmetic is 128-bit: counters are int64 and the
// numerator is 20,000 times one.
func replyRateHundredths(uniqueReplied, sent int64) int64 {
	if sent <= 0 || uniqueReplied <= 0 {
		return 0
	}
	// (uniqueReplied × 20,000 + sent) / (2 × sent)
	hi, lo := bits.Mul64(uint64(uniqueReplied), 20_000)
	lo, carry := bits.Add64(lo, uint64(sent), 0)
	hi += carry
	d := 2 * uint64(sent)
	if hi >= d { // the quotient does not fit in 64 bits: far beyond the cap
		return maxReplyRateHundredths
	}
	q, _ := bits.Div64(hi, lo, d)
	return int64(min(q, maxReplyRateHundredths))
}

// replyRate is replyRateHundredths as a percentage, for reading and tests.
func replyRate(uniqueReplied, sent int64) float64 {
	return float64(replyRateHundredths(uniqueReplied, sent)) / 100
}

// numericHundredths encodes hundredths as a numeric with two decimals, exactly.
func numericHundredths(h int64) pgtype.Numeric {
	return pgtype.Numeric{Int: big.NewInt(h), Exp: -2, Valid: true}
}
