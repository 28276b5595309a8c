package tui

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// snapshot renders every field reachable from v, unexported ones included, as text: pointers
// are followed (once each), maps are sorted by key, functions and channels are reduced to
// whether they are set. The console and the feeds are compared by identity: they belong to
// the I/O side, which View never touches.
func snapshot(v any) string {
	var b strings.Builder
	seen := map[uintptr]bool{}
	dump(&b, reflect.ValueOf(v), seen, 0)
	return b.String()
}

func dump(b *strings.Builder, v reflect.Value, seen map[uintptr]bool, depth int) {
	if depth > 40 {
		b.WriteString("…")
		return
	}
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("<nil>")
	case reflect.Pointer:
		switch {
		case v.IsNil():
			b.WriteString("nil")
		case v.Type() == reflect.TypeFor[*console]() || v.Type() == reflect.TypeFor[*feed]():
			fmt.Fprintf(b, "%s@%x", v.Type(), v.Pointer())
		case seen[v.Pointer()]:
			b.WriteString("(seen)")
		default:
			seen[v.Pointer()] = true
			b.WriteString("&")
			dump(b, v.Elem(), seen, depth+1)
		}
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		fmt.Fprintf(b, "%s(", v.Elem().Type())
		dump(b, v.Elem(), seen, depth+1)
		b.WriteString(")")
	case reflect.Struct:
		b.WriteString(v.Type().String() + "{")
		for i := range v.NumField() {
			fmt.Fprintf(b, "%s:", v.Type().Field(i).Name)
			dump(b, v.Field(i), seen, depth+1)
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("nil")
			return
		}
		fmt.Fprintf(b, "[%d:", v.Len())
		for i := range v.Len() {
			dump(b, v.Index(i), seen, depth+1)
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		var entries []string
		for it := v.MapRange(); it.Next(); {
			var e strings.Builder
			dump(&e, it.Key(), seen, depth+1)
			e.WriteString("=")
			dump(&e, it.Value(), seen, depth+1)
			entries = append(entries, e.String())
		}
		slices.Sort(entries)
		b.WriteString("map[" + strings.Join(entries, " ") + "]")
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		fmt.Fprintf(b, "%s(set=%v)", v.Kind(), !v.IsNil())
	default:
		// Unexported fields cannot be turned back into interfaces: print them through
		// reflect's own formatting of their kind.
		switch v.Kind() {
		case reflect.String:
			fmt.Fprintf(b, "%q", v.String())
		case reflect.Bool:
			fmt.Fprint(b, v.Bool())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			fmt.Fprint(b, v.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			fmt.Fprint(b, v.Uint())
		case reflect.Float32, reflect.Float64:
			fmt.Fprint(b, v.Float())
		case reflect.Complex64, reflect.Complex128:
			fmt.Fprint(b, v.Complex())
		default:
			fmt.Fprintf(b, "<%s>", v.Kind())
		}
	}
}

// View changes nothing: calling it twice, and on a copy, draws the same screen and leaves
// the model exactly as it was, in every view and mode the tests reach.
func TestViewChangesNothing(t *testing.T) {
	b := historyBackend()
	b.workspaces = append(b.workspaces, bigRegistry(120)...)
	for i := range 60 {
		r := b.runs[1]
		r.ID = int64(10 - i)
		b.runs = append(b.runs, r)
	}
	h := newHarness(t, b, 100, 30)
	h.b.script = scriptedRun(13, "Jason Binyon", "HTTP 401")
	check := func(where string) {
		t.Helper()
		before := snapshot(h.m)
		first := h.m.View().Content
		second := h.m.View().Content
		cp := *h.m
		third := cp.View().Content
		if after := snapshot(h.m); after != before {
			t.Fatalf("%s: View changed the model:\n%s", where, firstDiff(before, after))
		}
		if first != second || first != third {
			t.Fatalf("%s: View drew different screens for the same model", where)
		}
	}
	check("workspaces")
	h.key("pgdown")
	h.key("pgdown")
	check("workspaces, second page")
	h.key("g")
	for range 4 {
		h.key("down")
	}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	check("workspaces, cursor low, small terminal")
	h.key("?")
	check("help")
	h.key("?")
	h.key("/")
	h.key("a")
	check("filter")
	h.key("esc")
	h.key("S")
	check("question")
	h.key("y")
	check("run")
	h.key("up")
	check("run, log scrolled")
	h.key("3")
	check("history")
	h.key("end")
	check("history, last run")
	h.key("g")
	h.key("enter")
	check("a run's workspaces")
	h.key("e")
	check("overlay")
	h.key("esc")
	h.key("esc")
	h.key("1")
	h.key("h")
	check("a workspace's runs")
	h.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	check("too small")
}

// firstDiff shows where two snapshots part.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-200, 0)
	return fmt.Sprintf("before: …%s…\nafter:  …%s…", a[from:min(i+200, len(a))], b[from:min(i+200, len(b))])
}
