package script

import (
	"testing"
	"time"
)

func TestFormatDate(t *testing.T) {
	at := time.Date(2013, time.December, 7, 15, 4, 5, 123e6, time.UTC)
	for pattern, want := range map[string]string{
		"yyyy-MM-dd'T'HH:mm:ss.SSSZ": "2013-12-07T15:04:05.123+0000",
		"dd/MMM/yyyy:HH:mm:ss Z":     "07/Dec/2013:15:04:05 +0000",
		"EEE, d MMMM yy h:mm a":      "Sat, 7 December 13 3:04 PM",
		"EEEE 'o''clock' ''":         "Saturday o'clock '",
		"yyyyMMddHHmmss":             "20131207150405",
		"XXX z D":                    "Z UTC 341",
	} {
		if got := formatDate(at, pattern); got != want {
			t.Errorf("formatDate(%q) = %q, want %q", pattern, got, want)
		}
	}
}
