package controlplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/go-logr/logr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/statechange"
)

// Submitter sends the reporter's state changes with SubmitTaskStateChange
// and SubmitContainerStateChange; it is the reporter's
// controllers.StateSubmitter (internal/agent wires the two).
type Submitter struct {
	Client *Client
	Log    logr.Logger
}

// SubmitTaskState sends a task's state change with SubmitTaskStateChange.
// A nil error means ECS acknowledged it, or refused it for good (settle).
func (s *Submitter) SubmitTaskState(ctx context.Context, r statechange.Task) error {
	in := &ecs.SubmitTaskStateChangeInput{
		Cluster:            aws.String(r.Cluster),
		Task:               aws.String(r.TaskArn),
		Status:             aws.String(string(r.Status)),
		Reason:             optional(r.Reason),
		PullStartedAt:      r.PullStartedAt,
		PullStoppedAt:      r.PullStoppedAt,
		ExecutionStoppedAt: r.ExecutionStoppedAt,
	}
	for _, c := range r.Containers {
		in.Containers = append(in.Containers, types.ContainerStateChange{
			ContainerName:   aws.String(c.ContainerName),
			RuntimeId:       optional(c.RuntimeID),
			ImageDigest:     optional(c.ImageDigest),
			Status:          aws.String(string(c.Status)),
			ExitCode:        c.ExitCode,
			Reason:          optional(c.Reason),
			NetworkBindings: bindings(c.NetworkBindings),
		})
	}
	_, err := s.Client.ECS.SubmitTaskStateChange(ctx, in)
	return s.settle(err, "task", r.TaskArn, string(r.Status))
}

// SubmitContainerState sends one container's state change with
// SubmitContainerStateChange. A nil error means ECS acknowledged it, or
// refused it for good (settle).
func (s *Submitter) SubmitContainerState(ctx context.Context, r statechange.Container) error {
	_, err := s.Client.ECS.SubmitContainerStateChange(ctx, &ecs.SubmitContainerStateChangeInput{
		Cluster:         aws.String(r.Cluster),
		Task:            aws.String(r.TaskArn),
		ContainerName:   aws.String(r.ContainerName),
		RuntimeId:       optional(r.RuntimeID),
		Status:          aws.String(string(r.Status)),
		ExitCode:        r.ExitCode,
		Reason:          optional(r.Reason),
		NetworkBindings: bindings(r.NetworkBindings),
	})
	return s.settle(err, "container "+r.ContainerName+" of task", r.TaskArn, string(r.Status))
}

// settle decides what a failed submission means. A ClientException or
// InvalidParameterException says ECS will never take this change (the task
// is unknown to it, e.g. the cluster was deleted): it is returned as
// statechange.ErrRefused, which the reporter records and does not retry,
// since retrying forever would also keep the stopped task from ever being
// cleaned up. Anything else (throttling, 5xx, no network) is returned as
// it is, for the reporter to retry with backoff.
func (s *Submitter) settle(err error, what, arn, status string) error {
	var ce *types.ClientException
	var ip *types.InvalidParameterException
	if errors.As(err, &ce) || errors.As(err, &ip) {
		return fmt.Errorf("%s %s %s: %w: %w", what, arn, status, statechange.ErrRefused, err)
	}
	return err
}

func bindings(ports []apiv1.PortBinding) []types.NetworkBinding {
	out := make([]types.NetworkBinding, 0, len(ports))
	for _, p := range ports {
		proto := types.TransportProtocolTcp
		if p.Protocol == "udp" {
			proto = types.TransportProtocolUdp
		}
		bindIP := p.BindIP
		if bindIP == "" {
			bindIP = "0.0.0.0"
		}
		out = append(out, types.NetworkBinding{
			BindIP: aws.String(bindIP), ContainerPort: aws.Int32(p.ContainerPort),
			HostPort: aws.Int32(p.HostPort), Protocol: proto,
		})
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
