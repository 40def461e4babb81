package taskmetadata

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Rate requests a second, bursts of Burst.
type Limit struct {
	Rate  float64
	Burst int
}

// DefaultLimit is the ECS agent's ECS_TASK_METADATA_RPS_LIMIT default.
var DefaultLimit = Limit{Rate: 40, Burst: 60}

// The ECS agent's answer once a bucket is empty (tollbooth's defaults).
const (
	limitMessage     = "You have reached maximum request limit."
	limitContentType = "text/plain; charset=utf-8"
)

// bucketIdle is how long an unused bucket is kept; one idle that long is
// full again anyway.
const bucketIdle = time.Minute

// limiter keeps one bucket per client IP and path, as the ECS agent's
// tollbooth limiter does. Host-network containers all share the host's
// IP, so they share buckets.
type limiter struct {
	limit Limit

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	*rate.Limiter
	used time.Time
}

func newLimiter(l Limit) *limiter {
	return &limiter{limit: l, buckets: map[string]*bucket{}}
}

// wrap answers 429 with the ECS agent's text once the caller's bucket for
// the path is empty, and sets tollbooth's X-Rate-Limit-* headers on every
// answer.
func (l *limiter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Rate-Limit-Limit", fmt.Sprintf("%.2f", l.limit.Rate))
		h.Set("X-Rate-Limit-Duration", "1")
		if ff := r.Header.Get("X-Forwarded-For"); strings.TrimSpace(ff) != "" {
			h.Set("X-Rate-Limit-Request-Forwarded-For", ff)
		}
		h.Set("X-Rate-Limit-Request-Remote-Addr", r.RemoteAddr)
		if !l.allow(clientIP(r) + r.URL.Path) {
			h.Set("Content-Type", limitContentType)
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(limitMessage))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (l *limiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{Limiter: rate.NewLimiter(rate.Limit(l.limit.Rate), l.limit.Burst)}
		l.buckets[key] = b
	}
	b.used = now
	l.mu.Unlock()
	return b.AllowN(now, 1)
}

// sweep drops idle buckets until ctx ends, so that callers that come and
// go (containers, paths with their ids) do not pile up.
func (l *limiter) sweep(ctx context.Context) {
	t := time.NewTicker(bucketIdle)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			l.mu.Lock()
			for k, b := range l.buckets {
				if now.Sub(b.used) > bucketIdle {
					delete(l.buckets, k)
				}
			}
			l.mu.Unlock()
		}
	}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
