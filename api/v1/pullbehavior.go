package v1

// PullBehavior is ECS_IMAGE_PULL_BEHAVIOR: when the agent pulls an image
// that a task needs. The values and their meaning are the ECS agent's
// ImagePullBehaviorType (agent/config/types.go), spelled as the ECS agent
// parses them (agent/config/parse.go, parseImagePullBehavior).
type PullBehavior string

// The ECS agent's image pull behaviours.
const (
	// PullDefault pulls, and uses the cached image if the pull fails.
	PullDefault PullBehavior = "default"
	// PullAlways pulls, and fails the task if the pull fails.
	PullAlways PullBehavior = "always"
	// PullOnce pulls only if no earlier task on this host pulled the image
	// (or cleanup removed it).
	PullOnce PullBehavior = "once"
	// PullPreferCached pulls only if there is no cached image.
	PullPreferCached PullBehavior = "prefer-cached"
)
