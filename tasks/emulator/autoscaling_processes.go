package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// Auto Scaling SuspendProcesses, ResumeProcesses and
// UpdateAutoScalingGroup (min, max, desired), in the awsQuery wire format.
// Suspended processes show in DescribeAutoScalingGroups as AWS shows them,
// with the "User suspended at …" reason.

// asgProcesses are the process names AWS accepts.
var asgProcesses = []string{"AZRebalance", "AddToLoadBalancer", "AlarmNotification", "HealthCheck", "InstanceRefresh",
	"Launch", "ReplaceUnhealthy", "ScheduledActions", "Terminate"}

type asgXMLProcess struct {
	Name   string `xml:"ProcessName"`
	Reason string `xml:"SuspensionReason"`
}

func (st *asgState) registerProcesses() {
	st.srv.Handle("autoscaling:SuspendProcesses", st.processes(true))
	st.srv.Handle("autoscaling:ResumeProcesses", st.processes(false))
	st.srv.Handle("autoscaling:UpdateAutoScalingGroup", st.update)
}

// IgnoreGroupFilters is a fault mode: while on, DescribeAutoScalingGroups
// ignores names and filters and lists every group, so tests can check that
// actions trust the app's binding and not the server's filtering.
func (s *Server) IgnoreGroupFilters(on bool) {
	s.asg.mu.Lock()
	defer s.asg.mu.Unlock()
	s.asg.ignoreFilters = on
}

// GroupSuspended lists a group's suspended processes, sorted.
func (s *Server) GroupSuspended(name string) []string {
	s.asg.mu.Lock()
	defer s.asg.mu.Unlock()
	if g, ok := s.asg.groups[name]; ok {
		return sortedKeys(g.suspended)
	}
	return nil
}

// GroupSize reports a group's min, max and desired capacity (-1s if unknown).
func (s *Server) GroupSize(name string) (minSize, maxSize, desired int) {
	s.asg.mu.Lock()
	defer s.asg.mu.Unlock()
	if g, ok := s.asg.groups[name]; ok {
		return g.min, g.max, g.desired
	}
	return -1, -1, -1
}

func (st *asgState) processes(suspend bool) Handler {
	op := "ResumeProcesses"
	if suspend {
		op = "SuspendProcesses"
	}
	return func(w http.ResponseWriter, _ *http.Request, body []byte) {
		q, ok := queryForm(w, body)
		if !ok {
			return
		}
		name := q.Get("AutoScalingGroupName")
		procs := queryList(q, "ScalingProcesses.member")
		for _, p := range procs {
			if !slices.Contains(asgProcesses, p) {
				WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Process name "+p+" is not valid.")
				return
			}
		}
		if len(procs) == 0 { // no list: every process
			procs = asgProcesses
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		g, ok := st.groups[name]
		if !ok {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found - no such group: "+name)
			return
		}
		if g.suspended == nil {
			g.suspended = map[string]string{}
		}
		for _, p := range procs {
			if suspend {
				if _, already := g.suspended[p]; !already {
					g.suspended[p] = "User suspended at " + st.now().UTC().Format("2006-01-02T15:04:05Z")
				}
			} else {
				delete(g.suspended, p)
			}
		}
		writeQueryResponse(w, asgXMLNS, op, struct{}{})
	}
}

func (st *asgState) update(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("AutoScalingGroupName")
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.groups[name]
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found - no such group: "+name)
		return
	}
	minSize, maxSize, desired := g.min, g.max, g.desired
	for _, f := range []struct {
		key string
		v   *int
	}{{"MinSize", &minSize}, {"MaxSize", &maxSize}, {"DesiredCapacity", &desired}} {
		if s := q.Get(f.key); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				WriteQueryError(w, http.StatusBadRequest, "ValidationError", f.key+" must be a non-negative integer")
				return
			}
			*f.v = n
		}
	}
	if minSize > maxSize {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Max bound, %d, must be greater than or equal to min bound, %d", maxSize, minSize))
		return
	}
	if q.Get("DesiredCapacity") == "" { // AWS keeps desired inside new bounds
		desired = min(max(desired, minSize), maxSize)
	}
	if desired < minSize || desired > maxSize {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError",
			fmt.Sprintf("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minSize, maxSize))
		return
	}
	g.min, g.max = minSize, maxSize
	st.scale(g, desired)
	writeQueryResponse(w, asgXMLNS, "UpdateAutoScalingGroup", struct{}{})
}
