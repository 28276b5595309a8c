package db

import (
	"math"
	"testing"
)

func TestDomainOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ email, want string }{
		{"jason@BinyonInsuranceAgency.com", "binyoninsuranceagency.com"},
		{"a@b.co", "b.co"},
		{"odd@name@Example.org", "example.org"},
		{"no-at-sign", ""},
		{"@Example.com", "example.com"}, // an empty local part still names its domain
		{"trailing@ Example.com ", "example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := domainOf(tt.email); got != tt.want {
			t.Errorf("domainOf(%q) = %q, want %q", tt.email, got, tt.want)
		}
	}
}

func TestEmailProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tags []string
		typ  string
		want string
	}{
		{"google tag", []string{"Google"}, "smtp", "Google"},
		{"gmail tag, messy", []string{"  gmail "}, "", "Google"},
		{"google workspace tag", []string{"Google Workspace - 3"}, "smtp", "Google"},
		{"outlook tag", []string{"OUTLOOK"}, "google_workspace_oauth", "Microsoft"},
		{"office365 tag", []string{"Office365"}, "", "Microsoft"},
		{"microsoft tag", []string{"microsoft "}, "", "Microsoft"},
		{"first matching tag wins", []string{"Zapmail", "Outlook", "Google"}, "", "Microsoft"},
		{"unrelated tags fall back to type", []string{"Zapmail", "warmup"}, "google_workspace_oauth", "Google"},
		{"type microsoft", nil, "microsoft_oauth", "Microsoft"},
		{"type smtp", nil, "smtp", "SMTP"},
		{"type SMTP upper", nil, "SMTP", "SMTP"},
		{"unknown type", nil, "imap", "Other"},
		{"nothing", nil, "", "Other"},
	}
	for _, tt := range tests {
		if got := emailProvider(tt.tags, tt.typ); got != tt.want {
			t.Errorf("%s: emailProvider(%q, %q) = %q, want %q", tt.name, tt.tags, tt.typ, got, tt.want)
		}
	}
}

func TestReseller(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tags []string
		want string
	}{
		{[]string{"CheapInboxes"}, "CheapInboxes"},
		{[]string{"cheapinboxes - 2"}, "CheapInboxes"},
		{[]string{" Cheap Inboxes  -  12 "}, "CheapInboxes"},
		{[]string{"ZAPMAIL "}, "Zapmail"},
		{[]string{"Google", "mailr-3"}, "Mailr"},
		{[]string{"premium inboxes"}, "Premium Inboxes"},
		{[]string{"Mailr2"}, ""},    // not a batch suffix: unknown
		{[]string{"Mailr - x"}, ""}, // a suffix of letters is no batch number
		{[]string{"-3"}, ""},
		{[]string{"Google", "Outlook"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := reseller(tt.tags); got != tt.want {
			t.Errorf("reseller(%q) = %q, want %q", tt.tags, got, tt.want)
		}
	}
}

func TestReplyRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unique, sent int64
		want         float64
	}{
		{0, 0, 0},
		{5, 0, 0},
		{0, 10, 0},
		{1, 3, 33.33},
		{2, 3, 66.67},
		{1, 8, 12.5},
		{1, 200000, 0}, // 0.0005% is 0.05 hundredths: rounds to 0.00
		{1, 20000, 0.01},
		{3, 4, 75},
		{10, 10, 100},
		{1_000_000, 1, 99999.99},  // clamped to numeric(7,2)
		{1 << 40, 3 << 40, 33.33}, // past 2^31
		{math.MaxInt64, math.MaxInt64, 100},
		{math.MaxInt64 / 3, math.MaxInt64, 33.33},
		{math.MaxInt64, 1, 99999.99},
		{1, math.MaxInt64, 0},
		// The numerator's high word equals the divisor exactly (2 = 2 × 1): the quotient no
		// longer fits in 64 bits, the edge where bits.Div64 would panic.
		{(1<<65 + 19_999) / 20_000, 1, 99999.99},
	}
	for _, tt := range tests {
		if got := replyRate(tt.unique, tt.sent); got != tt.want {
			t.Errorf("replyRate(%d, %d) = %v, want %v", tt.unique, tt.sent, got, tt.want)
		}
	}
}

func TestResellerKeyBatchSuffix(t *testing.T) {
	for tag, want := range map[string]string{"-3": "", "Mailr - 3": "mailr", "Mailr - x": "mailr-x", "Cheap Inboxes-12": "cheapinboxes"} {
		if got := resellerKey(tag); got != want {
			t.Errorf("resellerKey(%q) = %q, want %q", tag, got, want)
		}
	}
}
