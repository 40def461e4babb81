package dockerstate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
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
		br := bufio.NewReader(bytes.NewReader(stream))
		for range 64 {
			raw, err := nextSample(br)
			if err != nil {
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

// TestNextSampleReadsADocumentALine: the stream's framing, including a
// document longer than the reader's buffer, blank lines, a last document
// without its newline, and a line past the bound (an error naming it, not
// a read of everything that follows).
func TestNextSampleReadsADocumentALine(t *testing.T) {
	long := `{"read":"` + strings.Repeat("x", 10000) + `"}`
	br := bufio.NewReaderSize(strings.NewReader("{\"a\":1}\n\n"+long+"\r\n{\"b\":2}"), 16)
	for _, want := range []string{`{"a":1}`, long, `{"b":2}`} {
		got, err := nextSample(br)
		if err != nil || string(got) != want {
			t.Fatalf("nextSample = %.40q, %v; want %.40q", got, err, want)
		}
	}
	if got, err := nextSample(br); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last document: %q, %v; want io.EOF", got, err)
	}
	huge := bufio.NewReader(strings.NewReader(strings.Repeat("y", maxStatsSample+1) + "\n{}\n"))
	if _, err := nextSample(huge); err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Fatalf("a line past the bound: %v; want an error naming the bound", err)
	}
}
