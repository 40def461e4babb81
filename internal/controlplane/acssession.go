package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/acs"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/version"
)

// DiscoverPollEndpoint timing, as the ECS agent has it.
const (
	// endpointTTL is how long a discovered ACS endpoint is used before it
	// is asked again; an expired one is still used when asking fails.
	endpointTTL = 12 * time.Hour
	// discoverTimeout bounds one DiscoverPollEndpoint call.
	discoverTimeout = 126 * time.Second
	// sessionRecordEvery limits how often the last-message time is written
	// to the store: connects, disconnects and errors are written at once.
	sessionRecordEvery = 10 * time.Second
)

// newSession builds the ACS session of a registered instance. Its status
// goes to the ContainerInstance object; a session going down wakes the
// poller so that polling covers at once.
func (s *Source) newSession(arn string, d *discovery, p *Poller, wake chan<- struct{}) *acs.Session {
	rec := &sessionRecorder{store: s.Store, log: s.Log}
	wasUp := false
	return &acs.Session{
		Discover: d.endpoint,
		Params: acs.Params{
			Cluster: s.Registration.Cluster, ContainerInstanceArn: arn,
			AgentVersion: version.Version, AgentHash: agentHash(version.Version), DockerVersion: s.dockerVersion,
		},
		Credentials: s.Client.AWS.Credentials,
		Region:      s.Client.Region,
		Handler: &acsHandler{Store: s.Store, Creds: s.Credentials, Cluster: s.Registration.Cluster,
			Draining: func() bool { return p.Status() == InstanceDraining }, Log: s.Log.WithName("acs")},
		Log: s.Log.WithName("acs"),
		OnChange: func(st acs.Status) {
			if wasUp && !st.Connected {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
			wasUp = st.Connected
			rec.changed(st)
		},
	}
}

// runSession keeps the ACS session open. ACS refusing the instance as
// inactive is the deregistered path: the agent stops with exit status 5.
func (s *Source) runSession(ctx context.Context, arn string) error {
	err := s.session.Run(ctx)
	if errors.Is(err, acs.ErrInactiveInstance) {
		return &PermanentError{Err: fmt.Errorf("container instance %s was deregistered from cluster %q (%w); "+
			"to join the cluster as a new container instance, stop the agent and run `ecs-agent run --reregister` once", arn, s.Registration.Cluster, err)}
	}
	return err
}

// agentHash is the git short hash in a `git describe` version
// ("v1.2-3-gabc1234", "abc1234", "abc1234-dirty"); "" when there is none.
func agentHash(v string) string {
	v = strings.TrimSuffix(v, "-dirty")
	if i := strings.LastIndex(v, "-g"); i >= 0 {
		v = v[i+2:]
	}
	if len(v) < 7 || strings.Trim(v, "0123456789abcdef") != "" {
		return ""
	}
	return v
}

// discovery is DiscoverPollEndpoint for one instance, cached as the ECS
// agent caches it.
type discovery struct {
	client            *Client
	cluster, instance string

	mu              sync.Mutex
	cached          string
	cachedTelemetry string
	fetched         time.Time
}

func (d *discovery) endpoint(ctx context.Context) (string, error) {
	acsURL, _, err := d.endpoints(ctx)
	if err == nil && acsURL == "" {
		err = fmt.Errorf("DiscoverPollEndpoint for %s named no ACS endpoint", d.instance)
	}
	return acsURL, err
}

// telemetry is the TCS endpoint; "" when ECS named none.
func (d *discovery) telemetry(ctx context.Context) (string, error) {
	_, tcsURL, err := d.endpoints(ctx)
	return tcsURL, err
}

// endpoints asks DiscoverPollEndpoint, or answers from the cache.
func (d *discovery) endpoints(ctx context.Context) (acsURL, tcsURL string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cached != "" && time.Since(d.fetched) < endpointTTL {
		return d.cached, d.cachedTelemetry, nil
	}
	ctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	defer cancel()
	out, err := d.client.ECS.DiscoverPollEndpoint(ctx, &ecs.DiscoverPollEndpointInput{
		Cluster: aws.String(d.cluster), ContainerInstance: aws.String(d.instance),
	})
	switch {
	case err != nil && d.cached != "":
		return d.cached, d.cachedTelemetry, nil
	case err != nil:
		return "", "", fmt.Errorf("DiscoverPollEndpoint for %s: %w", d.instance, err)
	case aws.ToString(out.Endpoint) == "":
		return "", aws.ToString(out.TelemetryEndpoint), nil
	}
	d.cached, d.cachedTelemetry, d.fetched = aws.ToString(out.Endpoint), aws.ToString(out.TelemetryEndpoint), time.Now()
	return d.cached, d.cachedTelemetry, nil
}

// sessionRecorder writes the session's status into the ContainerInstance
// object, off the session's reader: connects, disconnects and errors at
// once, the last message at most every sessionRecordEvery.
type sessionRecorder struct {
	store store.Store
	log   logr.Logger

	mu        sync.Mutex
	latest    acs.Status
	written   acs.Status
	writtenAt time.Time
	busy      bool
}

func (r *sessionRecorder) changed(st acs.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latest = st
	if r.busy {
		return
	}
	w := r.written
	if st.Connected == w.Connected && st.Endpoint == w.Endpoint && st.LastError == w.LastError &&
		st.Sessions == w.Sessions && time.Since(r.writtenAt) < sessionRecordEvery {
		return
	}
	r.busy = true
	go r.write()
}

// write stores the latest status until the stored one is the latest.
func (r *sessionRecorder) write() {
	for {
		r.mu.Lock()
		st := r.latest
		if st == r.written {
			r.busy = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		_, err := store.Mutate(context.Background(), r.store, apiv1.ContainerInstanceName, func(ci *apiv1.ContainerInstance) error {
			if ci.Status.ACS == nil {
				ci.Status.ACS = &apiv1.ACSSession{}
			}
			a := ci.Status.ACS
			a.Connected, a.Endpoint, a.LastError, a.LastMessageType = st.Connected, st.Endpoint, st.LastError, st.LastMessageType
			a.Reconnects = st.Reconnects()
			a.ConnectedSince, a.LastMessageAt = microTime(st.ConnectedSince), microTime(st.LastMessageAt)
			if !st.Connected {
				a.ConnectedSince = nil
			}
			return nil
		})
		r.mu.Lock()
		r.written, r.writtenAt = st, time.Now()
		r.mu.Unlock()
		if err != nil && !errors.Is(err, store.ErrClosed) {
			r.log.Error(err, "record the ACS session in the container instance")
		}
	}
}

func microTime(t time.Time) *metav1.MicroTime {
	if t.IsZero() {
		return nil
	}
	return &metav1.MicroTime{Time: t}
}
