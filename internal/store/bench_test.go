package store_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/store/storetest"
)

// benchModes are the write paths compared: one fsync per write (solo),
// bbolt's Batch with its default 10ms delay and with our 2ms, and the
// group commit (the default).
var benchModes = []struct {
	name  string
	delay time.Duration
}{{"solo", 0}, {"batch-10ms", 10 * time.Millisecond}, {"batch", 0}, {"group", 0}}

func openBench(b *testing.B, mode string, delay time.Duration) *store.Bolt {
	s, _ := openTemp(b)
	store.SetWriteMode(s, strings.TrimSuffix(mode, "-10ms"))
	if delay > 0 {
		store.SetBatchDelay(s, delay)
	}
	return s
}

// BenchmarkConcurrentUpdates is the start-up storm: 50 reconcilers each
// writing their own task's status at once. ns/op is per update across all
// of them; "solo" pays one fsync per write, "batch" and "group" share.
func BenchmarkConcurrentUpdates(b *testing.B) {
	const writers = 50
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			s := openBench(b, mode.name, mode.delay)
			for i := range writers {
				storetest.MustCreate(b, s, storetest.NewTask("t"+strconv.Itoa(i)))
			}
			var next atomic.Int64
			b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				task := storetest.NewTask("t" + strconv.FormatInt(next.Add(1)-1, 10))
				if err := s.Get(context.Background(), task.Name, task); err != nil {
					b.Error(err)
					return
				}
				for n := 0; pb.Next(); n++ {
					task.Status.StoppedReason = strconv.Itoa(n)
					if err := s.Update(context.Background(), task); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
		})
	}
}

// BenchmarkSerialUpdates is one writer alone: the latency a lone
// reconciler sees, where waiting for a batch only costs.
func BenchmarkSerialUpdates(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			s := openBench(b, mode.name, mode.delay)
			task := storetest.NewTask("t")
			storetest.MustCreate(b, s, task)
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				task.Status.StoppedReason = strconv.Itoa(n)
				if err := s.Update(context.Background(), task); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
