package controllers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// The reason a container gets when it was removed behind the agent's back:
// the ECS agent's DockerStateError, with this agent's wording after it.
const (
	reasonRemovedPrefix     = apiv1.DockerStateErrorName + ": container "
	reasonRemovedBehindBack = reasonRemovedPrefix + "%s was removed outside the agent"
)

// observe brings every container's status up to date with the Docker cache.
// A container is found by the id recorded in the status or, failing that, by
// the ECS labels: that is how a container created just before a crash, whose
// id never reached the store, is adopted instead of created twice.
func (t *taskRun) observe() {
	byName := map[string][]dockerstate.Container{}
	for _, c := range t.r.Docker.TaskContainers(t.task.Spec.Arn) {
		byName[c.ContainerName()] = append(byName[c.ContainerName()], c)
	}
	st := &t.task.Status
	mayCreate := st.KnownStatus != apiv1.StatusStopped && st.StoppingReason == "" && t.task.Spec.DesiredStatus != apiv1.StatusStopped
	for _, spec := range t.task.Spec.Containers {
		cs := st.ContainerStatusFor(spec.Name)
		if cs == nil {
			st.Containers = append(st.Containers, apiv1.ContainerStatus{Name: spec.Name, KnownStatus: apiv1.StatusNone})
			cs = &st.Containers[len(st.Containers)-1]
		}
		if cs.MetadataID == "" && cs.DockerID == "" {
			// Its environment will name it: it must be stored before
			// the container is created (syncRunning stores it first).
			cs.MetadataID = uuid.NewString()
			t.unstored = true
		}
		if cs.DockerName == "" && cs.DockerID == "" && cs.KnownStatus != apiv1.StatusStopped && mayCreate {
			// The name a create is found again by (see create), given
			// now so that it is stored in the same write as the
			// metadata id rather than in one of its own.
			cs.DockerName = dockerstate.ContainerName(t.task.Spec.Family, t.task.Spec.Revision, spec.Name)
			t.unstored = true
		}
		dc, ok := t.findContainer(cs, byName[spec.Name])
		if ok {
			t.applyDocker(cs, &dc)
			continue
		}
		if cs.DockerID != "" && st.KnownStatus != apiv1.StatusStopped {
			t.removedOutside(cs)
		}
	}
}

// removedOutside records that someone else removed the container. `docker rm
// -f` kills it first, so its exit may have been seen already: the removal is
// still the better reason.
func (t *taskRun) removedOutside(cs *apiv1.ContainerStatus) {
	if cs.KnownStatus == apiv1.StatusStopped && isRemovedReason(cs.Reason) {
		return
	}
	if cs.KnownStatus != apiv1.StatusStopped {
		cs.KnownStatus = apiv1.StatusStopped
		cs.FinishedAt = microTime(t.now)
	}
	cs.Reason = fmt.Sprintf(reasonRemovedBehindBack, cs.DockerName)
	t.log.Info("container removed outside the agent", "container", cs.Name, "dockerId", cs.DockerID)
	t.event(apiv1.EventWarning, "ContainerRemoved", "container %s (%s) was removed outside the agent", cs.Name, short(cs.DockerID))
}

func isRemovedReason(reason string) bool {
	return strings.HasPrefix(reason, reasonRemovedPrefix)
}

// findContainer picks the Docker container backing a status entry. If a crash
// ever left two containers for one definition, the one already recorded wins,
// else the oldest; the others are left for cleanup, never started.
func (t *taskRun) findContainer(cs *apiv1.ContainerStatus, candidates []dockerstate.Container) (dockerstate.Container, bool) {
	if cs.DockerID != "" {
		if dc, ok := t.r.Docker.Container(cs.DockerID); ok {
			return dc, true
		}
		return dockerstate.Container{}, false
	}
	if len(candidates) == 0 {
		return dockerstate.Container{}, false
	}
	for _, c := range candidates {
		if cs.DockerName != "" && c.Name == cs.DockerName {
			// The container created under the name persisted for it.
			return c, true
		}
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].CreatedAt.Before(candidates[j].CreatedAt) })
	if len(candidates) > 1 {
		t.log.Info("more than one container for one definition; adopting the oldest", "container", cs.Name, "count", len(candidates))
	}
	return candidates[0], true
}

