// Package report is the headless face of the engine: it turns engine events into log lines on
// stderr (text or JSON; page events rate-limited, repeated retries collapsed), and renders the
// run summary (--json) and the check's result (text or JSON). Like the console, it judges
// nothing: health comes from db.JudgeHealth, run status from db.DecideRunStatus; it only
// consumes events and renders results.
package report
