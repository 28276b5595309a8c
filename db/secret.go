package db

import (
	"os"
	"strings"
)

// envPrefix marks an api-key column that names an environment variable instead of holding
// the token.
const envPrefix = "env:"

// ResolveSecret turns an api-key column's raw value into the token: "env:VAR" reads VAR
// through lookupEnv (os.LookupEnv when nil), anything else is the literal token. An empty raw
// value is ErrNoKey; an unset or empty variable is *MissingEnvError naming it. Errors never
// contain a secret.
func ResolveSecret(raw string, lookupEnv func(string) (string, bool)) (string, error) {
	if raw == "" {
		return "", ErrNoKey
	}
	name, isEnv := strings.CutPrefix(raw, envPrefix)
	if !isEnv {
		return raw, nil
	}
	name = strings.TrimSpace(name)
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
