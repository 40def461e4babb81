package controlplane

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// DefaultCluster is the one cluster the agent creates when it is missing,
// as the ECS agent does; any other missing cluster is an operator's error.
const DefaultCluster = "default"

// Attribute name prefixes as ECS defines them (the ECS agent's
// agent/app/agent_capability.go).
const (
	capabilityPrefix    = "com.amazonaws.ecs.capability."
	ecsCapabilityPrefix = "ecs.capability."
)

// dockerAPIVersions are the Docker remote API versions the ECS agent
// advertises as com.amazonaws.ecs.capability.docker-remote-api.<v>; the
// agent sends those the daemon serves.
var dockerAPIVersions = []string{
	"1.17", "1.18", "1.19", "1.20", "1.21", "1.22", "1.23", "1.24", "1.25", "1.26",
	"1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36",
	"1.37", "1.38", "1.39", "1.40", "1.41", "1.42", "1.43", "1.44",
}

// Registration is what the agent registers with: resources, capabilities
// and the operator's attributes and tags.
type Registration struct {
	Cluster string
	// CPU is in CPU units (cores × 1024); Memory in MiB after
	// ECS_RESERVED_MEMORY.
	CPU      int64
	Memory   int64
	Ports    []int32
	PortsUDP []int32
	// DockerVersion and DockerAPIVersion are the daemon's release and the
	// highest API version it serves.
	DockerVersion    string
	DockerAPIVersion string
	AgentVersion     string
	LoggingDrivers   []string
	// Capability switches from the agent's config.
	DisablePrivileged bool
	TaskIAMRole       bool
	TaskIAMRoleHost   bool
	SELinux           bool
	AppArmor          bool
	// Attributes is ECS_INSTANCE_ATTRIBUTES; Tags is
	// ECS_CONTAINER_INSTANCE_TAGS, sent on the first registration only (ECS
	// keeps them; changing them is done with TagResource).
	Attributes map[string]string
	Tags       map[string]string
	// New registers a new container instance even when the store holds
	// an ARN (`ecs-agent run --reregister`).
	New bool
}

// Register registers the container instance, or registers it again under
// the ARN recorded in the store after a restart, and records the ARN before
// anything depends on it. It returns the ARN.
func Register(ctx context.Context, c *Client, st store.Store, reg Registration) (string, error) {
	prev, err := readInstance(ctx, st)
	if err != nil {
		return "", err
	}
	in := registerInput(reg, c)
	// An ARN from an offline run or another cluster is not ours to reuse.
	if !reg.New && prev.Status.Arn != "" && prev.Status.Status != "OFFLINE" && prev.Spec.Cluster == reg.Cluster {
		in.ContainerInstanceArn = aws.String(prev.Status.Arn)
		in.Tags = nil
	} else if err := newRegistration(ctx, c, st, prev, reg, in); err != nil {
		return "", err
	}
	out, err := c.ECS.RegisterContainerInstance(ctx, in)
	var nf *types.ClusterNotFoundException
	if errors.As(err, &nf) && reg.Cluster == DefaultCluster {
		if _, cerr := c.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(DefaultCluster)}); cerr != nil {
			return "", fmt.Errorf("create the missing cluster %q: %w", DefaultCluster, cerr)
		}
		out, err = c.ECS.RegisterContainerInstance(ctx, in)
	}
	var refused *types.ClientException
	var invalid *types.InvalidParameterException
	switch {
	case errors.As(err, &nf):
		return "", &PermanentError{Err: fmt.Errorf("register with cluster %q: the cluster does not exist; create it or set ECS_CLUSTER to an existing one: %w", reg.Cluster, err)}
	case in.ContainerInstanceArn != nil && (errors.As(err, &refused) || errors.As(err, &invalid)):
		// Deregistered (or deleted with its cluster): ECS will not take the
		// ARN back. Registering as a new instance behind the operator's
		// back would undo the deregistration, so stop, as the ECS agent
		// does, and say how to rejoin.
		return "", &PermanentError{Err: fmt.Errorf("container instance %s was deregistered from cluster %q and ECS refuses it again (%w); "+
			"to join the cluster as a new container instance, stop the agent and run `ecs-agent run --reregister` once", *in.ContainerInstanceArn, reg.Cluster, err)}
	case err != nil:
		return "", fmt.Errorf("register container instance with cluster %q: %w", reg.Cluster, err)
	case out.ContainerInstance == nil || aws.ToString(out.ContainerInstance.ContainerInstanceArn) == "":
		return "", fmt.Errorf("register container instance with cluster %q: the answer has no container instance ARN", reg.Cluster)
	}
	arn := aws.ToString(out.ContainerInstance.ContainerInstanceArn)
	status := aws.ToString(out.ContainerInstance.Status)
	if _, err := store.Mutate(ctx, st, apiv1.ContainerInstanceName, func(ci *apiv1.ContainerInstance) error {
		ci.Spec = instanceSpec(reg, in)
		if ci.Status.Arn != arn {
			ci.Status.RegisteredAt = &metav1.MicroTime{Time: time.Now()}
		}
		ci.Status.Arn = arn
		ci.Status.Status = status
		ci.Status.RegistrationToken = ""
		return nil
	}); err != nil {
		return "", fmt.Errorf("record container instance %s: %w", arn, err)
	}
	return arn, nil
}

