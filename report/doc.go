// Package report is the headless face of the engine: it turns engine events into log lines on
// stderr (text or JSON, page events rate-limited), and prints the run summary and the --check
// result. Like the console, it only consumes events and reads results.
package report
