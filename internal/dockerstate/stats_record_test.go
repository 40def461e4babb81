package dockerstate

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkStatsRecord is the sampler's own work per sample, which it does
// once a second for every running container: decode the daemon's document
// from the stream and keep it with its CPU, memory and network figures.
// The document is one the daemon sent (testdata/stats-sample.json).
func BenchmarkStatsRecord(b *testing.B) {
	doc, err := os.ReadFile("testdata/stats-sample.json")
	if err != nil {
		b.Fatal(err)
	}
	s := &Stats{samples: map[string]*StatsSample{}, usage: map[string]*Usage{}, streams: map[string]context.CancelFunc{"c": func() {}}}
	stream := bytes.Repeat(append(doc, '\n'), 64)
	b.ReportAllocs()
	for b.Loop() {
		dec := json.NewDecoder(bytes.NewReader(stream))
		for range 64 {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				b.Fatal(err)
			}
			s.record("c", raw)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/sample")
}

func TestRecordKeepsCPUAndMemoryOfADaemonSample(t *testing.T) {
	doc, err := os.ReadFile("testdata/stats-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	s := &Stats{samples: map[string]*StatsSample{}, usage: map[string]*Usage{}, streams: map[string]context.CancelFunc{"c": func() {}}}
	s.record("c", doc)
	sm := s.samples["c"]
	if sm == nil || !sm.HasCPU || !sm.HasMemory || sm.MemoryBytes == 0 || !bytes.Equal(sm.JSON, doc) {
		t.Fatalf("sample %+v; want CPU, memory and the document as sent", sm)
	}
}
