package bison

import (
	"maps"
	"time"
)

// RetryCause classifies why a request was tried again, for counters and logs.
type RetryCause string

// Retry causes.
const (
	Cause429     RetryCause = "429"     // rate limited: back-pressure, never counted as a failure
	Cause5xx     RetryCause = "5xx"     // 5xx or 408
	CauseTimeout RetryCause = "timeout" // no answer in time
	CauseReset   RetryCause = "reset"   // connection reset or cut short
	CauseRefused RetryCause = "refused" // connection refused
	CauseDNS     RetryCause = "dns"     // the host name did not resolve
	CauseTLS     RetryCause = "tls"     // the TLS handshake failed
	CauseNetwork RetryCause = "network" // any other failure below HTTP
)

// Stats are an instance's counters since its handle was made, for the metrics file.
type Stats struct {
	Requests        int64                // attempts sent
	TooManyRequests int64                // 429 answers
	Retries         map[RetryCause]int64 // attempts retried, by cause
	Pace            Pace                 // the pace now (see Limiter.Pace)
	Throttled       bool                 // requests are held for a pause or the pace now
	PausedUntil     time.Time            // the end of a Retry-After pause, zero if none
	Unreachable     bool                 // the breaker is open: requests fail at once
	LastAnswer      time.Time            // the last answer that was not a 429
}

// counters is the mutable part of Stats, kept by the Limiter under its mutex.
type counters struct {
	requests, tooMany int64
	retries           map[RetryCause]int64
}

func (c *counters) retry(cause RetryCause) {
	if c.retries == nil {
		c.retries = make(map[RetryCause]int64)
	}
	c.retries[cause]++
}

func (c *counters) snapshot() Stats {
	return Stats{Requests: c.requests, TooManyRequests: c.tooMany, Retries: maps.Clone(c.retries)}
}
