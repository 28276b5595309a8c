package bison

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON from a byte slice for the decoders of the API's few shapes. It accepts
// exactly what encoding/json accepts (RFC 8259, nesting up to 10,000 levels, invalid UTF-8
// in strings replaced by U+FFFD), and decodes values with encoding/json's semantics (see
// decode.go); it exists because a page decoded by reflection cost a third of the engine's
// CPU (issue 16). The first error ends the scan: callers need only to know that the body is
// not what it must be, and what was seen.
type scanner struct {
	b        []byte
	i        int
	depth    int
	scratch  []byte // unescaped strings; valid until the next string is read
	words    interner
	text     []byte // an account's own text (email, name) until it becomes one string
	tagStore []Tag  // backing store for the page's tag lists, carved with full slice expressions
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// syntaxError says what was found where JSON was expected.
func (sc *scanner) syntaxError(want string) error {
	if sc.i >= len(sc.b) {
		return fmt.Errorf("not JSON: the body ends (%d bytes) where %s belongs", len(sc.b), want)
	}
	return fmt.Errorf("not JSON: %s at byte %d where %s belongs", quoteByte(sc.b[sc.i]), sc.i, want)
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (sc *scanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// peek skips blanks and returns the next byte, 0 at the end.
func (sc *scanner) peek() byte {
	sc.ws()
	if sc.i >= len(sc.b) {
		return 0
	}
	return sc.b[sc.i]
}

// open consumes '{' or '[' (the caller has peeked it) and counts the nesting.
func (sc *scanner) open() error {
	sc.i++
	if sc.depth++; sc.depth > maxDepth {
		return fmt.Errorf("not JSON: nested more than %d levels", maxDepth)
	}
	return nil
}

// next moves to the next member of an object or array: it consumes the ',' between members
// or the closing byte, and reports whether a member follows. first is the caller's state.
func (sc *scanner) next(first *bool, closing byte) (bool, error) {
	c := sc.peek()
	if c == closing {
		sc.i++
		sc.depth--
		return false, nil
	}
	if !*first {
		if c != ',' {
			return false, sc.syntaxError(fmt.Sprintf("',' or '%c'", closing))
		}
		sc.i++
		c = sc.peek()
	}
	*first = false
	if closing == '}' && c != '"' {
		return false, sc.syntaxError("a member name")
	}
	return true, nil
}

// key reads a member name and its ':'.
func (sc *scanner) key() ([]byte, error) {
	k, err := sc.str()
	if err != nil {
		return nil, err
	}
	if sc.peek() != ':' {
		return nil, sc.syntaxError("':'")
	}
	sc.i++
	return k, nil
}

// str reads a string (the caller has peeked '"') and returns it unescaped, as
// encoding/json would: a slice of the input when it holds no escape and only valid UTF-8,
// else the scanner's scratch space.
func (sc *scanner) str() ([]byte, error) {
	start := sc.i + 1
	for i := start; i < len(sc.b); i++ {
		switch c := sc.b[i]; {
		case c == '"':
			sc.i = i + 1
			return sc.b[start:i], nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return sc.slowStr(start, i)
		}
	}
	sc.i = len(sc.b)
	return nil, sc.syntaxError("the end of a string")
}

// slowStr reads the rest of a string that has escapes or non-ASCII bytes from i on.
func (sc *scanner) slowStr(start, i int) ([]byte, error) {
	out := append(sc.scratch[:0], sc.b[start:i]...)
	for i < len(sc.b) {
		c := sc.b[i]
		switch {
		case c == '"':
			sc.i = i + 1
			sc.scratch = out
			return out, nil
		case c < 0x20:
			sc.i = i
			return nil, sc.syntaxError("a character of a string")
		case c == '\\':
			var err error
			if out, i, err = sc.escape(out, i); err != nil {
				return nil, err
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(sc.b[i:])
			out = utf8.AppendRune(out, r) // an invalid byte becomes U+FFFD, one per byte
			i += size
		}
	}
	sc.i = len(sc.b)
	return nil, sc.syntaxError("the end of a string")
}

// escape decodes the escape sequence at b[i] ('\\') onto out.
func (sc *scanner) escape(out []byte, i int) ([]byte, int, error) {
	if i+1 >= len(sc.b) {
		sc.i = len(sc.b)
		return nil, 0, sc.syntaxError("an escape")
	}
	switch e := sc.b[i+1]; e {
	case '"', '\\', '/':
		return append(out, e), i + 2, nil
	case 'b':
		return append(out, '\b'), i + 2, nil
	case 'f':
		return append(out, '\f'), i + 2, nil
	case 'n':
		return append(out, '\n'), i + 2, nil
	case 'r':
		return append(out, '\r'), i + 2, nil
	case 't':
		return append(out, '\t'), i + 2, nil
	case 'u':
		r := hex4(sc.b[i+2:])
		if r < 0 {
			sc.i = i
			return nil, 0, sc.syntaxError(`four hex digits after \u`)
		}
		i += 6
		if utf16.IsSurrogate(r) {
			// A pair is consumed whole; a lone half becomes U+FFFD, as encoding/json does.
			if i+1 < len(sc.b) && sc.b[i] == '\\' && sc.b[i+1] == 'u' {
				if dec := utf16.DecodeRune(r, hex4(sc.b[i+2:])); dec != unicode.ReplacementChar {
					return utf8.AppendRune(out, dec), i + 6, nil
				}
			}
			r = unicode.ReplacementChar
		}
		return utf8.AppendRune(out, r), i, nil
	}
	sc.i = i
	return nil, 0, sc.syntaxError("an escape sequence")
}

// hex4 reads four hex digits, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// literal reads a number, true, false or null and returns its bytes.
func (sc *scanner) literal() ([]byte, error) {
	start := sc.i
	switch c := sc.peek(); {
	case c == 't':
		return sc.word("true")
	case c == 'f':
		return sc.word("false")
	case c == 'n':
		return sc.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		if !sc.number() {
			return nil, sc.syntaxError("a digit")
		}
		return sc.b[start:sc.i], nil
	}
	return nil, sc.syntaxError("a value")
}

func (sc *scanner) word(w string) ([]byte, error) {
	if len(sc.b)-sc.i < len(w) || string(sc.b[sc.i:sc.i+len(w)]) != w {
		return nil, sc.syntaxError("a value")
	}
	sc.i += len(w)
	return sc.b[sc.i-len(w) : sc.i], nil
}

// number consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and reports whether one was
// there.
func (sc *scanner) number() bool {
	b, i := sc.b, sc.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		sc.i = i
		return false
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || b[i] < '0' || b[i] > '9' {
			sc.i = i
			return false
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			sc.i = i
			return false
		}
		i = digits(b, i)
	}
	sc.i = i
	return true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// skip consumes one value of any kind, checking its syntax.
func (sc *scanner) skip() error {
	switch c := sc.peek(); c {
	case '"':
		return sc.skipStr()
	case '{', '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		if err := sc.open(); err != nil {
			return err
		}
		for first := true; ; {
			more, err := sc.next(&first, closing)
			if err != nil || !more {
				return err
			}
			if closing == '}' {
				if _, err := sc.key(); err != nil {
					return err
				}
			}
			if err := sc.skip(); err != nil {
				return err
			}
		}
	}
	_, err := sc.literal()
	return err
}

// skipStr consumes a string without unescaping it.
func (sc *scanner) skipStr() error {
	for i := sc.i + 1; i < len(sc.b); i++ {
		switch c := sc.b[i]; {
		case c == '"':
			sc.i = i + 1
			return nil
		case c < 0x20:
			sc.i = i
			return sc.syntaxError("a character of a string")
		case c == '\\':
			n := 2 // the escape's length
			if i+1 < len(sc.b) && sc.b[i+1] == 'u' {
				n = 6
				if hex4(sc.b[min(i+2, len(sc.b)):]) < 0 {
					n = 0
				}
			} else if i+1 >= len(sc.b) || !isEscapeChar(sc.b[i+1]) {
				n = 0
			}
			if n == 0 {
				sc.i = i
				return sc.syntaxError("an escape sequence")
			}
			i += n - 1
		}
	}
	sc.i = len(sc.b)
	return sc.syntaxError("the end of a string")
}

func isEscapeChar(c byte) bool {
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	}
	return false
}

// members reads the members of the object just opened up to its closing brace, calling
// member with each key; member reads (or skips) the value. The closure does not escape, so
// it costs no allocation.
func (sc *scanner) members(member func(key []byte) error) error {
	for first := true; ; {
		more, err := sc.next(&first, '}')
		if err != nil || !more {
			return err
		}
		k, err := sc.key()
		if err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
	}
}

// elements reads the elements of the list just opened up to its closing bracket, calling
// each to read one.
func (sc *scanner) elements(each func() error) error {
	for first := true; ; {
		more, err := sc.next(&first, ']')
		if err != nil || !more {
			return err
		}
		if err := each(); err != nil {
			return err
		}
	}
}