// applyDocker copies what Docker says of a container into its status.
func (t *taskRun) applyDocker(cs *apiv1.ContainerStatus, dc *dockerstate.Container) {
	cs.DockerID = dc.ID
	cs.DockerName = dc.Name
	cs.ImageID = dc.ImageID
	if cs.CreatedAt == nil && !dc.CreatedAt.IsZero() {
		cs.CreatedAt = microTime(dc.CreatedAt)
	}
	if !dc.StartedAt.IsZero() && (cs.StartedAt == nil || cs.StartedAt.Time.Before(dc.StartedAt)) {
		cs.StartedAt = microTime(dc.StartedAt)
	}
	if len(dc.Ports) > 0 {
		cs.Ports = cs.Ports[:0]
		for _, p := range dc.Ports {
			cs.Ports = append(cs.Ports, apiv1.PortBinding{ContainerPort: p.ContainerPort, HostPort: p.HostPort, Protocol: p.Protocol, BindIP: p.HostIP})
		}
	}
	if len(dc.Mounts) > 0 {
		cs.Volumes = cs.Volumes[:0]
		for _, m := range dc.Mounts {
			cs.Volumes = append(cs.Volumes, apiv1.VolumeMount{DockerName: m.Name, Source: m.Source, Destination: m.Target})
		}
	}
	if dc.Health != "" {
		t.applyHealth(cs, dc)
	}
	switch dc.State {
	case dockerstate.StateCreated:
		if cs.KnownStatus != apiv1.StatusStopped {
			cs.KnownStatus = apiv1.StatusCreated
		}
	case dockerstate.StateRunning, dockerstate.StateRestarting, dockerstate.StatePaused:
		cs.KnownStatus = apiv1.StatusRunning
		cs.ExitCode = nil
		cs.FinishedAt = nil
	case dockerstate.StateExited, dockerstate.StateDead:
		t.applyExit(cs, dc)
	case dockerstate.StateRemoving:
		t.applyExit(cs, dc)
		// The agent removes containers only of STOPPED tasks.
		if t.task.Status.KnownStatus != apiv1.StatusStopped {
			t.removedOutside(cs)
		}
	}
}

func (t *taskRun) applyExit(cs *apiv1.ContainerStatus, dc *dockerstate.Container) {
	if cs.KnownStatus == apiv1.StatusStopped && cs.ExitCode != nil {
		return
	}
	code := int32(dc.ExitCode)
	cs.ExitCode = &code
	cs.KnownStatus = apiv1.StatusStopped
	if !dc.FinishedAt.IsZero() {
		cs.FinishedAt = microTime(dc.FinishedAt)
	} else {
		cs.FinishedAt = microTime(t.now)
	}
	switch {
	case dc.OOMKilled:
		cs.Reason = apiv1.ReasonOutOfMemory
	case dc.Error != "":
		cs.Reason = dc.Error
	}
	t.log.V(1).Info("container exited", "container", cs.Name, "exitCode", code)
	t.event(apiv1.EventNormal, "ContainerExited", "container %s exited with code %d", cs.Name, code)
}

func (t *taskRun) applyHealth(cs *apiv1.ContainerStatus, dc *dockerstate.Container) {
	status := apiv1.HealthUnknown
	switch dc.Health {
	case "healthy":
		status = apiv1.HealthHealthy
	case "unhealthy":
		status = apiv1.HealthUnhealthy
	}
	if cs.Health != nil && cs.Health.Status == status {
		return
	}
	cs.Health = &apiv1.HealthStatus{Status: status, Output: dc.HealthOutput, Since: microTime(t.now)}
	if status != apiv1.HealthUnknown {
		t.event(apiv1.EventNormal, "Health", "container %s is %s", cs.Name, status)
	}
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
