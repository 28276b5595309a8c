// Package human renders times and durations for people, the same way in every face of the
// program (the console, the log, --check, notifications, error messages).
package human

import (
	"fmt"
	"strings"
	"time"
)

// Age renders how long ago something happened, coarsely, so that a list of ages does not
// change every second: "45s", "3m", "5h" (up to two days), then "18d". Negative ages (clock
// skew) read as "0s".
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// Since renders the age of at by now, or "never" when at is nil.
func Since(at *time.Time, now time.Time) string {
	if at == nil {
		return "never"
	}
	return Age(now.Sub(*at))
}

// Duration renders how long something took, compactly: "850ms", "7.9s", "42s", "3m05s",
// "1h02m".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second && d%time.Second == 0:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// Clock renders an elapsed time as m:ss or h:mm:ss.
func Clock(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// Setting renders a configured duration as an operator typed it: "24h" rather than
// "24h0m0s", "1h30m" rather than "1h30m0s".
func Setting(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
