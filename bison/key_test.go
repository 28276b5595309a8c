package bison

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const secretToken = "77|Xk9vQ2mZpL4rT8wYb6nC1dF3gH5jK7sA0eU2iO4q"

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, secretToken) || strings.Contains(s, secretToken[3:]) {
		t.Fatalf("%s leaks the token: %s", what, s)
	}
}

func TestKeyNeverPrintsToken(t *testing.T) {
	k := NewKey(secretToken)
	holder := struct {
		Name string
		Key  Key
		Ptr  *Key
	}{"ws", k, &k}
	js, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "key", k, "holder", holder)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "key", k)
	for _, s := range []string{
		k.String(), fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x %d", k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v", holder, holder, holder), string(js), logged.String(),
	} {
		assertNoSecret(t, "formatting", s)
	}
	if got, want := k.Hint(), "…A0eU2iO4q"[len("…A0eU2i")-1:]; !strings.HasSuffix(secretToken, strings.TrimPrefix(got, "…")) || !strings.HasPrefix(got, "…") {
		t.Fatalf("Hint() = %q, want … and the last 4 characters (%q)", got, want)
	}
	if got := fmt.Sprint(k); got != "…iO4q" {
		t.Fatalf("fmt.Sprint(key) = %q, want …iO4q", got)
	}
}

// Errors built by net/http (dial failures, timeouts, resets) pass through the client's error
// types: none may carry the token, whatever verb prints them.
func TestErrorsNeverCarryToken(t *testing.T) {
	// A port with nothing listening: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	l.Close()

	// A server that echoes the Authorization header back in an error body, and one that hangs.
	echo := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/hang/api/sender-emails") {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":"bad token %s"}`, r.Header.Get("Authorization"))
	})}
	el, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go echo.Serve(el)
	t.Cleanup(func() { echo.Close() })

	c := NewClient(Options{RequestTimeout: 200 * time.Millisecond, MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	key := NewKey(secretToken)
	cases := map[string]string{
		"refused":  "http://" + closedAddr + "/api",
		"echo 401": "http://" + el.Addr().String() + "/echo/api",
		"hang":     "http://" + el.Addr().String() + "/hang/api",
		"bad url":  "http://[::1%zz]/api",
	}
	for name, base := range cases {
		t.Run(name, func(t *testing.T) {
			var retries []Retry
			s := c.Instance("inst", base, Limits{}).Session(key, Workspace{Name: "ws", ID: 1}, func(r Retry) { retries = append(retries, r) })
			_, err := s.ListPage(context.Background(), 1)
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, e := range []error{err, errors.Unwrap(err)} {
				if e == nil {
					continue
				}
				assertNoSecret(t, "error", fmt.Sprintf("%v | %+v | %#v | %s", e, e, e, e.Error()))
			}
			assertNoSecret(t, "retry events", fmt.Sprintf("%#v", retries))
		})
	}
}
