package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/gorilla/websocket"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/acs"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// session runs the ECS source's ACS session (without its poller) on st for
// the registered instance; it ends with the test. It returns the source, so
// that tests can read the credentials it keeps.
func (e *env) session(inst string, st store.Store) (*Source, <-chan error) {
	e.t.Helper()
	s := &Source{Client: e.client, Store: st, Registration: registration("default"), Log: testr.New(e.t), Credentials: credentials.NewHolder()}
	p := &Poller{Client: e.client, Store: st, Cluster: "default", Instance: inst, Log: logr.Discard()}
	s.session = s.newSession(inst, &discovery{client: e.client, cluster: "default", instance: inst}, p, make(chan struct{}, 1))
	s.session.Timing = acs.Timing{BackoffMin: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() { done <- s.runSession(ctx, inst); close(finished) }()
	e.t.Cleanup(func() { cancel(); <-finished })
	return s, done
}

func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) has(arn string) bool {
	var t apiv1.Task
	return e.store.Get(e.ctx, apiv1.TaskNameFromARN(arn), &t) == nil
}

// richTaskDef uses every setting that travels in dockerConfig.
func (e *env) richTaskDef() string {
	e.t.Helper()
	td := e.fake.RegisterTaskDefinition(&ecs.RegisterTaskDefinitionInput{
		Family: aws.String("rich"), Cpu: aws.String("512"), Memory: aws.String("1024"),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
		Volumes: []types.Volume{{Name: aws.String("data"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/srv/data")}},
			{Name: aws.String("scratch")},
			{Name: aws.String("shared"), DockerVolumeConfiguration: &types.DockerVolumeConfiguration{Scope: types.ScopeShared, Autoprovision: aws.Bool(true), Driver: aws.String("local")}}},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64), MemoryReservation: aws.Int32(32), Cpu: 128,
			Essential: aws.Bool(true), Command: []string{"sleep", "3600"}, EntryPoint: []string{"/bin/sh", "-c"},
			Environment:      []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("prod")}, {Name: aws.String("A"), Value: aws.String("1")}},
			PortMappings:     []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(0), Protocol: types.TransportProtocolTcp}, {ContainerPort: aws.Int32(53), Protocol: types.TransportProtocolUdp}},
			HealthCheck:      &types.HealthCheck{Command: []string{"CMD-SHELL", "true"}, Interval: aws.Int32(7), Retries: aws.Int32(2)},
			Ulimits:          []types.Ulimit{{Name: types.UlimitNameNofile, SoftLimit: 1024, HardLimit: 2048}},
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverJsonFile, Options: map[string]string{"max-size": "1m"}},
			DockerLabels:     map[string]string{"team": "web"}, User: aws.String("1000"), WorkingDirectory: aws.String("/srv"), Hostname: aws.String("app"),
			ReadonlyRootFilesystem: aws.Bool(true), StopTimeout: aws.Int32(5), Privileged: aws.Bool(false),
			MountPoints: []types.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data"), ReadOnly: aws.Bool(true)},
				{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch")}, {SourceVolume: aws.String("shared"), ContainerPath: aws.String("/shared")}},
			RestartPolicy: &types.ContainerRestartPolicy{Enabled: aws.Bool(true), IgnoredExitCodes: []int32{0}, RestartAttemptPeriod: aws.Int32(60)},
			Secrets:       []types.Secret{{Name: aws.String("TOKEN"), ValueFrom: aws.String("arn:aws:ssm:us-west-2:123456789012:parameter/token")}},
		}, {
			Name: aws.String("side"), Image: aws.String("busybox"), Memory: aws.Int32(16), Essential: aws.Bool(false),
			DependsOn:   []types.ContainerDependency{{ContainerName: aws.String("app"), Condition: types.ContainerConditionHealthy}},
			VolumesFrom: []types.VolumeFrom{{SourceContainer: aws.String("app"), ReadOnly: aws.Bool(true)}},
		}},
	})
	return aws.ToString(td.TaskDefinitionArn)
}

