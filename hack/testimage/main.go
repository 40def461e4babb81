// Command testapp is the one program inside the agent's test images: a tiny
// static binary that a FROM-scratch image runs, so tests need no registry.
//
//	testapp serve PORT [PORT…]   answer HTTP on each port ("ok <hostname>")
//	testapp udp PORT             echo UDP datagrams
//	testapp exit CODE [AFTER]    exit with CODE, after AFTER (a Go duration)
//	testapp sleep                run until signalled; exit 0 on SIGTERM
//	testapp ignore-term          run until SIGKILL (ignores SIGTERM)
//	testapp healthy-after D      run; "testapp check" succeeds once D passed
//	testapp healthy-for D        run; "testapp check" succeeds until D passed
//	testapp load MIB             hold MIB MiB of touched memory and keep one
//	                             CPU busy (as much of it as the cgroup allows)
//	testapp check [URL]          health check: exit 0 if healthy, 1 if not;
//	                             with URL, healthy means URL answers 200
//	testapp env                  print the environment, then sleep
//	testapp cat PATH             print PATH, then exit 0 (1 if missing)
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

const healthFile = "/tmp/healthy"

func main() {
	if len(os.Args) < 2 {
		fail("usage: testapp serve|udp|exit|sleep|ignore-term|healthy-after|healthy-for|load|check|env|cat …")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		host, _ := os.Hostname()
		for _, p := range args {
			go func() {
				err := http.ListenAndServe(":"+p, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					fmt.Fprintf(w, "ok %s\n", host)
				}))
				fail(err.Error())
			}()
		}
		waitTerm()
	case "udp":
		conn, err := net.ListenPacket("udp", ":"+arg(args, 0))
		if err != nil {
			fail(err.Error())
		}
		go func() {
			buf := make([]byte, 2048)
			for {
				n, addr, err := conn.ReadFrom(buf)
				if err != nil {
					return
				}
				conn.WriteTo(buf[:n], addr)
			}
		}()
		waitTerm()
	case "exit":
		code, err := strconv.Atoi(arg(args, 0))
		if err != nil {
			fail("exit: bad code " + arg(args, 0))
		}
		if len(args) > 1 {
			d, err := time.ParseDuration(args[1])
			if err != nil {
				fail("exit: bad duration " + args[1])
			}
			time.Sleep(d)
		}
		os.Exit(code)
	case "sleep":
		waitTerm()
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		// Not select{}: with no other goroutine the runtime sees a
		// deadlock and exits 2 at once.
		for {
			time.Sleep(time.Hour)
		}
	case "healthy-after":
		d, err := time.ParseDuration(arg(args, 0))
		if err != nil {
			fail("healthy-after: bad duration " + arg(args, 0))
		}
		os.MkdirAll("/tmp", 0o777)
		time.AfterFunc(d, func() { os.WriteFile(healthFile, []byte("ok"), 0o644) })
		waitTerm()
	case "healthy-for":
		d, err := time.ParseDuration(arg(args, 0))
		if err != nil {
			fail("healthy-for: bad duration " + arg(args, 0))
		}
		os.MkdirAll("/tmp", 0o777)
		os.WriteFile(healthFile, []byte("ok"), 0o644)
		time.AfterFunc(d, func() { os.Remove(healthFile) })
		waitTerm()
	case "load":
		mib, err := strconv.Atoi(arg(args, 0))
		if err != nil || mib < 0 {
			fail("load: bad MiB " + arg(args, 0))
		}
		held = make([]byte, mib<<20)
		for i := range held {
			held[i] = byte(i) // touched, so resident
		}
		go spin()
		waitTerm()
	case "check":
		if len(args) > 0 {
			os.Exit(checkURL(args[0]))
		}
		if _, err := os.Stat(healthFile); err != nil {
			os.Exit(1)
		}
	case "env":
		for _, e := range os.Environ() {
			fmt.Println(e)
		}
		waitTerm()
	case "cat":
		b, err := os.ReadFile(arg(args, 0))
		if err != nil {
			fail(err.Error())
		}
		os.Stdout.Write(b)
	default:
		fail("unknown command " + os.Args[1])
	}
}

// held is the load's memory, kept reachable so the collector keeps it.
var held []byte

// spin keeps one CPU busy.
func spin() {
	for n := uint64(0); ; n++ {
		if n == ^uint64(0) {
			runtime.Gosched()
		}
	}
}

// checkURL is a health check for a server: the image has no shell and no
// curl, so a task definition's healthCheck command runs this instead.
func checkURL(url string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testapp: check:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "testapp: check:", url, "answered", resp.Status)
		return 1
	}
	return 0
}

func arg(args []string, i int) string {
	if i >= len(args) {
		fail("missing argument")
	}
	return args[i]
}

// waitTerm blocks until SIGTERM or SIGINT, then exits 0, as a well-behaved
// service does.
func waitTerm() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	os.Exit(0)
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "testapp:", msg)
	os.Exit(2)
}
