package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ECS task definitions and slow rollouts, in awsJson1_1. kumo registers
// task definitions but cannot list them, and its services are not the
// front's, so the front keeps both: RegisterTaskDefinition and
// ListTaskDefinitions (familyPrefix, status, sort, paging) are answered
// here, and a service's taskDefinition is the registered revision's ARN
// when it names one. A rollout set with SetECSRollout keeps a service's
// next deployment IN_PROGRESS (or ends it FAILED) for a number of
// DescribeServices reads, as a real one takes minutes.

type ecsTaskDef struct {
	ARN      string
	Family   string
	Revision int
	Status   string
}

type ecsRollout struct {
	reads, left int
	fail        bool
}

// SetECSRollout makes the next deployments of a service stay IN_PROGRESS
// for reads DescribeServices reads, then end COMPLETED, or FAILED when fail
// is set (the old deployment then stays PRIMARY's companion, as after a
// circuit breaker stop).
func (s *Server) SetECSRollout(cluster, service string, reads int, fail bool) {
	s.ecs.mu.Lock()
	defer s.ecs.mu.Unlock()
	s.ecs.rollouts[ecsARN+"service/"+cluster+"/"+service] = &ecsRollout{reads: reads, fail: fail}
}

// ECSTaskDefinition reports the task definition a service runs ("" if
// unknown).
func (s *Server) ECSTaskDefinition(cluster, service string) string {
	s.ecs.mu.Lock()
	defer s.ecs.mu.Unlock()
	if svc := s.ecs.find(cluster, service); svc != nil {
		return svc.TaskDef
	}
	return ""
}

func (st *ecsState) registerTaskDefinition(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Family               string           `json:"family"`
		ContainerDefinitions []map[string]any `json:"containerDefinitions"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if in.Family == "" || len(in.ContainerDefinitions) == 0 {
		WriteJSONError(w, http.StatusBadRequest, "ClientException", "family and containerDefinitions are required")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	rev := len(st.taskDefs[in.Family]) + 1
	td := ecsTaskDef{ARN: ecsARN + "task-definition/" + in.Family + ":" + strconv.Itoa(rev), Family: in.Family, Revision: rev, Status: "ACTIVE"}
	st.taskDefs[in.Family] = append(st.taskDefs[in.Family], td)
	writeJSON(w, map[string]any{"taskDefinition": map[string]any{
		"taskDefinitionArn": td.ARN, "family": td.Family, "revision": td.Revision, "status": td.Status,
		"containerDefinitions": in.ContainerDefinitions,
	}})
}

func (st *ecsState) listTaskDefinitions(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		Sort         string `json:"sort"`
		MaxResults   int    `json:"maxResults"`
		NextToken    string `json:"nextToken"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if in.Status == "" {
		in.Status = "ACTIVE"
	}
	st.mu.Lock()
	var arns []string
	for _, fam := range sortedKeys(st.taskDefs) {
		if !strings.HasPrefix(fam, in.FamilyPrefix) {
			continue
		}
		for _, td := range st.taskDefs[fam] {
			if in.Status == "ALL" || td.Status == in.Status {
				arns = append(arns, td.ARN)
			}
		}
	}
	st.mu.Unlock()
	if in.Sort == "DESC" {
		slices.Reverse(arns)
	}
	page, next, ok := ecsPage(w, arns, in.MaxResults, 100, in.NextToken)
	if ok {
		writeJSON(w, map[string]any{"taskDefinitionArns": page, "nextToken": next})
	}
}

// knownTaskDef resolves family, family:revision or an ARN to a registered
// revision's ARN; an unregistered family is taken as given (services
// seeded without revisions name one). Caller holds mu.
func (st *ecsState) knownTaskDef(ref string) (string, bool) {
	name := ref
	if i := strings.LastIndex(ref, "task-definition/"); i >= 0 {
		name = ref[i+len("task-definition/"):]
	}
	fam, rev, hasRev := strings.Cut(name, ":")
	tds, ok := st.taskDefs[fam]
	if !ok {
		return ref, true
	}
	if !hasRev {
		for i := len(tds) - 1; i >= 0; i-- {
			if tds[i].Status == "ACTIVE" {
				return tds[i].ARN, true
			}
		}
		return "", false
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(tds) {
		return "", false
	}
	return tds[n-1].ARN, true
}

// resolveTaskDef is knownTaskDef for creates, which keep an unknown
// reference as given. Caller holds mu.
func (st *ecsState) resolveTaskDef(ref string) string {
	if td, ok := st.knownTaskDef(ref); ok {
		return td
	}
	return ref
}

// advanceRollout counts one read of a service with a deployment in
// flight and settles it when its reads are used up. Caller holds mu.
func (st *ecsState) advanceRollout(svc *ecsService) {
	ro := st.rollouts[svc.ServiceArn]
	if ro == nil || len(svc.Deployments) < 2 || svc.Deployments[0].RolloutState != "IN_PROGRESS" {
		return
	}
	if ro.left > 0 {
		ro.left--
		return
	}
	now := st.epoch()
	if ro.fail {
		svc.Deployments[0].RolloutState, svc.Deployments[0].UpdatedAt = "FAILED", now
		return
	}
	d := svc.Deployments[0]
	d.RolloutState, d.RunningCount, d.PendingCount, d.UpdatedAt = "COMPLETED", svc.DesiredCount, 0, now
	svc.Deployments = []ecsDeployment{d}
	svc.RunningCount = svc.DesiredCount
}
