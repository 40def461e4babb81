package store_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/store/storetest"
)

// crashDBEnv carries the store path to the child that gets killed.
const crashDBEnv = "STORE_CRASH_CHILD_DB"

// TestKill9KeepsEveryAcknowledgedWrite runs writers in a child process,
// SIGKILLs it mid-stream, and checks that every write the child saw
// return nil is in the file: several rounds on the same file, so recovery
// after a kill is itself killed.
func TestKill9KeepsEveryAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const rounds, acksPerRound = 3, 300
	path := filepath.Join(t.TempDir(), "agent.db")
	created, updated := map[string]bool{}, map[string]bool{}
	record := func(line string) {
		if name, ok := strings.CutPrefix(line, "created "); ok {
			created[name] = true
		} else if name, ok := strings.CutPrefix(line, "updated "); ok {
			updated[name] = true
		}
	}
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDBEnv+"="+path, "STORE_CRASH_ROUND="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		deadline := time.After(60 * time.Second)
		for acks := 0; acks < acksPerRound; {
			select {
			case line, ok := <-lines:
				if !ok {
					_ = cmd.Wait()
					t.Fatalf("round %d: child ended after %d acks: %s", round, acks, stderr.String())
				}
				if strings.HasPrefix(line, "created ") || strings.HasPrefix(line, "updated ") {
					acks++
				} else {
					t.Logf("child: %s", line)
				}
				record(line)
			case <-deadline:
				_ = cmd.Process.Kill()
				t.Fatalf("round %d: only %d acks in 60s: %s", round, acks, stderr.String())
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatalf("kill child: %v", err)
		}
		for line := range lines { // what the child printed before it died
			record(line)
		}
		_ = cmd.Wait()
	}

	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	for name := range created {
		var task apiv1.Task
		if err := s.Get(context.Background(), name, &task); err != nil {
			t.Errorf("acknowledged create of %s lost: %v", name, err)
			continue
		}
		if updated[name] && task.Status.StoppedReason != "acked" {
			t.Errorf("acknowledged update of %s lost: status %q", name, task.Status.StoppedReason)
		}
	}
	t.Logf("%d creates and %d updates acknowledged over %d kills, all present", len(created), len(updated), rounds)
}

// TestCrashChild is the child of TestKill9KeepsEveryAcknowledgedWrite:
// four writers create and update tasks and print each name once the write
// has returned, until they are killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("helper process for TestKill9KeepsEveryAcknowledgedWrite")
	}
	ctx := context.Background()
	s, err := store.Open(path, store.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var printMu sync.Mutex
	ack := func(verb, name string) {
		printMu.Lock()
		defer printMu.Unlock()
		fmt.Printf("%s %s\n", verb, name)
	}
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				task := storetest.NewTask(fmt.Sprintf("r%s-w%d-%d", os.Getenv("STORE_CRASH_ROUND"), w, i))
				if err := s.Create(ctx, task); err != nil {
					fmt.Fprintln(os.Stderr, "create:", err)
					os.Exit(3)
				}
				ack("created", task.Name)
				task.Status.StoppedReason = "acked"
				if err := s.Update(ctx, task); err != nil {
					fmt.Fprintln(os.Stderr, "update:", err)
					os.Exit(3)
				}
				ack("updated", task.Name)
			}
		}()
	}
	// The parent kills us; this only stops an orphan.
	time.Sleep(2 * time.Minute)
	os.Exit(4)
}
