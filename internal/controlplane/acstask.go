package controlplane

import (
	"encoding/json"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/acs"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
)

// acsTaskSpec turns a task pushed over ACS into the agent's TaskSpec.
//
// ACS sends the definition in its own shape: the members the ACS Container
// has, and the rest (labels, user, health check, log configuration,
// ulimits, memory reservation, …) as Docker Engine JSON in dockerConfig,
// which the ECS agent merges over the container config it builds. Here the
// two are put back together as the register-task-definition JSON that
// static files and polled definitions are, dockerConfig's values winning,
// and parsed by internal/taskdef: one set of rules for what the agent can
// run, whatever the source. A task the agent cannot run gets a
// DefinitionError (reported STOPPED with it), never a crash.
func acsTaskSpec(t acs.Task, cluster string) apiv1.TaskSpec {
	spec := apiv1.TaskSpec{}
	def, err := acsDefinition(t)
	if err == nil {
		var data []byte
		if data, err = json.Marshal(def); err == nil {
			var parsed *taskdef.Definition
			if parsed, err = taskdef.Parse(t.Arn, data); err == nil {
				spec = parsed.Spec
			}
		}
	}
	if err != nil {
		spec.DefinitionError = err.Error()
	}
	spec.Arn = t.Arn
	spec.Family = t.Family
	spec.Revision, _ = strconv.ParseInt(t.Version, 10, 64)
	spec.Cluster = cluster
	spec.Source = apiv1.SourceECS
	spec.SourceRef = taskDefinitionARN(t)
	spec.DesiredStatus = desiredStatus(t.DesiredStatus)
	if t.RoleCredentials != nil {
		spec.TaskRoleArn = t.RoleCredentials.RoleArn
	}
	if t.ExecutionRoleCredentials != nil {
		spec.ExecutionRoleArn = t.ExecutionRoleCredentials.RoleArn
	}
	if spec.DefinitionError == "" {
		if err := applyACSOverrides(&spec, t); err != nil {
			spec.DefinitionError = err.Error()
		}
	}
	return spec
}

// taskDefinitionARN is the ARN of the task's definition, which ACS does not
// send: it is in the task ARN's region and the definition's account.
func taskDefinitionARN(t acs.Task) string {
	parts := strings.SplitN(t.Arn, ":", 6)
	if len(parts) < 6 || t.Family == "" {
		return t.Family + ":" + t.Version
	}
	account := parts[4]
	if t.TaskDefinitionAccountID != "" {
		account = t.TaskDefinitionAccountID
	}
	return fmt.Sprintf("%s:%s:%s:%s:%s:task-definition/%s:%s", parts[0], parts[1], parts[2], parts[3], account, t.Family, t.Version)
}

// applyACSOverrides applies what ACS leaves as overrides: a container's
// command (its overrides JSON). Environment, cpu and memory overrides come
// already applied to the container's members.
func applyACSOverrides(spec *apiv1.TaskSpec, t acs.Task) error {
	for _, c := range t.Containers {
		if c.Overrides == nil || *c.Overrides == "" {
			continue
		}
		var o acs.ContainerOverrides
		if err := json.Unmarshal([]byte(*c.Overrides), &o); err != nil {
			return fmt.Errorf("container %s: overrides are not JSON: %w", c.Name, err)
		}
		if o.Command != nil {
			if cs := spec.ContainerSpecFor(c.Name); cs != nil {
				cs.Command = o.Command
			}
		}
	}
	return nil
}

// acsDefinition is the register-task-definition JSON of an ACS task.
func acsDefinition(t acs.Task) (map[string]any, error) {
	def := map[string]any{"family": t.Family}
	setString(def, "networkMode", t.NetworkMode)
	setString(def, "pidMode", t.PidMode)
	setString(def, "ipcMode", t.IpcMode)
	if t.CPU != nil && *t.CPU > 0 {
		// ACS gives task cpu in vCPU; the definition in CPU units.
		def["cpu"] = strconv.FormatInt(int64(math.Round(*t.CPU*1024)), 10)
	}
	if t.Memory != nil && *t.Memory > 0 {
		def["memory"] = strconv.FormatInt(*t.Memory, 10)
	}
	setRaw(def, "proxyConfiguration", t.ProxyConfiguration)
	if len(t.ElasticNetworkInterfaces) > 0 && t.NetworkMode == "" {
		def["networkMode"] = "awsvpc"
	}
	var volumes []any
	for _, v := range t.Volumes {
		volumes = append(volumes, acsVolume(v))
	}
	if volumes != nil {
		def["volumes"] = volumes
	}
	var containers []any
	for _, c := range t.Containers {
		cd, err := acsContainer(c)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", c.Name, err)
		}
		containers = append(containers, cd)
	}
	def["containerDefinitions"] = containers
	return def, nil
}

