package dockerstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// StatsSample is the latest Docker stats sample of one container.
type StatsSample struct {
	// JSON is the daemon's stats document, as it sent it: the task
	// metadata endpoint serves it unchanged.
	JSON []byte
	// Read is when the daemon took the sample.
	Read time.Time
	// NetworkRate is bytes per second received and sent over the last two
	// samples that had network data; HasNetworkRate is false before there
	// were two (and always for a container without networks of its own).
	RxBytesPerSec, TxBytesPerSec float64
	HasNetworkRate               bool

	// The sample's network byte counters, summed over its networks.
	netRx, netTx uint64
	hasNet       bool
}

// statsRetry is how long a container's stream waits before it is opened
// again after it failed while the container still runs.
const statsRetry = 2 * time.Second

// Stats keeps the latest stats sample of every running task container,
// from one streaming stats request per container (the daemon pushes a
// sample a second on each): the task metadata endpoint's /stats and, later,
// telemetry read it, so the daemon is asked once whoever asks. Streams
// follow the cache: opened when a container starts running, closed when it
// stops or goes. Create it with NewStats and run it with Run.
type Stats struct {
	d *Docker

	mu      sync.RWMutex
	samples map[string]*StatsSample
	streams map[string]context.CancelFunc
	wake    chan struct{}
}

// NewStats returns a sampler of d's running task containers.
func NewStats(d *Docker) *Stats {
	return &Stats{d: d, samples: map[string]*StatsSample{}, streams: map[string]context.CancelFunc{}, wake: make(chan struct{}, 1)}
}

// Sample returns the container's latest sample; ok is false before the
// first one (or when the container runs no more).
func (s *Stats) Sample(id string) (StatsSample, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sm, ok := s.samples[id]
	if !ok {
		return StatsSample{}, false
	}
	return *sm, true
}

// Streams is how many stats streams are open.
func (s *Stats) Streams() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.streams)
}

// Run keeps one stream per running task container until ctx ends.
func (s *Stats) Run(ctx context.Context) error {
	cancel := s.d.Subscribe(func(ch Change) {
		if ch.Kind == ImageChanged {
			return
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	})
	defer cancel()
	tick := time.NewTicker(s.d.opts.RelistInterval)
	defer tick.Stop()
	for {
		s.sync(ctx)
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for id, stop := range s.streams {
				stop()
				delete(s.streams, id)
			}
			s.mu.Unlock()
			return nil
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// sync opens a stream for each running container that has none and
// closes those of containers that run no more.
func (s *Stats) sync(ctx context.Context) {
	running := map[string]bool{}
	for _, c := range s.d.Containers() {
		if c.State == StateRunning {
			running[c.ID] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, stop := range s.streams {
		if !running[id] {
			stop()
			delete(s.streams, id)
			delete(s.samples, id)
		}
	}
	for id := range running {
		if _, ok := s.streams[id]; !ok {
			sctx, stop := context.WithCancel(ctx)
			s.streams[id] = stop
			go s.follow(sctx, id)
		}
	}
}

// follow reads one container's stream until ctx ends, opening it again
// when the daemon ends it while the container still runs.
func (s *Stats) follow(ctx context.Context, id string) {
	for ctx.Err() == nil {
		err := s.stream(ctx, id)
		if ctx.Err() != nil {
			return
		}
		if c, ok := s.d.Container(id); !ok || c.State != StateRunning {
			s.forget(id)
			return
		}
		s.d.log.V(1).Info("stats stream ended; opening it again", "container", id, "error", errString(err))
		t := time.NewTimer(statsRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// forget drops a container whose stream ended with the container, unless
// a newer stream took its place.
func (s *Stats) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stop, ok := s.streams[id]; ok {
		stop()
		delete(s.streams, id)
	}
	delete(s.samples, id)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// stream reads samples from one streaming request until it ends.
func (s *Stats) stream(ctx context.Context, id string) error {
	// The request itself has no deadline (it streams); the watchdog
	// bounds the wait for its first bytes, as for the events stream.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchdog := time.AfterFunc(s.d.opts.CallTimeout, cancel)
	res, err := s.d.api.ContainerStats(sctx, id, client.ContainerStatsOptions{Stream: true})
	if err != nil {
		watchdog.Stop()
		return notFound(err, "stats of container "+id)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for first := true; ; first = false {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			watchdog.Stop()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read stats of container %s: %w", id, err)
		}
		if first && !watchdog.Stop() {
			return fmt.Errorf("stats of container %s: no sample within %s", id, s.d.opts.CallTimeout)
		}
		s.record(id, raw)
	}
}

// statsHead is what the sampler reads of a sample: its time and network
// counters, for the rate.
type statsHead struct {
	Read     time.Time `json:"read"`
	Networks map[string]struct {
		RxBytes uint64 `json:"rx_bytes"`
		TxBytes uint64 `json:"tx_bytes"`
	} `json:"networks"`
}

// record keeps a sample, working out the network rate from the previous
// one that had network data.
func (s *Stats) record(id string, raw json.RawMessage) {
	var head statsHead
	if err := json.Unmarshal(raw, &head); err != nil || head.Read.IsZero() {
		return // a container that stopped answers zero samples
	}
	sm := &StatsSample{JSON: bytes.Clone(raw), Read: head.Read}
	var rx, tx uint64
	for _, n := range head.Networks {
		rx += n.RxBytes
		tx += n.TxBytes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, open := s.streams[id]; !open {
		return
	}
	prev := s.samples[id]
	s.samples[id] = sm
	if len(head.Networks) == 0 {
		return
	}
	sm.netRx, sm.netTx, sm.hasNet = rx, tx, true
	if prev != nil && prev.hasNet && rx >= prev.netRx && tx >= prev.netTx {
		if dt := head.Read.Sub(prev.Read).Seconds(); dt > 0 {
			sm.RxBytesPerSec = float64(rx-prev.netRx) / dt
			sm.TxBytesPerSec = float64(tx-prev.netTx) / dt
			sm.HasNetworkRate = true
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
