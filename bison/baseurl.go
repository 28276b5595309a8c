package bison

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ConfigError is an instance whose configuration cannot work (a base_url that is not an
// http(s) URL with a host). No request is sent; retrying cannot help.
type ConfigError struct {
	Instance string
	Problem  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("instance %q: %s", e.Instance, e.Problem)
}

// ValidateBaseURL checks an instance's base_url (bison_instances.base_url): an absolute
// http or https URL with a host, e.g. https://send.example.com/api. It returns a
// *ConfigError naming the instance, or nil. The message never repeats a query or user
// information, where a secret might have been pasted.
func ValidateBaseURL(name, raw string) error {
	bad := func(format string, args ...any) error {
		return &ConfigError{Instance: name, Problem: "base_url " + fmt.Sprintf(format, args...)}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole value
		}
		return bad("is not a URL (%v)", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("must start with https:// or http://, not %q", u.Scheme+":")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return bad("has no host (want e.g. https://send.example.com/api)")
	case u.User != nil:
		return bad("holds a user name or password (%s://…@%s): keys belong in api_key", u.Scheme, u.Host)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return bad("has a query or fragment (%s): give the API root only", safeURL(u))
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return bad("has a bad port %q", p)
		}
	}
	return nil
}

// hostPort is the URL's host with its port made explicit (443 for https, 80 for http): what
// an operator needs to check reachability, with no path, query or credentials.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// safeURL is scheme://host:port/path of u: enough to recognise where a request went,
// without a query, fragment or user information.
func safeURL(u *url.URL) string {
	return u.Scheme + "://" + hostPort(u) + u.EscapedPath()
}