// newRegistration prepares the registration of a new container instance so
// that a crash between ECS's answer and the write of the ARN cannot leave
// an orphan instance behind: the token the registration is tagged with is
// persisted first, and a token left by such a crash finds the instance it
// registered, which is then registered again under its ARN.
func newRegistration(ctx context.Context, c *Client, st store.Store, prev *apiv1.ContainerInstance, reg Registration, in *ecs.RegisterContainerInstanceInput) error {
	token := prev.Status.RegistrationToken
	if token != "" && !reg.New && prev.Spec.Cluster == reg.Cluster {
		arn, err := findRegistration(ctx, c, reg.Cluster, token)
		if err != nil {
			return err
		}
		if arn != "" {
			in.ContainerInstanceArn = aws.String(arn)
			in.Tags = nil
			return nil
		}
	}
	token = rand.Text()
	if _, err := store.Mutate(ctx, st, apiv1.ContainerInstanceName, func(ci *apiv1.ContainerInstance) error {
		ci.Spec.Cluster = reg.Cluster
		ci.Status.RegistrationToken = token
		return nil
	}); err != nil {
		return fmt.Errorf("record the registration about to be made: %w", err)
	}
	in.Tags = append(in.Tags, types.Tag{Key: aws.String(apiv1.RegistrationTokenTag), Value: aws.String(token)})
	return nil
}

// findRegistration returns the container instance of the cluster tagged
// with token, or "" when there is none.
func findRegistration(ctx context.Context, c *Client, cluster, token string) (string, error) {
	pages := ecs.NewListContainerInstancesPaginator(c.ECS, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("look for the container instance an interrupted registration made: %w", err)
		}
		if len(page.ContainerInstanceArns) == 0 {
			continue
		}
		out, err := c.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
			Cluster: aws.String(cluster), ContainerInstances: page.ContainerInstanceArns,
			Include: []types.ContainerInstanceField{types.ContainerInstanceFieldTags},
		})
		if err != nil {
			return "", fmt.Errorf("look for the container instance an interrupted registration made: %w", err)
		}
		for _, ci := range out.ContainerInstances {
			for _, tag := range ci.Tags {
				if aws.ToString(tag.Key) == apiv1.RegistrationTokenTag && aws.ToString(tag.Value) == token {
					return aws.ToString(ci.ContainerInstanceArn), nil
				}
			}
		}
	}
	return "", nil
}

// PermanentError is a failure no retry can fix; the agent stops with it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// readInstance returns the stored ContainerInstance, creating an empty one
// so that Mutate has something to update.
func readInstance(ctx context.Context, st store.Store) (*apiv1.ContainerInstance, error) {
	var ci apiv1.ContainerInstance
	err := st.Get(ctx, apiv1.ContainerInstanceName, &ci)
	if errors.Is(err, store.ErrNotFound) {
		ci.Name = apiv1.ContainerInstanceName
		err = st.Create(ctx, &ci)
	}
	if err != nil {
		return nil, fmt.Errorf("read container instance: %w", err)
	}
	return &ci, nil
}

func registerInput(reg Registration, c *Client) *ecs.RegisterContainerInstanceInput {
	in := &ecs.RegisterContainerInstanceInput{
		Cluster:        aws.String(reg.Cluster),
		TotalResources: resources(reg),
		Attributes:     attributes(reg),
		VersionInfo: &types.VersionInfo{
			AgentVersion:  aws.String(reg.AgentVersion),
			DockerVersion: aws.String("DockerVersion: " + reg.DockerVersion),
		},
	}
	if c.IdentityDocument != "" {
		in.InstanceIdentityDocument = aws.String(c.IdentityDocument)
		in.InstanceIdentityDocumentSignature = aws.String(c.IdentitySignature)
	}
	for _, k := range sortedKeys(reg.Tags) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(reg.Tags[k])})
	}
	return in
}