func TestACSTaskBecomesTheSameTaskSpecAsThePolledOne(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	def := e.richTaskDef()
	e.session(inst, e.store)
	e.eventually("session open", func() bool { return len(e.fake.ACSSessions()) == 1 })
	arn := e.startTask(inst, def, &types.TaskOverride{
		TaskRoleArn: aws.String("arn:aws:iam::123456789012:role/app"),
		ContainerOverrides: []types.ContainerOverride{{Name: aws.String("app"), Command: []string{"sleep", "5"}, Memory: aws.Int32(128),
			Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("test")}}}},
	})
	e.eventually("the pushed task in the store", func() bool { return e.has(arn) })
	pushed := e.task(arn).Spec

	out, err := e.client.ECS.DescribeTasks(e.ctx, &ecs.DescribeTasksInput{Cluster: aws.String("default"), Tasks: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.client.ECS.DescribeTaskDefinition(e.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(def)})
	if err != nil {
		t.Fatal(err)
	}
	polled := taskSpec(out.Tasks[0], d.TaskDefinition, "default")
	if pushed.DefinitionError != "" || polled.DefinitionError != "" {
		t.Fatalf("definition errors: pushed %q, polled %q", pushed.DefinitionError, polled.DefinitionError)
	}
	// ACS sends the environment as a map: the order is not the definition's.
	for _, s := range []*apiv1.TaskSpec{&pushed, &polled} {
		for i := range s.Containers {
			slices.SortFunc(s.Containers[i].Environment, func(a, b apiv1.KeyValue) int { return strings.Compare(a.Name, b.Name) })
		}
	}
	if !reflect.DeepEqual(pushed, polled) {
		t.Errorf("the task pushed over ACS and the polled one differ:\npushed %+v\npolled %+v", pushed, polled)
		for i := range pushed.Containers {
			if !reflect.DeepEqual(pushed.Containers[i], polled.Containers[i]) {
				t.Errorf("container %d:\npushed %+v\npolled %+v", i, pushed.Containers[i], polled.Containers[i])
			}
		}
	}
	app := pushed.ContainerSpecFor("app")
	if !slices.Equal(app.Command, []string{"sleep", "5"}) || *app.Memory != 128 || pushed.TaskRoleArn == "" || app.HealthCheck == nil || app.LogConfiguration == nil {
		t.Errorf("overrides or dockerConfig not applied: %+v", app)
	}
}

func TestACSPayloadIsAckedOnlyOnceItsTasksArePersisted(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	def := e.taskDef()
	faulty := store.NewFaulty(e.store)
	faulty.FailNext("Create", -1, errors.New("disk full"))
	e.session(inst, faulty)
	e.eventually("session open", func() bool { return len(e.fake.ACSSessions()) == 1 })
	arn := e.startTask(inst, def, nil)
	e.eventually("the payload refused", func() bool { return faulty.Calls("Create") >= 1 })
	time.Sleep(200 * time.Millisecond)
	if n := e.fake.PendingPayloads(inst); n != 1 || e.has(arn) {
		t.Fatalf("payload pending %d, task stored %v; want it unacked and not stored", n, e.has(arn))
	}
	faulty.Reset()
	e.fake.CloseACS(inst, websocket.CloseNormalClosure, "")
	e.eventually("the resent payload persisted and acked", func() bool { return e.has(arn) && e.fake.PendingPayloads(inst) == 0 })

	e.fake.StopTask(arn, "done")
	e.eventually("the StopTask push applied", func() bool { return e.task(arn).Spec.DesiredStatus == apiv1.StatusStopped })
	e.eventually("the StopTask push acked", func() bool { return e.fake.PendingPayloads(inst) == 0 })
	var acks int
	for _, f := range e.fake.ACSFrames() {
		if f.Direction == "in" && f.Type == "AckRequest" {
			acks++
		}
	}
	if acks != 2 {
		t.Errorf("%d payload acks, want 2 (the resent RunTask payload and the StopTask one)", acks)
	}
}

func TestACSCredentialsAreKeptInMemoryOnlyAndRenewalsReplaceThem(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	def := e.richTaskDef()
	s, _ := e.session(inst, e.store)
	e.eventually("session open", func() bool { return len(e.fake.ACSSessions()) == 1 })
	arn := e.startTask(inst, def, nil)
	holder := s.Credentials.(*credentials.Holder)
	execution := credentials.Key{TaskARN: arn, Role: apiv1.RoleTypeExecution}
	e.eventually("execution role credentials kept", func() bool { _, _, ok := holder.Get(execution); return ok })
	renewed, ok := e.fake.RefreshCredentials(arn, acs.RoleTypeTaskExecution)
	if !ok {
		t.Fatal("no execution role")
	}
	e.eventually("the renewal kept", func() bool {
		c, src, _ := holder.Get(execution)
		return c.SecretAccessKey == renewed.SecretAccessKey && src == apiv1.CredentialsFromACS
	})
	if c, _, _ := holder.Get(execution); c.RoleArn != "arn:aws:iam::123456789012:role/exec" || c.Expiration.IsZero() {
		t.Errorf("kept %v", c)
	}
	var ci apiv1.ContainerInstance
	if err := e.store.Get(e.ctx, apiv1.ContainerInstanceName, &ci); err != nil {
		t.Fatal(err)
	}
	task := e.task(arn)
	for _, obj := range []any{ci, *task} {
		if strings.Contains(strings.ToLower(toJSON(t, obj)), strings.ToLower(renewed.SecretAccessKey)) {
			t.Errorf("a secret reached the store: %s", toJSON(t, obj))
		}
	}
}

