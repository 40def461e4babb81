package store

import "time"

// SetWriteMode lets tests and benchmarks pick how writes reach bbolt:
// "group" (the default, group.go), "solo" (DB.Update) or "batch"
// (DB.Batch).
func SetWriteMode(b *Bolt, mode string) {
	switch mode {
	case "group":
		b.mode = writeGroup
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

// QueuedWrites is how many writes wait for the group commit in flight.
func QueuedWrites(b *Bolt) int {
	b.group.mu.Lock()
	defer b.group.mu.Unlock()
	return len(b.group.queue)
}
