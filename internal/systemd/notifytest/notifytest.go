// Package notifytest plays systemd's side of the service notification
// protocol in tests: a datagram socket to hand to the agent as
// NOTIFY_SOCKET, and the messages sent to it.
package notifytest

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

// Message is one datagram sent to the socket ("READY=1\nSTATUS=ready").
type Message struct {
	Text string
	At   time.Time
}

// Listen opens a notify socket in a temporary directory of tb, closed when
// the test ends, and returns its path and its messages in order. Each
// message is passed to arrived (when not nil) as soon as it is read, before
// it is queued: the moment to look at what else holds when it is sent.
func Listen(tb testing.TB, arrived func(Message)) (string, <-chan Message) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		tb.Fatalf("notify socket: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	msgs := make(chan Message, 1000)
	go func() {
		defer close(msgs)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			m := Message{Text: string(buf[:n]), At: time.Now()}
			if arrived != nil {
				arrived(m)
			}
			msgs <- m
		}
	}()
	return path, msgs
}
