package fakeecs

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// clusterName resolves a cluster parameter (short name, ARN, or empty for "default").
func clusterName(ref *string) string {
	s := deref(ref)
	if s == "" {
		return defaultClusterName
	}
	if strings.HasPrefix(s, "arn:") {
		return lastSegment(s)
	}
	return s
}

// cluster returns an existing ACTIVE cluster; callers hold f.mu.
func (f *Fake) cluster(ref *string) (*types.Cluster, error) {
	c, ok := f.clusters[clusterName(ref)]
	if !ok || deref(c.Status) != "ACTIVE" {
		return nil, errClusterNotFound()
	}
	return c, nil
}

// CreateCluster creates a cluster directly (as the CreateCluster call does) and returns its ARN.
func (f *Fake) CreateCluster(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return deref(f.createCluster(name).ClusterArn)
}

func (f *Fake) createCluster(name string) *types.Cluster {
	if name == "" {
		name = defaultClusterName
	}
	if c, ok := f.clusters[name]; ok {
		c.Status = ptr("ACTIVE")
		return c
	}
	c := &types.Cluster{
		ClusterName: ptr(name),
		ClusterArn:  ptr(f.arn("cluster/" + name)),
		Status:      ptr("ACTIVE"),
	}
	f.clusters[name] = c
	f.clusterSeq = append(f.clusterSeq, name)
	return c
}

// withCounts fills in the counters ECS reports with a cluster; callers hold f.mu.
func (f *Fake) withCounts(c *types.Cluster) types.Cluster {
	out := clone(*c)
	for _, ci := range f.instances {
		if deref(ci.Status) != "INACTIVE" && inCluster(c, deref(ci.ContainerInstanceArn)) {
			out.RegisteredContainerInstancesCount++
		}
	}
	out.RunningTasksCount, out.PendingTasksCount = f.taskCounts(func(t *types.Task) bool {
		return deref(t.ClusterArn) == deref(c.ClusterArn)
	})
	return out
}

func actCreateCluster(f *Fake, in *ecs.CreateClusterInput) (any, error) {
	c := f.createCluster(deref(in.ClusterName))
	if len(in.Tags) > 0 {
		c.Tags = in.Tags
	}
	out := f.withCounts(c)
	return &ecs.CreateClusterOutput{Cluster: &out}, nil
}

func actDescribeClusters(f *Fake, in *ecs.DescribeClustersInput) (any, error) {
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{defaultClusterName}
	}
	out := &ecs.DescribeClustersOutput{Clusters: []types.Cluster{}, Failures: []types.Failure{}}
	for _, ref := range refs {
		c, ok := f.clusters[clusterName(&ref)]
		if !ok {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = f.arn("cluster/" + ref)
			}
			out.Failures = append(out.Failures, types.Failure{Arn: ptr(arn), Reason: ptr("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, f.withCounts(c))
	}
	return out, nil
}

func actListClusters(f *Fake, in *ecs.ListClustersInput) (any, error) {
	var arns []string
	for _, name := range f.clusterSeq {
		if c := f.clusters[name]; deref(c.Status) == "ACTIVE" {
			arns = append(arns, deref(c.ClusterArn))
		}
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ecs.ListClustersOutput{ClusterArns: page, NextToken: next}, nil
}
