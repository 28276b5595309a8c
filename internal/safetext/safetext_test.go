package safetext

import "testing"

func TestClean(t *testing.T) {
	cases := map[string]string{
		"Castle Agency":                    "Castle Agency",
		"Müller Consulting":                "Müller Consulting",
		"evil\x1b[2J\x1b[31mred":           "evilred",
		"title\x1b]0;pwned\x07 done":       "title done",
		"osc st\x1b]8;;http://x\x1b\\link": "osc stlink",
		"bell\x07 and nul\x00":             "bell and nul",
		"two\nlines\ttab":                  "two lines tab",
		"c1 csi \u009b31m x":               "c1 csi  x",
		"bidi \u202eoverride":              "bidi override",
		"trailing esc \x1b":                "trailing esc ",
	}
	for in, want := range cases {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("a\x1b[1mb")
	f.Add("\x1b]0;x")
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("Clean(%q) = %q still holds control %U", s, out, r)
			}
		}
	})
}
