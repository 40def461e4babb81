package dockerstate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
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
	// CPUPercent is the container's CPU use over the sample's interval, in
	// percent of one CPU (200 is two CPUs busy), worked out as the docker
	// CLI does; HasCPU is false for a first sample, which has no interval.
	CPUPercent float64
	HasCPU     bool
	// MemoryBytes is the memory in use less the inactive page cache, as
	// `docker stats` shows it; HasMemory is false when the daemon sent no
	// memory figures.
	MemoryBytes uint64
	HasMemory   bool

	// The sample's network byte counters, summed over its networks.
	netRx, netTx uint64
	hasNet       bool
}

// StatsSet summarises the samples of one figure: their least, greatest,
// count and sum (the shape of telemetry's statistic sets).
type StatsSet struct {
	Min, Max, Sum float64
	Count         int
}

func (s *StatsSet) add(v float64) {
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Sum += v
	s.Count++
}

// Usage is what a container used over the samples taken since the last
// Drain: CPU in percent of one CPU, memory in MiB.
type Usage struct {
	CPUPercent, MemoryMiB StatsSet
}

// StatsStale is the age past which a sample no longer tells what its
// container uses now: the daemon sends one a second, so a sample this old
// means the stream is down (the daemon restarting) or silent. Readers that
// show current use (top, /metrics) treat such a sample as none, so an
// outage shows as a gap and not as the last figures before it.
const StatsStale = 10 * time.Second

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
	// usage holds each container's figures not yet drained.
	usage   map[string]*Usage
	streams map[string]context.CancelFunc
	wake    chan struct{}
}

