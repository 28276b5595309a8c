package bison

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The decoders below read the API's shapes with encoding/json's semantics, which the
// reference decoder in decode_ref_test.go states in a few lines and a differential fuzz
// test holds this one to: member names match case-insensitively (Unicode folding); null
// leaves a number, string or bool as it was and empties a list or an object pointer; a
// repeated member decodes into what the first left (a list reuses its elements); a value of
// the wrong kind, a fraction or an out-of-range number where an integer belongs, is an
// error; dates accept anything (see Time). Unknown members are skipped, after their syntax
// is checked.

// rawEnvelope is Laravel's paginated resource as decoded, before its facts are checked.
type rawEnvelope struct {
	Data    []Account
	Next    opt[string]
	hasMeta bool
	Current opt[int]
	Last    opt[int]
	Total   opt[int]
	PerPage opt[float64] // set only when per_page is a number (Laravel may send a string)
}

// opt is a member that may be absent or null: encoding/json's pointer, without the
// allocation.
type opt[T any] struct {
	v   T
	set bool
}

// parsePage decodes a page body into a Page, checking only that the envelope is there.
func parsePage(body []byte) (*Page, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body")
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("body is not a JSON object: it starts with %q", head(trimmed, 24))
	}
	var scratch, text [256]byte // most strings and an account's texts fit: no allocation
	sc := &scanner{b: trimmed, scratch: scratch[:0], text: text[:0]}
	var env rawEnvelope
	if err := sc.envelope(&env); err != nil {
		return nil, err
	}
	if sc.peek() != 0 {
		return nil, sc.syntaxError("the end of the body")
	}
	if env.Data == nil {
		return nil, errors.New(`"data" is missing or null`)
	}
	if !env.hasMeta || !env.Last.set || !env.Total.set || !env.Current.set {
		return nil, errors.New(`"meta" lacks current_page, last_page or total`)
	}
	p := &Page{Accounts: env.Data, CurrentPage: env.Current.v, LastPage: env.Last.v, Total: env.Total.v, PerPage: PageSize}
	if env.PerPage.set {
		p.PerPage = int(env.PerPage.v)
	}
	p.Next = env.Next.v // "" when absent or null
	return p, nil
}

