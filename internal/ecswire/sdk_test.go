package ecswire

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go/middleware"
)

// The SDK client is the reference: what it sends must decode to what it was
// given, and what ecswire answers must decode in the client to what was
// encoded. These are the directions the fake ECS endpoint uses.

// sdkCall runs one call of a real client against a server that records the
// request body and answers with answer.
func sdkCall(t *testing.T, answer []byte, call func(context.Context, *ecs.Client) error) (request []byte) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		request, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(answer)
	}))
	defer srv.Close()
	client := ecs.New(ecs.Options{
		Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := call(ctx, client); err != nil {
		t.Fatal(err)
	}
	return request
}

func definitionInput() *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: types.NetworkModeBridge, Cpu: aws.String("256"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64), Essential: aws.Bool(true),
			Command:      []string{"sh", "-c", ""},
			Environment:  []types.KeyValuePair{{Name: aws.String("EMPTY"), Value: aws.String("")}},
			PortMappings: []types.PortMapping{},
			DockerLabels: map[string]string{"team": "a", "blank": ""},
			DependsOn:    []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}},
			HealthCheck:  &types.HealthCheck{Command: []string{"CMD", "true"}, Interval: aws.Int32(5)},
			Ulimits:      []types.Ulimit{{Name: types.UlimitNameNofile, SoftLimit: 0, HardLimit: 1024}},
			ResourceRequirements: []types.ResourceRequirement{{
				Type: types.ResourceTypeGpu, Value: aws.String("1"),
				SharingStrategy: &types.SharingStrategyMemberNvidiaMps{Value: types.NvidiaMpsAllocation{Memory: aws.Int32(512)}},
			}},
		}},
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	}
}

func TestDecodesWhatTheSDKSends(t *testing.T) {
	started := time.Date(2025, 6, 7, 8, 9, 10, 123_000_000, time.UTC)
	tests := []struct {
		name string
		in   any // a pointer to an input
		call func(context.Context, *ecs.Client, any) error
	}{
		{"register task definition: nested lists, maps, enums, a union, empty strings and lists",
			definitionInput(),
			func(ctx context.Context, c *ecs.Client, in any) error {
				_, err := c.RegisterTaskDefinition(ctx, in.(*ecs.RegisterTaskDefinitionInput))
				return err
			}},
		{"submit task state change: timestamps and nested structures",
			&ecs.SubmitTaskStateChangeInput{
				Task: aws.String("arn:task"), Status: aws.String("RUNNING"), PullStartedAt: &started,
				ExecutionStoppedAt: aws.Time(started.Add(time.Hour).Truncate(time.Second)),
				Containers: []types.ContainerStateChange{{
					ContainerName: aws.String("app"), ExitCode: aws.Int32(0), Status: aws.String("RUNNING"),
					NetworkBindings: []types.NetworkBinding{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(32768), Protocol: types.TransportProtocolTcp}},
				}},
			},
			func(ctx context.Context, c *ecs.Client, in any) error {
				_, err := c.SubmitTaskStateChange(ctx, in.(*ecs.SubmitTaskStateChangeInput))
				return err
			}},
		{"register container instance: map of attributes, float resources",
			&ecs.RegisterContainerInstanceInput{
				Cluster: aws.String("default"),
				TotalResources: []types.Resource{
					{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
					{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22", "51678"}},
					{Name: aws.String("X"), Type: aws.String("DOUBLE"), DoubleValue: 0.5},
				},
				Attributes: []types.Attribute{{Name: aws.String("ecs.capability.docker-remote-api.1.41")}},
			},
			func(ctx context.Context, c *ecs.Client, in any) error {
				_, err := c.RegisterContainerInstance(ctx, in.(*ecs.RegisterContainerInstanceInput))
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := sdkCall(t, []byte(`{}`), func(ctx context.Context, c *ecs.Client) error { return tt.call(ctx, c, tt.in) })
			got := reflect.New(reflect.TypeOf(tt.in).Elem())
			if err := Unmarshal(body, got.Interface()); err != nil {
				t.Fatalf("%v\nbody: %s", err, body)
			}
			if !reflect.DeepEqual(got.Interface(), tt.in) {
				t.Errorf("decoded\n %#v\nwant\n %#v\nfrom %s", got.Interface(), tt.in, body)
			}
			ours, err := Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, withoutZeroScalars(t, ours, body), string(body))
		})
	}
}

func TestTheSDKDecodesWhatWeAnswer(t *testing.T) {
	created := time.Date(2025, 6, 7, 8, 9, 10, 500_000_000, time.UTC)
	want := &ecs.DescribeTasksOutput{
		Tasks: []types.Task{{
			TaskArn: aws.String("arn:task"), LastStatus: aws.String("RUNNING"), DesiredStatus: aws.String("RUNNING"),
			CreatedAt: &created, Version: 3, LaunchType: types.LaunchTypeEc2,
			Containers: []types.Container{{Name: aws.String("app"), ExitCode: aws.Int32(137),
				NetworkBindings: []types.NetworkBinding{}}},
			Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
				Name: aws.String("app"), Command: []string{"echo", ""},
				Environment: []types.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}},
			}}},
			Tags: []types.Tag{},
		}},
		Failures: []types.Failure{{Arn: aws.String("arn:gone"), Reason: aws.String("MISSING")}},
	}
	answer, err := Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got *ecs.DescribeTasksOutput
	sdkCall(t, answer, func(ctx context.Context, c *ecs.Client) error {
		got, err = c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{"arn:task"}})
		return err
	})
	got.ResultMetadata = middleware.Metadata{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the SDK decoded\n %#v\nwant\n %#v\nfrom %s", got, want, answer)
	}
}

// withoutZeroScalars removes from ours the members that are 0 or false and
// that sdk leaves out. The SDK knows from the model which members default to
// zero and leaves them out at zero; without the model ecswire writes them, and
// a reader decodes the same value either way.
func withoutZeroScalars(t *testing.T, ours, sdk []byte) []byte {
	t.Helper()
	var o, s any
	if err := json.Unmarshal(ours, &o); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sdk, &s); err != nil {
		t.Fatal(err)
	}
	pruneZeros(o, s)
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pruneZeros(ours, sdk any) {
	switch o := ours.(type) {
	case map[string]any:
		s, _ := sdk.(map[string]any)
		for k, v := range o {
			sv, ok := s[k]
			if !ok && (v == 0.0 || v == false) {
				delete(o, k)
				continue
			}
			pruneZeros(v, sv)
		}
	case []any:
		s, _ := sdk.([]any)
		for i := range min(len(o), len(s)) {
			pruneZeros(o[i], s[i])
		}
	}
}