// resources are the four ECS resources the ECS agent registers.
func resources(reg Registration) []types.Resource {
	return []types.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: int32(reg.CPU)},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: int32(reg.Memory)},
		{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: portStrings(reg.Ports)},
		{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: portStrings(reg.PortsUDP)},
	}
}

// attributes are the capabilities the agent has, then the operator's.
func attributes(reg Registration) []types.Attribute {
	var names []string
	for _, v := range dockerAPIVersions {
		if versionAtMost(v, reg.DockerAPIVersion) {
			names = append(names, capabilityPrefix+"docker-remote-api."+v)
		}
	}
	for _, d := range reg.LoggingDrivers {
		names = append(names, capabilityPrefix+"logging-driver."+d)
	}
	if !reg.DisablePrivileged {
		names = append(names, capabilityPrefix+"privileged-container")
	}
	if reg.TaskIAMRole {
		names = append(names, capabilityPrefix+"task-iam-role")
	}
	if reg.TaskIAMRoleHost {
		names = append(names, capabilityPrefix+"task-iam-role-network-host")
	}
	if reg.SELinux {
		names = append(names, capabilityPrefix+"selinux")
	}
	if reg.AppArmor {
		names = append(names, capabilityPrefix+"apparmor")
	}
	names = append(names,
		capabilityPrefix+"ecr-auth",
		ecsCapabilityPrefix+"container-health-check",
		ecsCapabilityPrefix+"container-ordering",
		ecsCapabilityPrefix+"docker-plugin.local",
		ecsCapabilityPrefix+"container-restart-policy",
		// Execution roles (internal/credentials, internal/secrets): ECR
		// pulls, the awslogs driver's credentials, secrets as environment
		// variables and repositoryCredentials from Secrets Manager. The
		// log driver's secretOptions are not applied, so the
		// secrets.*.bootstrap.log-driver capabilities are not claimed.
		ecsCapabilityPrefix+"execution-role-ecr-pull",
		ecsCapabilityPrefix+"execution-role-awslogs",
		ecsCapabilityPrefix+"secrets.ssm.environment-variables",
		ecsCapabilityPrefix+"secrets.asm.environment-variables",
		ecsCapabilityPrefix+"private-registry-authentication.secretsmanager",
	)
	attrs := make([]types.Attribute, 0, len(names)+len(reg.Attributes)+2)
	for _, n := range names {
		attrs = append(attrs, types.Attribute{Name: aws.String(n)})
	}
	attrs = append(attrs,
		types.Attribute{Name: aws.String("ecs.os-type"), Value: aws.String("linux")},
		types.Attribute{Name: aws.String("ecs.cpu-architecture"), Value: aws.String(cpuArchitecture())},
	)
	for _, k := range sortedKeys(reg.Attributes) {
		attrs = append(attrs, types.Attribute{Name: aws.String(k), Value: aws.String(reg.Attributes[k])})
	}
	return attrs
}

// cpuArchitecture is ecs.cpu-architecture as ECS names it.
func cpuArchitecture() string {
	if runtime.GOARCH == "amd64" {
		return "x86_64"
	}
	return runtime.GOARCH
}

// versionAtMost compares "major.minor" versions; an unparsable limit
// allows nothing beyond the first (oldest) version.
func versionAtMost(v, limit string) bool {
	vm, vn, ok1 := majorMinor(v)
	lm, ln, ok2 := majorMinor(limit)
	if !ok1 || !ok2 {
		return v == dockerAPIVersions[0]
	}
	return vm < lm || (vm == lm && vn <= ln)
}

func majorMinor(v string) (int, int, bool) {
	a, b, ok := strings.Cut(v, ".")
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, ok && err1 == nil && err2 == nil
}

func instanceSpec(reg Registration, in *ecs.RegisterContainerInstanceInput) apiv1.ContainerInstanceSpec {
	attrs := map[string]string{}
	for _, a := range in.Attributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return apiv1.ContainerInstanceSpec{
		Cluster: reg.Cluster, Attributes: attrs,
		CPU: reg.CPU, Memory: reg.Memory, Ports: reg.Ports, PortsUDP: reg.PortsUDP,
	}
}

func portStrings(ports []int32) []string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		out = append(out, strconv.Itoa(int(p)))
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
