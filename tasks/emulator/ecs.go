package emulator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECS fill-ins, in awsJson1_1. kumo's ECS has no DescribeServices,
// ListServices or ListTasks and ignores forceNewDeployment, so the emulator
// keeps clusters and services itself (their create calls included, so one
// state answers everything). Services settle at once: running equals
// desired after every update. The UpdateService response shows the
// in-flight view AWS would (the new deployment IN_PROGRESS next to the old
// one); later reads show it COMPLETED.

const ecsARN = "arn:aws:ecs:us-east-1:000000000000:"

// ECSService is a seedable ECS service.
type ECSService struct {
	Cluster        string // default "default"
	Name           string
	Desired        int32
	TaskDefinition string // default "<name>:1"
	// Revisions, when set, registers revisions 1..Revisions of the family
	// <name> and runs the service on the last one (its ARN), so a rollback
	// has somewhere to go; TaskDefinition is then ignored.
	Revisions int
	Tags      map[string]string
}

type ecsDeployment struct {
	ID           string  `json:"id"`
	Status       string  `json:"status"`
	TaskDef      string  `json:"taskDefinition"`
	DesiredCount int32   `json:"desiredCount"`
	RunningCount int32   `json:"runningCount"`
	PendingCount int32   `json:"pendingCount"`
	RolloutState string  `json:"rolloutState"`
	CreatedAt    float64 `json:"createdAt"`
	UpdatedAt    float64 `json:"updatedAt"`
}

type ecsTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type ecsService struct {
	ServiceArn   string          `json:"serviceArn"`
	ServiceName  string          `json:"serviceName"`
	ClusterArn   string          `json:"clusterArn"`
	Status       string          `json:"status"`
	DesiredCount int32           `json:"desiredCount"`
	RunningCount int32           `json:"runningCount"`
	PendingCount int32           `json:"pendingCount"`
	LaunchType   string          `json:"launchType"`
	TaskDef      string          `json:"taskDefinition"`
	Deployments  []ecsDeployment `json:"deployments"`
	CreatedAt    float64         `json:"createdAt"`
	Tags         []ecsTag        `json:"tags,omitempty"`
}

type ecsState struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      int
	clusters []string                 // creation order
	services map[string][]*ecsService // cluster name -> services in creation order
	// taskDefs and rollouts: ecs_taskdef.go.
	taskDefs map[string][]ecsTaskDef // family -> revisions in order
	rollouts map[string]*ecsRollout  // service ARN -> how its next deployment settles
}

func (s *Server) registerECS() {
	st := &ecsState{now: time.Now, services: map[string][]*ecsService{}, taskDefs: map[string][]ecsTaskDef{}, rollouts: map[string]*ecsRollout{}}
	s.ecs = st
	s.Handle("ecs:CreateCluster", st.createCluster)
	s.Handle("ecs:ListClusters", st.listClusters)
	s.Handle("ecs:CreateService", st.createService)
	s.Handle("ecs:ListServices", st.listServices)
	s.Handle("ecs:DescribeServices", st.describeServices)
	s.Handle("ecs:UpdateService", st.updateService)
	s.Handle("ecs:ListTasks", st.listTasks)
	s.Handle("ecs:RegisterTaskDefinition", st.registerTaskDefinition)
	s.Handle("ecs:ListTaskDefinitions", st.listTaskDefinitions)
}

// SeedECSService creates the cluster (if needed) and the service over the
// wire.
func (s *Server) SeedECSService(ctx context.Context, in ECSService) error {
	c := ecs.NewFromConfig(s.seedConfig())
	if in.Cluster == "" {
		in.Cluster = "default"
	}
	if in.TaskDefinition == "" {
		in.TaskDefinition = in.Name + ":1"
	}
	for range in.Revisions {
		out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(in.Name),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("public.ecr.aws/nginx/nginx:latest")}}})
		if err != nil {
			return fmt.Errorf("seed task definition %s: %w", in.Name, err)
		}
		in.TaskDefinition = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(in.Cluster)}); err != nil {
		return fmt.Errorf("seed ecs cluster %s: %w", in.Cluster, err)
	}
	var tags []ecstypes.Tag
	for _, k := range sortedKeys(in.Tags) {
		tags = append(tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(in.Tags[k])})
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(in.Cluster), ServiceName: aws.String(in.Name), DesiredCount: aws.Int32(in.Desired),
		TaskDefinition: aws.String(in.TaskDefinition), LaunchType: ecstypes.LaunchTypeFargate, Tags: tags,
	}); err != nil {
		return fmt.Errorf("seed ecs service %s: %w", in.Name, err)
	}
	return nil
}

