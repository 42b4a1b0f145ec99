package loadtest

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Server answers every request after Latency; one request in every
// FailEvery (when set) gets a 503, so that a test knows its error rate
// (within the requests cut off when the run ends).
// It stands in for a stack's hosts in tests and local trials.
type Server struct {
	Latency   time.Duration
	FailEvery int64
	count     atomic.Int64
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.count.Add(1)
	select {
	case <-time.After(s.Latency):
	case <-r.Context().Done():
		return
	}
	if s.FailEvery > 0 && n%s.FailEvery == 0 {
		http.Error(w, "injected failure", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}