// NewStats returns a sampler of d's running task containers.
func NewStats(d *Docker) *Stats {
	return &Stats{d: d, samples: map[string]*StatsSample{}, usage: map[string]*Usage{}, streams: map[string]context.CancelFunc{}, wake: make(chan struct{}, 1)}
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

// Drain returns what the container used since the last Drain of it (or
// since its stream opened) and starts a new period; ok is false when no
// sample with CPU and memory figures came in that time.
func (s *Stats) Drain(id string) (u Usage, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.usage[id]
	if p == nil || p.CPUPercent.Count == 0 {
		return Usage{}, false
	}
	u = *p
	*p = Usage{}
	return u, true
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
			delete(s.usage, id)
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
	delete(s.usage, id)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// stream reads samples from one streaming request until it ends.
func (s *Stats) stream(ctx context.Context, id string) error {
	// The request itself has no deadline (it streams); the watchdog
	// bounds the wait for each sample, the first as every later one: the
	// daemon sends one a second, and a stream that goes silent while its
	// container runs (a daemon wedged reading a cgroup) is ended and
	// opened again rather than left holding the last figures.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timeout := s.d.opts.CallTimeout
	watchdog := time.AfterFunc(timeout, cancel)
	silent := func() error {
		return fmt.Errorf("stats of container %s: no sample within %s", id, timeout)
	}
	res, err := s.d.api.ContainerStats(sctx, id, client.ContainerStatsOptions{Stream: true})
	if err != nil {
		if !watchdog.Stop() && ctx.Err() == nil {
			return silent()
		}
		return notFound(err, "stats of container "+id)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for {
		raw, err := nextSample(br)
		if !watchdog.Stop() && ctx.Err() == nil {
			return silent()
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read stats of container %s: %w", id, err)
		}
		s.record(id, raw)
		watchdog.Reset(timeout)
	}
}

// maxStatsSample bounds one sample document; the daemon's are a few KiB.
const maxStatsSample = 1 << 20

// nextSample reads the next sample of a stats stream, as its own copy. The
// daemon writes a JSON document a line (a json.Encoder), so a line is a
// sample: framing by newline spares a scan of every document on top of
// the one that reads it (with 200 streams, that scan was a third of the
// sampler's CPU). A line that is not JSON is left to record to refuse.
func nextSample(br *bufio.Reader) ([]byte, error) {
	var doc []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(doc)+len(frag) > maxStatsSample {
			return nil, fmt.Errorf("a stats sample of more than %d bytes", maxStatsSample)
		}
		doc = append(doc, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if d := bytes.TrimSpace(doc); len(d) > 0 && (err == nil || errors.Is(err, io.EOF)) {
			return d, nil // the last document may come without its newline
		}
		if err != nil {
			return nil, err
		}
		doc = doc[:0]
	}
}

// statsHead is what the sampler reads of a sample: its time, network
// counters (for the rate), CPU counters and memory figures.
type statsHead struct {
	Read     time.Time `json:"read"`
	PreRead  time.Time `json:"preread"`
	Networks map[string]struct {
		RxBytes uint64 `json:"rx_bytes"`
		TxBytes uint64 `json:"tx_bytes"`
	} `json:"networks"`
	CPU    cpuStats `json:"cpu_stats"`
	PreCPU cpuStats `json:"precpu_stats"`
	Memory struct {
		Usage uint64 `json:"usage"`
		// Only the two counters read: a map of all of them would be
		// allocated anew for every sample of every container.
		Stats struct {
			TotalInactiveFile *uint64 `json:"total_inactive_file"`
			InactiveFile      *uint64 `json:"inactive_file"`
		} `json:"stats"`
	} `json:"memory_stats"`
}

type cpuStats struct {
	Usage struct {
		Total uint64 `json:"total_usage"`
	} `json:"cpu_usage"`
	System uint64 `json:"system_cpu_usage"`
	Online uint32 `json:"online_cpus"`
}

// cpuPercent is the CPU use between the sample's two CPU readings, in
// percent of one CPU: the container's CPU time over the host's, times the
// host's CPUs, as the docker CLI reckons it, so that the figure matches
// `docker stats`.
func (h *statsHead) cpuPercent() (float64, bool) {
	if h.PreCPU.System == 0 || h.CPU.System <= h.PreCPU.System || h.CPU.Usage.Total < h.PreCPU.Usage.Total {
		return 0, false
	}
	cpus := float64(h.CPU.Online)
	if cpus == 0 {
		// Daemons before API 1.27 send no online_cpus; the CLI then
		// counts percpu_usage, which is the host's CPUs, as this is
		// (decoding that list would cost two slices a sample).
		cpus = float64(runtime.NumCPU())
	}
	if cpus == 0 {
		return 0, false
	}
	used := float64(h.CPU.Usage.Total - h.PreCPU.Usage.Total)
	return used / float64(h.CPU.System-h.PreCPU.System) * cpus * 100, true
}

// memoryBytes is the memory in use less the inactive file cache, which the
// kernel can reclaim at once: cgroup v1 names it total_inactive_file, v2
// inactive_file.
func (h *statsHead) memoryBytes() (uint64, bool) {
	if h.Memory.Usage == 0 {
		return 0, false
	}
	for _, v := range []*uint64{h.Memory.Stats.TotalInactiveFile, h.Memory.Stats.InactiveFile} {
		if v != nil && *v < h.Memory.Usage {
			return h.Memory.Usage - *v, true
		}
	}
	return h.Memory.Usage, true
}

// record keeps a sample, working out the network rate from the previous
// one that had network data.
func (s *Stats) record(id string, raw []byte) {
	var head statsHead
	if err := json.Unmarshal(raw, &head); err != nil || head.Read.IsZero() {
		return // a container that stopped answers zero samples
	}
	// raw is nextSample's own copy, not the reader's buffer: kept as it is.
	sm := &StatsSample{JSON: raw, Read: head.Read}
	sm.CPUPercent, sm.HasCPU = head.cpuPercent()
	sm.MemoryBytes, sm.HasMemory = head.memoryBytes()
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
	if sm.HasCPU && sm.HasMemory {
		u := s.usage[id]
		if u == nil {
			u = &Usage{}
			s.usage[id] = u
		}
		u.CPUPercent.add(sm.CPUPercent)
		u.MemoryMiB.add(float64(sm.MemoryBytes) / (1 << 20))
	}
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