func (st *ecsState) createCluster(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ClusterName string `json:"clusterName"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if in.ClusterName == "" {
		in.ClusterName = "default"
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.services[in.ClusterName]; !ok { // CreateCluster is idempotent
		st.clusters = append(st.clusters, in.ClusterName)
		st.services[in.ClusterName] = nil
	}
	writeJSON(w, map[string]any{"cluster": map[string]any{"clusterArn": ecsARN + "cluster/" + in.ClusterName, "clusterName": in.ClusterName, "status": "ACTIVE"}})
}

func (st *ecsState) listClusters(w http.ResponseWriter, r *http.Request, body []byte) {
	st.list(w, body, "clusterArns", 100, false, func(ecsListRequest, string) []string {
		arns := make([]string, len(st.clusters))
		for i, c := range st.clusters {
			arns[i] = ecsARN + "cluster/" + c
		}
		return arns
	})
}

func (st *ecsState) createService(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Cluster, ServiceName, TaskDefinition, LaunchType string
		DesiredCount                                     int32
		Tags                                             []ecsTag
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cluster, ok := st.cluster(w, in.Cluster)
	if !ok {
		return
	}
	if in.ServiceName == "" || in.TaskDefinition == "" {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "serviceName and taskDefinition are required")
		return
	}
	if st.find(cluster, in.ServiceName) != nil {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "Creation of service was not idempotent.")
		return
	}
	if in.LaunchType == "" {
		in.LaunchType = "FARGATE"
	}
	now := st.epoch()
	in.TaskDefinition = st.resolveTaskDef(in.TaskDefinition)
	svc := &ecsService{
		ServiceArn: ecsARN + "service/" + cluster + "/" + in.ServiceName, ServiceName: in.ServiceName,
		ClusterArn: ecsARN + "cluster/" + cluster, Status: "ACTIVE", DesiredCount: in.DesiredCount, RunningCount: in.DesiredCount,
		LaunchType: in.LaunchType, TaskDef: in.TaskDefinition, CreatedAt: now, Tags: in.Tags,
	}
	svc.Deployments = []ecsDeployment{st.deployment(svc, "COMPLETED", now)}
	st.services[cluster] = append(st.services[cluster], svc)
	writeJSON(w, map[string]any{"service": svc})
}

func (st *ecsState) listServices(w http.ResponseWriter, r *http.Request, body []byte) {
	st.list(w, body, "serviceArns", 10, true, func(_ ecsListRequest, cluster string) []string {
		var arns []string
		for _, svc := range st.services[cluster] {
			arns = append(arns, svc.ServiceArn)
		}
		return arns
	})
}

func (st *ecsState) describeServices(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
		Include  []string `json:"include"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "services must hold 1 to 10 names or ARNs")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cluster, ok := st.cluster(w, in.Cluster)
	if !ok {
		return
	}
	withTags := slices.Contains(in.Include, "TAGS")
	out := struct {
		Services []ecsService        `json:"services"`
		Failures []map[string]string `json:"failures"`
	}{Services: []ecsService{}, Failures: []map[string]string{}}
	for _, name := range in.Services {
		svc := st.find(cluster, name)
		if svc == nil {
			out.Failures = append(out.Failures, map[string]string{"arn": name, "reason": "MISSING"})
			continue
		}
		st.advanceRollout(svc)
		cp := *svc
		cp.Deployments = append([]ecsDeployment(nil), svc.Deployments...)
		if !withTags {
			cp.Tags = nil
		}
		out.Services = append(out.Services, cp)
	}
	writeJSON(w, out)
}

