package kaas

import "time"

// Reserve takes a token from l as of now, for tests.
func Reserve(l *Limiter, now time.Time) time.Duration {
	l.now = func() time.Time { return now }
	return l.reserve()
}
