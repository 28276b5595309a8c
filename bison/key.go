package bison

import (
	"encoding/json"
	"fmt"
)

// Key is an Email Bison API token (Laravel Sanctum, `123|AbCd...`). It is a secret: every way
// Go has of printing a value (String, %v, %+v, %#v, %q, JSON) shows only "…" and its last four
// characters, so a Key can travel through errors, logs and events without leaking.
type Key struct {
	token string
}

// NewKey wraps a token. The empty token makes the zero Key.
func NewKey(token string) Key { return Key{token: token} }

// IsZero reports whether the key holds no token.
func (k Key) IsZero() bool { return k.token == "" }

// Hint identifies the key without revealing it: "…" plus its last four characters.
func (k Key) Hint() string {
	if k.token == "" {
		return "(none)"
	}
	r := []rune(k.token)
	if len(r) <= 4 {
		return "…"
	}
	return "…" + string(r[len(r)-4:])
}

// String implements fmt.Stringer with the hint, never the token.
func (k Key) String() string { return k.Hint() }

// GoString implements fmt.GoStringer so that %#v of a struct holding a Key stays safe.
func (k Key) GoString() string { return "bison.Key(" + k.Hint() + ")" }

// Format implements fmt.Formatter so that every verb prints the hint.
func (k Key) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", k.Hint())
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, k.GoString())
			return
		}
		fmt.Fprint(f, k.Hint())
	default:
		fmt.Fprint(f, k.Hint())
	}
}

// MarshalJSON implements json.Marshaler with the hint.
func (k Key) MarshalJSON() ([]byte, error) { return json.Marshal(k.Hint()) }

// MarshalText implements encoding.TextMarshaler with the hint (slog, YAML and friends).
func (k Key) MarshalText() ([]byte, error) { return []byte(k.Hint()), nil }

// bearer is the only place the token leaves the Key: the Authorization header.
func (k Key) bearer() string { return "Bearer " + k.token }