func (st *ecsState) updateService(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Cluster            string `json:"cluster"`
		Service            string `json:"service"`
		DesiredCount       *int32 `json:"desiredCount"`
		TaskDefinition     string `json:"taskDefinition"`
		ForceNewDeployment bool   `json:"forceNewDeployment"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cluster, ok := st.cluster(w, in.Cluster)
	if !ok {
		return
	}
	svc := st.find(cluster, in.Service)
	if svc == nil {
		WriteJSONError(w, http.StatusBadRequest, "ServiceNotFoundException", "Service not found.")
		return
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "desiredCount must not be negative")
		return
	}
	now := st.epoch()
	old := svc.Deployments[0]
	if in.DesiredCount != nil {
		svc.DesiredCount = *in.DesiredCount
	}
	if in.TaskDefinition != "" {
		td, ok := st.knownTaskDef(in.TaskDefinition)
		if !ok {
			WriteJSONError(w, http.StatusBadRequest, "ClientException", "TaskDefinition not found.")
			return
		}
		svc.TaskDef = td
	}
	resp := *svc
	if ro := st.rollouts[svc.ServiceArn]; ro != nil && (in.ForceNewDeployment || in.TaskDefinition != "") {
		// A deployment that takes ro.reads reads to settle.
		next := st.deployment(svc, "IN_PROGRESS", now)
		next.RunningCount, next.PendingCount = 0, svc.DesiredCount
		old.Status = "ACTIVE"
		svc.Deployments = []ecsDeployment{next, old}
		ro.left = ro.reads
		resp.Deployments = append([]ecsDeployment(nil), svc.Deployments...)
	} else if in.ForceNewDeployment || in.TaskDefinition != "" {
		// In flight: the new deployment starts, the old one still runs.
		next := st.deployment(svc, "IN_PROGRESS", now)
		next.RunningCount, next.PendingCount = 0, svc.DesiredCount
		old.Status = "ACTIVE"
		resp.Deployments = []ecsDeployment{next, old}
		svc.Deployments = []ecsDeployment{next}
		svc.Deployments[0].RolloutState, svc.Deployments[0].RunningCount, svc.Deployments[0].PendingCount = "COMPLETED", svc.DesiredCount, 0
	} else {
		svc.Deployments[0].DesiredCount, svc.Deployments[0].RunningCount, svc.Deployments[0].UpdatedAt = svc.DesiredCount, svc.DesiredCount, now
		resp.Deployments = append([]ecsDeployment(nil), svc.Deployments...)
	}
	if len(svc.Deployments) == 1 {
		svc.RunningCount = svc.DesiredCount
	}
	resp.Tags = nil
	writeJSON(w, map[string]any{"service": resp})
}

func (st *ecsState) listTasks(w http.ResponseWriter, r *http.Request, body []byte) {
	st.list(w, body, "taskArns", 100, true, func(in ecsListRequest, cluster string) []string {
		var arns []string
		for _, svc := range st.services[cluster] {
			if in.ServiceName != "" && svc.ServiceName != in.ServiceName {
				continue
			}
			for i := range svc.RunningCount {
				arns = append(arns, fmt.Sprintf("%stask/%s/%s-%s-%d", ecsARN, cluster, svc.ServiceName, svc.Deployments[0].ID[len("ecs-svc/"):], i))
			}
		}
		return arns
	})
}

// ecsListRequest is the input of the List operations (ListClusters reads
// only the paging fields).
type ecsListRequest struct {
	Cluster     string `json:"cluster"`
	ServiceName string `json:"serviceName"`
	MaxResults  int    `json:"maxResults"`
	NextToken   string `json:"nextToken"`
}

// list answers a List operation: arns lists everything under the lock
// (in the request's cluster, resolved first when inCluster), and one page
// of it is answered under key, def ARNs a page unless maxResults says.
func (st *ecsState) list(w http.ResponseWriter, body []byte, key string, def int, inCluster bool, arns func(in ecsListRequest, cluster string) []string) {
	var in ecsListRequest
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cluster := ""
	if inCluster {
		var ok bool
		if cluster, ok = st.cluster(w, in.Cluster); !ok {
			return
		}
	}
	page, next, ok := ecsPage(w, arns(in, cluster), in.MaxResults, def, in.NextToken)
	if ok {
		writeJSON(w, map[string]any{key: page, "nextToken": next})
	}
}

// cluster resolves a cluster name or ARN (default "default").
func (st *ecsState) cluster(w http.ResponseWriter, ref string) (string, bool) {
	name := ref
	if i := strings.LastIndex(ref, "cluster/"); i >= 0 {
		name = ref[i+len("cluster/"):]
	}
	if name == "" {
		name = "default"
	}
	if _, ok := st.services[name]; !ok {
		WriteJSONError(w, http.StatusBadRequest, "ClusterNotFoundException", "Cluster not found.")
		return "", false
	}
	return name, true
}

// find resolves a service name or ARN within a cluster.
func (st *ecsState) find(cluster, ref string) *ecsService {
	for _, svc := range st.services[cluster] {
		if svc.ServiceName == ref || svc.ServiceArn == ref {
			return svc
		}
	}
	return nil
}

func (st *ecsState) deployment(svc *ecsService, rollout string, now float64) ecsDeployment {
	st.seq++
	return ecsDeployment{
		ID: fmt.Sprintf("ecs-svc/%019d", st.seq), Status: "PRIMARY", TaskDef: svc.TaskDef,
		DesiredCount: svc.DesiredCount, RunningCount: svc.DesiredCount, RolloutState: rollout, CreatedAt: now, UpdatedAt: now,
	}
}

func (st *ecsState) epoch() float64 { return float64(st.now().UnixMilli()) / 1000 }

// ecsPage pages a list by offset tokens; maxResults 0 means def.
func ecsPage(w http.ResponseWriter, all []string, maxResults, def int, token string) ([]string, *string, bool) {
	if maxResults == 0 {
		maxResults = def
	}
	if maxResults < 1 || maxResults > 100 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "maxResults must be between 1 and 100")
		return nil, nil, false
	}
	start, ok := parsePageToken(token, "")
	if !ok || start > len(all) {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "Invalid nextToken")
		return nil, nil, false
	}
	items, next := page(all, start, maxResults, "")
	if next == "" {
		return append([]string{}, items...), nil, true
	}
	return append([]string{}, items...), aws.String(next), true
}