func acsVolume(v acs.Volume) map[string]any {
	out := map[string]any{"name": v.Name}
	switch {
	case v.DockerVolumeConfiguration != nil:
		d := v.DockerVolumeConfiguration
		dv := map[string]any{}
		setString(dv, "scope", d.Scope)
		setString(dv, "driver", d.Driver)
		if d.Autoprovision {
			dv["autoprovision"] = true
		}
		if len(d.DriverOpts) > 0 {
			dv["driverOpts"] = d.DriverOpts
		}
		if len(d.Labels) > 0 {
			dv["labels"] = d.Labels
		}
		out["dockerVolumeConfiguration"] = dv
	case v.Host != nil && v.Host.SourcePath != "":
		out["host"] = map[string]any{"sourcePath": v.Host.SourcePath}
	}
	setRaw(out, "efsVolumeConfiguration", v.EFSVolumeConfiguration)
	setRaw(out, "fsxWindowsFileServerVolumeConfiguration", v.FSxWindowsFileServerVolumeConfiguration)
	// EBS and log-driver volumes have no member in a task definition: name
	// them so that the definition check refuses them by name.
	setRaw(out, "ebsVolumeConfiguration", v.EBSVolumeConfiguration)
	setRaw(out, "logDriverVolumeConfiguration", v.LogDriverVolumeConfiguration)
	return out
}

// acsContainer is one container definition: the ACS members, then what
// dockerConfig says, which wins.
func acsContainer(c acs.Container) (map[string]any, error) {
	cd := map[string]any{"name": c.Name, "image": c.Image, "essential": c.Essential}
	if c.CPU != nil {
		cd["cpu"] = *c.CPU
	}
	if c.Memory != nil && *c.Memory > 0 {
		cd["memory"] = *c.Memory
	}
	if c.Privileged != nil {
		cd["privileged"] = *c.Privileged
	}
	setList(cd, "command", c.Command)
	setList(cd, "entryPoint", c.EntryPoint)
	setList(cd, "links", c.Links)
	setList(cd, "credentialSpecs", c.CredentialSpecs)
	if len(c.Environment) > 0 {
		cd["environment"] = pairs(c.Environment, "name", "value")
	}
	if c.StartTimeout != nil {
		cd["startTimeout"] = *c.StartTimeout
	}
	if c.StopTimeout != nil {
		cd["stopTimeout"] = *c.StopTimeout
	}
	setJSON(cd, "portMappings", c.PortMappings)
	setJSON(cd, "mountPoints", c.MountPoints)
	setJSON(cd, "volumesFrom", c.VolumesFrom)
	setJSON(cd, "dependsOn", c.DependsOn)
	if c.RestartPolicy != nil {
		setJSON(cd, "restartPolicy", c.RestartPolicy)
	}
	if ra := c.RegistryAuthentication; ra != nil && ra.Type == "asm" && ra.ASMAuthData != nil {
		cd["repositoryCredentials"] = map[string]any{"credentialsParameter": ra.ASMAuthData.CredentialsParameter}
	}
	var secrets, logSecrets []any
	for _, s := range c.Secrets {
		entry := map[string]any{"name": s.Name, "valueFrom": s.ValueFrom}
		if s.Target == "LOG_DRIVER" {
			logSecrets = append(logSecrets, entry)
		} else {
			secrets = append(secrets, entry)
		}
	}
	if secrets != nil {
		cd["secrets"] = secrets
	}
	setRaw(cd, "linuxParameters", c.LinuxParameters)
	setRaw(cd, "environmentFiles", c.EnvironmentFiles)
	setRaw(cd, "firelensConfiguration", c.FirelensConfiguration)
	setRaw(cd, "resourceRequirements", c.ResourceRequirements)
	if err := mergeDockerConfig(cd, c.DockerConfig); err != nil {
		return nil, err
	}
	if logSecrets != nil {
		if lc, ok := cd["logConfiguration"].(map[string]any); ok {
			lc["secretOptions"] = logSecrets
		}
	}
	return cd, nil
}

// mergeDockerConfig sets the definition members that dockerConfig carries,
// by the rules internal/taskdef gives every source: a Docker setting no
// task definition field sets is refused by name, never dropped.
func mergeDockerConfig(cd map[string]any, dc *acs.DockerConfig) error {
	if dc == nil {
		return nil
	}
	fields, err := taskdef.DockerConfig{
		Version: aws.ToString(dc.Version), Config: aws.ToString(dc.Config), HostConfig: aws.ToString(dc.HostConfig),
	}.Fields()
	if err != nil {
		return err
	}
	maps.Copy(cd, fields)
	return nil
}

// pairs writes a map as a definition's list of objects, sorted by key:
// {"name": k, "value": v} for an environment.
func pairs(m map[string]string, key, value string) []any {
	out := make([]any, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, map[string]any{key: k, value: m[k]})
	}
	return out
}

func setString(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func setList(m map[string]any, k string, v []string) {
	if len(v) > 0 {
		m[k] = v
	}
}

func setRaw(m map[string]any, k string, v json.RawMessage) {
	if len(v) > 0 && string(v) != "null" {
		m[k] = v
	}
}

// setJSON sets a member from an acs value whose JSON is the definition's.
func setJSON[T any](m map[string]any, k string, v T) {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "[]" {
		return
	}
	m[k] = json.RawMessage(b)
}
