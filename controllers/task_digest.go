package controllers

import (
	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// resolveDigest records the digest of the container's image when the task
// first finds it on the host. With versionConsistency enabled that is the
// task's earlier resolution of the same image reference when there is one,
// so that every such container of the task runs the same content; else,
// and with it disabled, the digest of the image the reference names now.
func (t *taskRun) resolveDigest(c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus, img *dockerstate.Image) {
	if cs.ImageDigest != "" {
		return
	}
	if !c.VersionConsistencyDisabled {
		for i := range t.task.Spec.Containers {
			other := &t.task.Spec.Containers[i]
			if other.Image != c.Image || other.VersionConsistencyDisabled {
				continue
			}
			if ocs := t.task.Status.ContainerStatusFor(other.Name); ocs != nil && ocs.ImageDigest != "" {
				cs.ImageDigest = ocs.ImageDigest
				return
			}
		}
	}
	cs.ImageDigest = img.RepoDigest(c.Image)
}

// imageToCreate is the image reference the container is created from: its
// pinned digest, unless the definition turned versionConsistency off or the
// image has no registry digest (one built on this host).
func imageToCreate(c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) string {
	if c.VersionConsistencyDisabled || cs.ImageDigest == "" {
		return c.Image
	}
	return dockerstate.PinnedReference(c.Image, cs.ImageDigest)
}
