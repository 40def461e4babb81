package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// finish does what needs more than one variable: the fallbacks, the checks
// across variables, the ECS agent's minimums and the computed defaults.
func (r *resolver) finish(c *Config, portRangeFile string) []error {
	var errs []error
	errs = append(errs, r.region(c)...)
	errs = append(errs, r.credentials(c)...)
	errs = append(errs, r.engineAuth(c)...)
	r.minimums(c)
	errs = append(errs, diskThresholds(c)...)
	r.dynamicPortRange(c, portRangeFile)
	if c.IntrospectionPort == c.TaskMetadataPort {
		errs = append(errs, fmt.Errorf("ECS_INTROSPECTION_PORT and ECS_TASK_METADATA_PORT are both %d: they must differ", c.IntrospectionPort))
	}
	if c.LogOutputFormat == "logfmt" {
		c.warnf("ECS_LOG_OUTPUT_FORMAT=logfmt is not supported: the log is written as JSON lines")
	}
	if c.TaskMetrics && c.DisableMetrics {
		c.warnf("ECS_ENABLE_TASK_METRICS=true has no effect with ECS_DISABLE_METRICS=true: no Docker stats are sampled, so /metrics has no per-task figures")
	}
	if !c.Checkpoint {
		c.warnf("ECS_CHECKPOINT=false is ignored: this agent always keeps its state in %s, which is what makes restarts safe", c.DBPath())
	}
	r.unknown(c)
	return errs
}

func (c *Config) warnf(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}

// region falls back to AWS_REGION, the AWS SDKs' variable, when the ECS
// agent's AWS_DEFAULT_REGION is not set.
func (r *resolver) region(c *Config) []error {
	value, where, ok := r.lookup(envAWSRegion)
	if !ok {
		return nil
	}
	region, err := parseRegion(value)
	if err != nil {
		return []error{&ValueError{Name: envAWSRegion, Value: value, Where: where, Err: err}}
	}
	switch {
	case c.Region == "":
		c.Region = region
	case c.Region != region:
		c.warnf("AWS_DEFAULT_REGION=%s and AWS_REGION=%s differ: using AWS_DEFAULT_REGION, as the ECS agent does", c.Region, region)
	}
	return nil
}

// credentials checks that static AWS credentials come as a set: half of a
// key pair would silently fall through to the instance role.
func (r *resolver) credentials(c *Config) []error {
	var errs []error
	switch {
	case c.AccessKeyID != "" && !c.SecretAccessKey.IsSet():
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY: set both, or neither to use the instance role"))
	case c.AccessKeyID == "" && c.SecretAccessKey.IsSet():
		errs = append(errs, errors.New("AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID: set both, or neither to use the instance role"))
	}
	if c.SessionToken.IsSet() && (c.AccessKeyID == "" || !c.SecretAccessKey.IsSet()) {
		errs = append(errs, errors.New("AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: a session token belongs to a key pair"))
	}
	return errs
}

// engineAuth checks ECS_ENGINE_AUTH_DATA against ECS_ENGINE_AUTH_TYPE and
// parses it. Errors never quote the data.
func (r *resolver) engineAuth(c *Config) []error {
	switch {
	case !c.EngineAuthData.IsSet():
		if c.EngineAuthType != "" {
			c.warnf("ECS_ENGINE_AUTH_TYPE=%s is set but ECS_ENGINE_AUTH_DATA is not: images are pulled without registry credentials", c.EngineAuthType)
		}
		return nil
	case c.EngineAuthType == "":
		return []error{errors.New("ECS_ENGINE_AUTH_DATA is set but ECS_ENGINE_AUTH_TYPE is not: set it to docker or dockercfg")}
	}
	auth, err := parseEngineAuth(c.EngineAuthType, c.EngineAuthData.Reveal())
	if err != nil {
		_, where, _ := r.lookup("ECS_ENGINE_AUTH_DATA")
		err = fmt.Errorf("%w (for ECS_ENGINE_AUTH_TYPE=%s)", err, c.EngineAuthType)
		return []error{newValueError(variableNamed("ECS_ENGINE_AUTH_DATA"), "", where, err)}
	}
	c.EngineAuth = auth
	return nil
}