// head is the first n bytes of b, for messages.
func head(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func (sc *scanner) envelope(env *rawEnvelope) error {
	if err := sc.open(); err != nil {
		return err
	}
	return sc.members(func(k []byte) error {
		var err error
		switch {
		case nameIs(k, "data"):
			err = sc.accounts(&env.Data)
		case nameIs(k, "links"):
			err = sc.links(env)
		case nameIs(k, "meta"):
			err = sc.meta(env)
		default:
			err = sc.skip()
		}
		return err
	})
}

// nameIs matches a member name as encoding/json does: exactly, or equal under Unicode case
// folding.
func nameIs(key []byte, name string) bool {
	// Only K (Kelvin sign) and ſ fold to ASCII letters, and both are longer in UTF-8.
	return string(key) == name || (len(key) >= len(name) && len(key) <= 3*len(name) && bytes.EqualFold(key, []byte(name)))
}

// kindError says that a member holds a value of the wrong kind.
func (sc *scanner) kindError(member, want string) error {
	got := "a number"
	switch sc.peek() {
	case '{':
		got = "an object"
	case '[':
		got = "a list"
	case '"':
		got = "a string"
	case 't', 'f':
		got = "a boolean"
	case 'n':
		got = "null"
	}
	return fmt.Errorf("%s is %s, not %s", member, got, want)
}

// object opens an object member's value: it reports false (and consumes it) for null,
// and fails for anything but an object.
func (sc *scanner) object(member string) (bool, error) {
	switch sc.peek() {
	case '{':
		return true, sc.open()
	case 'n':
		_, err := sc.literal()
		return false, err
	}
	return false, sc.kindError(member, "an object")
}

func (sc *scanner) links(env *rawEnvelope) error {
	ok, err := sc.object(`"links"`)
	if err != nil || !ok {
		env.Next = opt[string]{} // null drops what an earlier "links" gave
		return err
	}
	return sc.members(func(k []byte) error {
		var err error
		if nameIs(k, "next") {
			err = sc.optString(&env.Next, `links.next`)
		} else {
			err = sc.skip()
		}
		return err
	})
}

func (sc *scanner) meta(env *rawEnvelope) error {
	ok, err := sc.object(`"meta"`)
	if err != nil {
		return err
	}
	if !ok { // null: encoding/json drops what an earlier "meta" gave
		env.hasMeta = false
		env.Current, env.Last, env.Total, env.PerPage = opt[int]{}, opt[int]{}, opt[int]{}, opt[float64]{}
		return nil
	}
	env.hasMeta = true
	return sc.members(func(k []byte) error {
		var err error
		switch {
		case nameIs(k, "current_page"):
			err = sc.optInt(&env.Current, "meta.current_page")
		case nameIs(k, "last_page"):
			err = sc.optInt(&env.Last, "meta.last_page")
		case nameIs(k, "total"):
			err = sc.optInt(&env.Total, "meta.total")
		case nameIs(k, "per_page"):
			err = sc.anyNumber(&env.PerPage)
		default:
			err = sc.skip()
		}
		return err
	})
}

// anyNumber decodes per_page, an `any` for encoding/json, keeping only what matters here:
// whether it is a number, and which.
func (sc *scanner) anyNumber(dst *opt[float64]) error {
	switch c := sc.peek(); {
	case c == '-' || (c >= '0' && c <= '9'):
		lit, err := sc.literal()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil {
			return fmt.Errorf("meta.per_page %s is out of range", head(lit, 24))
		}
		*dst = opt[float64]{v: f, set: true}
		return nil
	}
	*dst = opt[float64]{} // null, a string, anything else replaces a number given before
	return sc.skip()
}

// int64Val decodes an integer member: null leaves it, a fraction or an exponent or a value
// out of range is an error, as encoding/json has it for Go integers.
func (sc *scanner) int64Val(dst *int64, member string) error {
	switch c := sc.peek(); {
	case c == 'n':
		_, err := sc.literal()
		return err
	case c != '-' && (c < '0' || c > '9'):
		return sc.kindError(member, "a number")
	}
	lit, err := sc.literal()
	if err != nil {
		return err
	}
	n, ok := parseInt(lit)
	if !ok {
		return fmt.Errorf("%s is %s, not an integer", member, head(lit, 24))
	}
	*dst = n
	return nil
}

// parseInt is strconv.ParseInt(s, 10, 64) for a JSON number, without a string.
func parseInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

func (sc *scanner) optInt(dst *opt[int], member string) error {
	if sc.peek() == 'n' {
		*dst = opt[int]{}
		_, err := sc.literal()
		return err
	}
	n := int64(dst.v)
	if err := sc.int64Val(&n, member); err != nil {
		return err
	}
	*dst = opt[int]{v: int(n), set: true}
	return nil
}

func (sc *scanner) optString(dst *opt[string], member string) error {
	if sc.peek() == 'n' {
		*dst = opt[string]{}
		_, err := sc.literal()
		return err
	}
	s := dst.v
	if err := sc.stringVal(&s, member); err != nil {
		return err
	}
	*dst = opt[string]{v: s, set: true}
	return nil
}

// stringVal decodes a string member: null leaves it, any other kind is an error.
func (sc *scanner) stringVal(dst *string, member string) error {
	return sc.plainText(dst, member, false)
}

// plainText decodes a string member, interned or not: null leaves it, any other kind is an
// error.
func (sc *scanner) plainText(dst *string, member string, intern bool) error {
	switch sc.peek() {
	case 'n':
		_, err := sc.literal()
		return err
	case '"':
		b, err := sc.str()
		switch {
		case err != nil:
		case intern:
			*dst = sc.words.word(b)
		default:
			*dst = string(b)
		}
		return err
	}
	return sc.kindError(member, "a string")
}

// listOrNull starts a list member: it opens the list and says so, or reads a null and calls
// null; any other kind is an error.
func (sc *scanner) listOrNull(member string, null func()) (list bool, err error) {
	switch sc.peek() {
	case 'n':
		null()
		_, err := sc.literal()
		return false, err
	case '[':
		return true, sc.open()
	}
	return false, sc.kindError(member, "a list")
}

func (sc *scanner) boolVal(dst *bool, member string) error {
	switch sc.peek() {
	case 'n', 't', 'f':
		lit, err := sc.literal()
		if err == nil && lit[0] != 'n' {
			*dst = lit[0] == 't'
		}
		return err
	}
	return sc.kindError(member, "true or false")
}
