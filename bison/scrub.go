package bison

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// minFragment is the shortest piece of a token that is scrubbed wherever it appears. A
// server that echoes the token minus its last four characters, next to a hint that shows
// those four, leaks it whole; so any run of 8 or more of its characters counts as the token.
// Shorter runs are too likely to be ordinary text, and 8 characters of a 40-character
// Sanctum secret leave 32 to guess.
const minFragment = 8

// Scrub returns text with every piece of the keys' tokens of 8 or more characters replaced
// by the key's hint ("…" and its last four characters), in each form a server or a lower
// layer might echo it: plain, URL-encoded (query or path), JSON-escaped (Go's or PHP's
// way), and base64 (standard or URL alphabet, any alignment). Use it on any text that leaves
// the program and may hold what a server said: errors, logs, run history, the console.
func Scrub(text string, keys ...Key) string {
	for _, k := range keys {
		text = k.scrub(text)
	}
	return text
}

// scrub is Scrub for one key. Tokens shorter than minFragment are replaced only whole.
func (k Key) scrub(s string) string {
	if len(k.token) < 4 || s == "" {
		return s
	}
	if len(k.token) < minFragment {
		return strings.ReplaceAll(s, k.token, k.Hint())
	}
	grams := fragmentSet(tokenForms(k.token))
	return redactGrams(s, grams, k.Hint())
}

// tokenForms lists the encodings of the token a text might carry.
func tokenForms(token string) []string {
	forms := []string{token, url.QueryEscape(token), url.PathEscape(token)}
	for _, f := range forms[1:3] {
		forms = append(forms, lowerHexEscapes(f)) // %7c as well as %7C
	}
	if js, err := json.Marshal(token); err == nil {
		s := string(js[1 : len(js)-1])
		forms = append(forms, s, strings.ReplaceAll(s, "/", `\/`), unicodeEscaped(token))
	}
	// Base64 of a text that holds the token encodes it at one of three alignments; the
	// characters of the whole quanta are the same whatever surrounds them.
	for shift := 0; shift < 3 && shift < len(token); shift++ {
		tail := token[shift:]
		whole := len(tail) / 3 * 3
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			forms = append(forms, enc.EncodeToString([]byte(tail[:whole])))
		}
	}
	return forms
}

// unicodeEscaped writes every character that is not a letter or digit as \u00XX, as some
// JSON encoders do for '|' and friends.
func unicodeEscaped(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z') {
			b.WriteByte(c)
			continue
		}
		b.WriteString(`\u00`)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// lowerHexEscapes turns the hex digits of %XX escapes to lower case.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}

// fragmentSet holds every minFragment-long piece of the forms.
func fragmentSet(forms []string) map[string]struct{} {
	grams := make(map[string]struct{}, 8*len(forms[0]))
	for _, f := range forms {
		for i := 0; i+minFragment <= len(f); i++ {
			grams[f[i:i+minFragment]] = struct{}{}
		}
	}
	return grams
}

// redactGrams replaces each maximal stretch of s covered by pieces in grams with hint.
// Matching is byte-wise: a piece that is split by a multi-byte character is not a piece.
func redactGrams(s string, grams map[string]struct{}, hint string) string {
	var b strings.Builder
	last := 0    // s[:last] is written or redacted
	covered := 0 // s[:covered] is inside a redacted stretch
	start := -1  // where the current stretch began
	for i := 0; i+minFragment <= len(s); i++ {
		if _, hit := grams[s[i:i+minFragment]]; !hit {
			continue
		}
		if start < 0 || i > covered {
			if start >= 0 {
				b.WriteString(s[last:start])
				b.WriteString(hint)
				last = covered
			}
			start = i
		}
		covered = i + minFragment
	}
	if start < 0 {
		return s
	}
	b.WriteString(s[last:start])
	b.WriteString(hint)
	b.WriteString(s[covered:])
	return b.String()
}