// minimums applies the ECS agent's floors. It ignores a task cleanup wait
// under 1m, an image cleanup interval under 10m and fewer than 1 image per
// cleanup cycle, using the default instead; it raises a stop timeout under
// 1s to 1s. So does this agent, with a warning, except that with
// ECS_OFFLINE=true short cleanup durations are honoured: the floors exist to
// keep stopped tasks visible to the control plane and to spare registries,
// and local use, demos and tests have neither. A zero image cleanup
// interval is ignored even then: a cycle needs a period.
func (r *resolver) minimums(c *Config) {
	floor := func(name string, d *time.Duration, minimum time.Duration, zeroOK bool) {
		if _, _, set := r.lookup(name); !set || *d >= minimum {
			return
		}
		def, _ := parseDuration(variableNamed(name).def)
		switch {
		case c.Offline && (*d > 0 || zeroOK):
			return
		case c.Offline:
			c.warnf("%s=0s is ignored: an interval must be more than 0; using %s", name, fmtDuration(def))
		default:
			c.warnf("%s=%s is below the ECS agent's minimum of %s and is ignored: using %s (with ECS_OFFLINE=true short values are honoured)",
				name, fmtDuration(*d), fmtDuration(minimum), fmtDuration(def))
		}
		*d = def
	}
	floor("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", &c.TaskCleanupWaitDuration, minTaskCleanupWait, true)
	floor("ECS_IMAGE_CLEANUP_INTERVAL", &c.ImageCleanupInterval, minImageCleanupInterval, false)

	if _, _, set := r.lookup("ECS_NUM_IMAGES_DELETE_PER_CYCLE"); set && c.NumImagesToDeletePerCycle < 1 {
		def, _ := parseInt(variableNamed("ECS_NUM_IMAGES_DELETE_PER_CYCLE").def)
		c.warnf("ECS_NUM_IMAGES_DELETE_PER_CYCLE=%d is below 1 and is ignored: using %d (ECS_DISABLE_IMAGE_CLEANUP=true turns cleanup off)", c.NumImagesToDeletePerCycle, def)
		c.NumImagesToDeletePerCycle = def
	}
	// Docker's stop API counts whole seconds: less than 1s would be an
	// immediate SIGKILL.
	if _, _, set := r.lookup("ECS_CONTAINER_STOP_TIMEOUT"); set && c.ContainerStopTimeout < minContainerStopTimeout {
		c.warnf("ECS_CONTAINER_STOP_TIMEOUT=%s is below the minimum of 1s: using 1s", fmtDuration(c.ContainerStopTimeout))
		c.ContainerStopTimeout = minContainerStopTimeout
	}
}

// dynamicPortRange defaults ECS_DYNAMIC_HOST_PORT_RANGE to the kernel's
// ephemeral port range, as the ECS agent does on Linux.
func (r *resolver) dynamicPortRange(c *Config, file string) {
	if _, _, set := r.lookup("ECS_DYNAMIC_HOST_PORT_RANGE"); set {
		return
	}
	c.DynamicHostPortRange = FallbackDynamicHostPortRange
	data, err := os.ReadFile(file)
	if err != nil {
		c.warnf("cannot read the kernel's ephemeral port range (%v): ECS_DYNAMIC_HOST_PORT_RANGE defaults to %s", err, FallbackDynamicHostPortRange)
		return
	}
	// The file holds "32768\t60999\n".
	f := strings.Fields(string(data))
	pr, perr := parsePortRange(strings.Join(f, "-"))
	if len(f) != 2 || perr != nil {
		c.warnf("%s holds %q, not a port range: ECS_DYNAMIC_HOST_PORT_RANGE defaults to %s", file, strings.TrimSpace(string(data)), FallbackDynamicHostPortRange)
		return
	}
	c.DynamicHostPortRange = pr
}

// unknown warns about ECS_ variables the agent does not read: most often a
// typo, or an ECS agent feature this agent does not have.
func (r *resolver) unknown(c *Config) {
	seen := map[string]bool{}
	for name := range r.env {
		if strings.HasPrefix(name, "ECS_") && !known(name) {
			seen[name] = true
		}
	}
	for name := range r.file {
		if strings.HasPrefix(name, "ECS_") && !known(name) {
			seen[name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.warnf("%s is not a variable this agent reads: ignored", n)
	}
}
