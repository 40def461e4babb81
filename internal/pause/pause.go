// Package pause holds the image of the container that keeps a task's shared
// namespaces alive: with pidMode or ipcMode "task", the task's containers
// join the PID or IPC namespace of one small container that does nothing
// but wait, as the ECS agent's pause container does. The agent makes the
// image itself, so it needs no registry and no download: one static program
// of a few dozen bytes of machine code, which waits for signals forever
// (as PID 1 it ignores SIGTERM; it is stopped with SIGKILL once the task's
// containers have stopped).
package pause

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
)

// Image is the local name of the pause image; no registry serves it.
const Image = "ecs-agent-pause:1"

// ContainerName is the pause container's name in the task, in its
// com.amazonaws.ecs.container-name label: the ECS agent's name for its
// own, which no container definition can take (names allow only letters,
// digits, hyphens and underscores).
const ContainerName = "~internal~ecs~pause"

// Entrypoint runs the program in the image.
var Entrypoint = []string{"/pause"}

// waitForever is, per architecture, the machine code of
//
//	loop: wait for a signal (pause(2) on amd64, ppoll(NULL, 0, NULL, NULL)
//	      on arm64, which has no pause); jump to loop
var waitForever = map[string]struct {
	machine uint16 // ELF e_machine
	code    []byte
}{
	"amd64": {62, []byte{
		0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
		0x0f, 0x05, // syscall
		0xeb, 0xf7, // jmp loop
	}},
	"arm64": {183, words(
		0xd2800000, // mov x0, #0
		0xd2800001, // mov x1, #0
		0xd2800002, // mov x2, #0
		0xd2800003, // mov x3, #0
		0xd2800928, // mov x8, #73 (ppoll)
		0xd4000001, // svc #0
		0x17fffffa, // b loop
	)},
}

func words(ws ...uint32) []byte {
	b := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// Program is the pause program for an architecture (GOARCH names): a
// static ELF executable of one loadable segment.
func Program(arch string) ([]byte, error) {
	p, ok := waitForever[arch]
	if !ok {
		return nil, fmt.Errorf("no pause program for architecture %s (amd64 and arm64 only)", arch)
	}
	const (
		base      = 0x400000
		ehdrSize  = 64
		phdrSize  = 56
		codeStart = ehdrSize + phdrSize
	)
	size := uint64(codeStart + len(p.code))
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* System V */})
	b.Write(make([]byte, 8))
	for _, v := range []any{
		uint16(2), p.machine, uint32(1), // executable, machine, version
		uint64(base + codeStart), uint64(ehdrSize), uint64(0), // entry, program headers, no section headers
		uint32(0), uint16(ehdrSize), uint16(phdrSize), uint16(1), uint16(0), uint16(0), uint16(0),
		// The one program header: load the whole file, readable and executable.
		uint32(1), uint32(5), uint64(0), uint64(base), uint64(base), size, size, uint64(0x1000),
	} {
		_ = binary.Write(&b, le, v) // a bytes.Buffer does not fail
	}
	b.Write(p.code)
	return b.Bytes(), nil
}

// RootFS is the image's root filesystem, for docker import: the program at
// /pause, for this host's architecture.
func RootFS() ([]byte, error) {
	prog, err := Program(runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(prog)), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(prog); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
