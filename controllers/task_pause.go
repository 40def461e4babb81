package controllers

import (
	"bytes"
	"context"
	"fmt"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/pause"
)

// sharesNamespaces reports whether the task's containers share a PID or
// IPC namespace (pidMode or ipcMode "task"), which a pause container holds.
func sharesNamespaces(spec *apiv1.TaskSpec) bool {
	return spec.PidMode == "task" || spec.IpcMode == "task"
}

// pauseContainer finds the task's pause container by its labels, as every
// other container of the task is found: the one running, else any.
func (t *taskRun) pauseContainer() (dockerstate.Container, bool) {
	var found dockerstate.Container
	ok := false
	for _, dc := range t.r.Docker.TaskContainers(t.task.Spec.Arn) {
		if dc.ContainerName() != pause.ContainerName {
			continue
		}
		if !ok || dc.State == dockerstate.StateRunning {
			found, ok = dc, true
		}
	}
	return found, ok
}

// ensurePause makes and starts the pause container whose namespaces the
// task's containers join, and returns its id. The pause image is made on
// the host the first time (internal/pause). A pause container that cannot
// be made is the task's stop reason.
func (t *taskRun) ensurePause(ctx context.Context) (id, reason string, err error) {
	fail := func(err error) (string, string, error) {
		if dockerstate.IsTransient(err) {
			return "", "", fmt.Errorf("pause container of task %s: %w", t.task.Name, err)
		}
		return "", fmt.Sprintf("%s: the pause container that holds the task's shared namespaces: %v", apiv1.CannotCreateContainerErrorName, err), nil
	}
	dc, ok := t.pauseContainer()
	if !ok {
		if err := t.ensurePauseImage(ctx); err != nil {
			return fail(err)
		}
		spec := &t.task.Spec
		cfg := dockerstate.CreateConfig{
			Name:        dockerstate.ContainerName(spec.Family, spec.Revision, pause.ContainerName),
			Image:       pause.Image,
			EntryPoint:  pause.Entrypoint,
			Labels:      dockerstate.LabelsFor(spec.Arn, pause.ContainerName, spec.Family, spec.Revision, t.r.Opts.Cluster),
			NetworkMode: apiv1.NetworkModeNone, // it holds no network: each container keeps the task's mode
			Resources:   dockerstate.Resources{CPUShares: minimumCPUShares},
		}
		if spec.IpcMode == "task" {
			cfg.IpcMode = "shareable"
		}
		if dc, err = t.r.Docker.CreateContainer(ctx, cfg); err != nil {
			return fail(err)
		}
		t.event(apiv1.EventNormal, "Created", "created the pause container (%s) for the task's shared namespaces", short(dc.ID))
	}
	if dc.State != dockerstate.StateRunning {
		if err := t.r.Docker.StartContainer(ctx, dc.ID); err != nil {
			return fail(err)
		}
	}
	return dc.ID, "", nil
}

func (t *taskRun) ensurePauseImage(ctx context.Context) error {
	if _, ok, err := t.r.Docker.ImagePresent(ctx, pause.Image); err != nil || ok {
		return err
	}
	root, err := pause.RootFS()
	if err != nil {
		return err
	}
	return t.r.Docker.ImportImage(ctx, pause.Image, bytes.NewReader(root), pause.Entrypoint)
}

// stopPause kills the task's pause container once the task's containers
// have stopped: killing it first would kill every process of a shared PID
// namespace at once, without their stop timeout. As PID 1 it ignores
// SIGTERM, so it gets SIGKILL.
func (t *taskRun) stopPause(ctx context.Context) error {
	dc, ok := t.pauseContainer()
	if !ok || dc.State != dockerstate.StateRunning {
		return nil
	}
	err := t.r.Docker.SignalContainer(ctx, dc.ID, "SIGKILL")
	if dockerstate.IsTransient(err) {
		return fmt.Errorf("stop the pause container of task %s: %w", t.task.Name, err)
	}
	// Otherwise it is gone or stopped since the cache saw it running.
	return nil
}
