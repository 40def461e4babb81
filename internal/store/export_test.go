package store

import "time"

// SetWriteMode lets tests and benchmarks pick how writes reach bbolt:
// "hybrid" (the default), "solo" (DB.Update) or "batch" (DB.Batch).
func SetWriteMode(b *Bolt, mode string) {
	switch mode {
	case "hybrid":
		b.mode = writeHybrid
	case "solo":
		b.mode = writeSolo
	case "batch":
		b.mode = writeBatch
	default:
		panic("unknown write mode " + mode)
	}
}

// SetBatchDelay sets bbolt's MaxBatchDelay, to compare with its default.
func SetBatchDelay(b *Bolt, d time.Duration) { b.db.MaxBatchDelay = d }