func TestACSManifestStopsWhatECSConfirmsAndStaleManifestsAreDropped(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	def := e.taskDef()
	e.session(inst, e.store)
	e.eventually("session open", func() bool { return len(e.fake.ACSSessions()) == 1 })
	kept := e.startTask(inst, def, nil)
	e.eventually("task pushed", func() bool { return e.has(kept) })
	// A task ECS no longer knows (its instance's earlier life, say).
	forgotten := "arn:aws:ecs:us-west-2:123456789012:task/default/0123456789abcdef0123456789abcdef"
	orphan := &apiv1.Task{Spec: apiv1.TaskSpec{Arn: forgotten, Source: apiv1.SourceECS, DesiredStatus: apiv1.StatusRunning, Cluster: "default"}}
	orphan.Name = apiv1.TaskNameFromARN(forgotten)
	if err := e.store.Create(e.ctx, orphan); err != nil {
		t.Fatal(err)
	}
	id := e.fake.SendManifest(inst)
	e.eventually("the forgotten task stopped", func() bool { return e.task(forgotten).Spec.DesiredStatus == apiv1.StatusStopped })
	if e.task(kept).Spec.DesiredStatus != apiv1.StatusRunning {
		t.Error("a task the manifest lists RUNNING was stopped")
	}
	var verified bool
	for _, f := range e.fake.ACSFrames() {
		verified = verified || (f.Type == "TaskStopVerificationMessage" && f.MessageID == id && strings.Contains(string(f.Message), forgotten))
	}
	if !verified {
		t.Error("no TaskStopVerificationMessage for the manifest naming the forgotten task")
	}

	var ci apiv1.ContainerInstance
	if err := e.store.Get(e.ctx, apiv1.ContainerInstanceName, &ci); err != nil || ci.Status.ACS == nil || ci.Status.ACS.SeqNum == nil {
		t.Fatalf("no persisted seqNum: %+v %v", ci.Status, err)
	}
	mark := *ci.Status.ACS.SeqNum
	h := &acsHandler{Store: e.store, Log: logr.Discard()}
	for _, tl := range []int64{mark - 1, mark} {
		if _, ok, err := h.Manifest(e.ctx, &acs.TaskManifestMessage{MessageID: "old", Timeline: &tl}); ok || err != nil {
			t.Errorf("manifest at timeline %d (mark %d) accepted (err %v), want dropped", tl, mark, err)
		}
	}
}

func TestACSRefusingTheInstanceAsInactiveIsTheDeregisteredExit(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	if _, err := e.client.ECS.DeregisterContainerInstance(e.ctx, &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(inst)}); err != nil {
		t.Fatal(err)
	}
	_, done := e.session(inst, e.store)
	select {
	case err := <-done:
		var perm *PermanentError
		if !errors.As(err, &perm) || !errors.Is(err, acs.ErrInactiveInstance) || !strings.Contains(err.Error(), "--reregister") {
			t.Errorf("session ended with %v, want a PermanentError for the inactive instance naming --reregister", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the session of a deregistered instance kept retrying")
	}
}

func TestPollingIsTheBackstopWhileASessionIsUp(t *testing.T) {
	up := false
	p := &Poller{Interval: time.Second, SessionUp: func() bool { return up }}
	if d := p.next(nil); d > time.Second || d < 800*time.Millisecond {
		t.Errorf("without a session the wait is %v, want ECS_POLL_INTERVAL (1 s) less up to a fifth", d)
	}
	up = true
	if d := p.next(nil); d > BackstopInterval || d < 4*time.Minute {
		t.Errorf("with a session the wait is %v, want 5 min less up to a fifth", d)
	}
}

func TestAgentHashIsTheDescribedCommit(t *testing.T) {
	for v, want := range map[string]string{"v1.2-3-gabc1234": "abc1234", "e119daf": "e119daf", "e119daf-dirty": "e119daf", "dev": "", "1.0.0": ""} {
		if got := agentHash(v); got != want {
			t.Errorf("agentHash(%q) = %q, want %q", v, got, want)
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
