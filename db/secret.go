package db

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// envPrefix marks an api-key column that names an environment variable instead of holding
// the token.
const envPrefix = "env:"

// Secret is an api-key column as stored (bison_instances.api_key,
// client_registry.bison_api_key): a literal token, or env:VAR naming the variable that holds
// it; the zero Secret is a null column. It crosses the program from the database boundary on
// without ever showing the token: every way Go has of printing it (String, %v, %+v, %#v, %q,
// JSON, text, slog) gives "…" and the token's last four characters, or the env:VAR reference,
// which is not secret. Only the engine resolves it, with Resolve.
type Secret struct {
	raw string
}

// NewSecret wraps a column's raw value ("" for null).
func NewSecret(raw string) Secret { return Secret{raw: raw} }

// IsZero reports whether the column is null (or empty).
func (s Secret) IsZero() bool { return s.raw == "" }

// EnvVar returns the variable an env:VAR secret names, and whether it is one.
func (s Secret) EnvVar() (string, bool) {
	name, ok := strings.CutPrefix(s.raw, envPrefix)
	return strings.TrimSpace(name), ok
}

// Resolve turns the secret into the token: env:VAR reads VAR through lookupEnv (os.LookupEnv
// when nil), anything else is the literal token. A null column is ErrNoKey; an unset or empty
// variable is *MissingEnvError naming it. Errors never contain a secret.
func (s Secret) Resolve(lookupEnv func(string) (string, bool)) (string, error) {
	if s.raw == "" {
		return "", ErrNoKey
	}
	name, isEnv := s.EnvVar()
	if !isEnv {
		return s.raw, nil
	}
	if name == "" {
		return "", &MissingEnvError{Var: "(empty name after env:)"}
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	value, ok := lookupEnv(name)
	if !ok {
		return "", &MissingEnvError{Var: name}
	}
	if value == "" {
		return "", &MissingEnvError{Var: name, Empty: true}
	}
	return value, nil
}

// Hint identifies the secret without revealing it: "(none)", "env:VAR", or "…" and the last
// four characters of a literal token.
func (s Secret) Hint() string {
	if s.raw == "" {
		return "(none)"
	}
	if _, ok := s.EnvVar(); ok {
		return s.raw
	}
	r := []rune(s.raw)
	if len(r) <= 8 {
		return "…"
	}
	return "…" + string(r[len(r)-4:])
}

// String implements fmt.Stringer with the hint.
func (s Secret) String() string { return s.Hint() }

// GoString implements fmt.GoStringer, so that %#v of a struct holding a Secret stays safe.
func (s Secret) GoString() string { return "db.Secret(" + s.Hint() + ")" }

// Format implements fmt.Formatter: every verb prints the hint.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.Hint())
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, s.GoString())
	default:
		fmt.Fprint(f, s.Hint())
	}
}

// MarshalJSON implements json.Marshaler with the hint.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.Hint()) }

// MarshalText implements encoding.TextMarshaler with the hint.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.Hint()), nil }

// LogValue implements slog.LogValuer with the hint.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.Hint()) }

// Scan implements sql.Scanner: the column's text, null as the zero Secret.
func (s *Secret) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		s.raw = ""
	case string:
		s.raw = v
	case []byte:
		s.raw = string(v)
	default:
		return fmt.Errorf("scan an api key column: unexpected %T", src)
	}
	return nil
}

// Value implements driver.Valuer: the raw text, or null for the zero Secret.
func (s Secret) Value() (driver.Value, error) {
	if s.raw == "" {
		return nil, nil
	}
	return s.raw, nil
}
