package human

import (
	"testing"
	"time"
)

func TestAge(t *testing.T) {
	for _, tc := range []struct {
		age  time.Duration
		want string
	}{{-time.Second, "0s"}, {45 * time.Second, "45s"}, {3 * time.Minute, "3m"}, {5 * time.Hour, "5h"},
		{47 * time.Hour, "47h"}, {48 * time.Hour, "2d"}, {18 * 24 * time.Hour, "18d"}} {
		if got := Age(tc.age); got != tc.want {
			t.Errorf("Age(%s) = %q, want %q", tc.age, got, tc.want)
		}
	}
	now := time.Now()
	if got := Since(nil, now); got != "never" {
		t.Errorf("Since(nil) = %q", got)
	}
	then := now.Add(-90 * time.Minute)
	if got := Since(&then, now); got != "1h" {
		t.Errorf("Since(90m ago) = %q", got)
	}
}

func TestDurationClockSetting(t *testing.T) {
	for _, tc := range []struct {
		d                     time.Duration
		duration, clock, sett string
	}{
		{850 * time.Millisecond, "850ms", "0:01", "850ms"},
		{7900 * time.Millisecond, "7.9s", "0:08", "7.9s"},
		{3*time.Minute + 5*time.Second, "3m05s", "3:05", "3m5s"},
		{62 * time.Minute, "1h02m", "1:02:00", "1h2m"},
		{24 * time.Hour, "24h00m", "24:00:00", "24h"},
	} {
		if got := Duration(tc.d); got != tc.duration {
			t.Errorf("Duration(%s) = %q, want %q", tc.d, got, tc.duration)
		}
		if got := Clock(tc.d); got != tc.clock {
			t.Errorf("Clock(%s) = %q, want %q", tc.d, got, tc.clock)
		}
		if got := Setting(tc.d); got != tc.sett {
			t.Errorf("Setting(%s) = %q, want %q", tc.d, got, tc.sett)
		}
	}
}
