package systemd

import "github.com/coreos/go-systemd/v22/journal"

// StderrIsJournal reports whether this process's stderr is a stream to the
// systemd journal (JOURNAL_STREAM names its device and inode), as it is for
// a service whose StandardError is the journal, the default.
func StderrIsJournal() bool {
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok
}
