// Package sim is a simulated Email Bison fleet served over real loopback HTTP.
//
// It speaks the API the way production does, unpleasant parts included (CONTRACT.md,
// section 1): at most 15 rows a page whatever per_page says, Laravel envelopes with escaped
// slashes and \u-escaped non-ASCII text, super-admin keys whose selected workspace is
// server-side state read when the response is written (so interleaved use of one key
// returns the other workspace's rows), accounts added and removed while a workspace is
// being paged, rate limits, and a catalogue of faults (5xx, 429, hangs, resets, HTML and
// truncated bodies).
//
// A fleet is data ([Fleet], [IncidentFleet], [GenerateFleet]); a [Server] serves it and
// offers knobs that tests turn while it serves: faults, drift, rate limits, latency and
// direct mutation of the ground truth, plus a request log to check what a client did.
//
// Accounts of large fleets are not stored: a page is generated on demand from a
// deterministic function of (seed, workspace, index), so a fleet of a million accounts
// costs a few megabytes. A workspace is copied into memory only when a test mutates it in
// a way the generator cannot express.
//
// The simulator encodes its JSON on its own and shares no code with the client, so a test
// of the client against it checks the client, not an agreement between two halves of the
// same mistake.
package sim
