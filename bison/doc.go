// Package bison is the Email Bison API client: one page of sender accounts, one workspace
// switch, typed errors, retries, per-instance flow control and token redaction. It knows
// nothing of the database.
//
// Flow control is per instance (Limiter): requests in flight are capped and paced; a 429 is
// back-pressure that slows the instance to the pace it accepts, learnt and exposed
// (Limiter.Pace, Limits.StartPace), and holds it for its Retry-After; a request fails for
// rate limiting only when its instance answered nothing else for Options.StallWindow. An
// instance that does not answer at all (refused, no such host, TLS, timeouts on every
// request) is unreachable: its requests fail at once with one *UnreachableError until a
// probe gets an answer.
//
// Every field of a response is treated as hostile: redirects are refused, bodies are
// bounded, pages are checked and their control characters stripped, and any piece of the
// key a server echoes is scrubbed from every text the package produces (see Scrub).
package bison
