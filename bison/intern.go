package bison

// Strings that repeat on every page (statuses, types, tag names) are decoded once: a page of
// 15 accounts would otherwise allocate some 60 copies of a handful of words.

// knownWord returns the constant for a status or type the API is known to send, or "".
func knownWord(b []byte) string {
	switch string(b) {
	case "Connected":
		return "Connected"
	case "Disconnected":
		return "Disconnected"
	case "Failed":
		return "Failed"
	case "Not connected":
		return "Not connected"
	case "google_workspace_oauth":
		return "google_workspace_oauth"
	case "microsoft_oauth":
		return "microsoft_oauth"
	case "smtp":
		return "smtp"
	}
	return ""
}

// interner keeps the last few distinct words it was given, for one decode.
type interner struct {
	words [16]string
	next  int
}

// word returns b as a string, shared with an earlier equal one when it can.
func (in *interner) word(b []byte) string {
	if s := knownWord(b); s != "" {
		return s
	}
	for _, w := range in.words {
		if w == string(b) && w != "" {
			return w
		}
	}
	s := string(b)
	in.words[in.next] = s
	in.next = (in.next + 1) % len(in.words)
	return s
}
