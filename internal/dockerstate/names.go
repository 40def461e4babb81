package dockerstate

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
)

// LabelsFor returns the Docker labels the ECS agent puts on a task's
// container; they are how the container is found again after a restart and
// what tools that read ECS containers (log routers, monitoring) expect.
func LabelsFor(taskARN, containerName, family string, revision int64, cluster string) map[string]string {
	return map[string]string{
		LabelTaskARN:        taskARN,
		LabelContainerName:  containerName,
		LabelTaskDefFamily:  family,
		LabelTaskDefVersion: strconv.FormatInt(revision, 10),
		LabelCluster:        cluster,
	}
}

// ContainerName returns a fresh Docker name for a task's container,
// ecs-<family>-<revision>-<name>-<20 hex digits>, as the ECS agent names
// them (people grep for these). The random suffix keeps the names of a
// task's successive containers apart; the labels, not the name, tie a
// container to its task. Like the ECS agent, it keeps only letters, digits
// and hyphens of the container name; it also drops from the family what
// Docker refuses in a name.
func ContainerName(family string, revision int64, name string) string {
	suffix := make([]byte, 10)
	_, _ = rand.Read(suffix) // crypto/rand.Read never fails
	return "ecs-" + keep(family, "_.-") + "-" + strconv.FormatInt(revision, 10) + "-" +
		keep(name, "-") + "-" + hex.EncodeToString(suffix)
}

// keep returns s with only ASCII letters, digits and the extra characters.
func keep(s, extra string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		case strings.ContainsRune(extra, r):
			return r
		}
		return -1
	}, s)
}
