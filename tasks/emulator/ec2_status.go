package emulator

import (
	"encoding/xml"
	"net/http"
	"strconv"
)

// DescribeInstanceStatus in the ec2Query wire format (kumo has none), with
// status checks tests control: an instance can report "initializing" or
// "impaired" for its next few status reads, as a rebooting or sick one
// does on AWS, then "ok". Counting reads instead of time keeps tests free
// of clocks and sleeps. Target health (elbv2.go) follows: an instance
// that is not ok is an unhealthy target.

// instanceCheck is what status reads of one instance report for a while.
type instanceCheck struct {
	status string // "initializing", "impaired", "insufficient-data"
	reads  int    // how many more DescribeInstanceStatus answers say so
}

// SetInstanceStatus makes the next reads DescribeInstanceStatus answers
// for id report status ("initializing", "impaired"...) before "ok".
func (s *Server) SetInstanceStatus(id, status string, reads int) {
	s.ec2.mu.Lock()
	defer s.ec2.mu.Unlock()
	if reads <= 0 {
		delete(s.ec2.checks, id)
		return
	}
	s.ec2.checks[id] = instanceCheck{status: status, reads: reads}
}

// SetBootReads makes id report "initializing" for its next reads status
// reads after each reboot or start, as a real instance takes a while to
// pass its checks again (default 0: back at once).
func (s *Server) SetBootReads(id string, reads int) {
	s.ec2.mu.Lock()
	defer s.ec2.mu.Unlock()
	s.ec2.boot[id] = reads
}

// booted starts id's boot-time "initializing" reads. Caller holds mu.
func (st *ec2State) booted(id string) {
	if n := st.boot[id]; n > 0 {
		st.checks[id] = instanceCheck{status: "initializing", reads: n}
	}
}

// checkOf is id's status now, without using up a read. Caller holds mu.
func (st *ec2State) checkOf(id string) string {
	if c, ok := st.checks[id]; ok && c.reads > 0 {
		return c.status
	}
	return "ok"
}

type ec2StatusDetail struct {
	Name   string `xml:"name"`
	Status string `xml:"status"`
}

type ec2StatusSummary struct {
	Status  string            `xml:"status"`
	Details []ec2StatusDetail `xml:"details>item"`
}

type ec2StatusItem struct {
	InstanceID     string           `xml:"instanceId"`
	AZ             string           `xml:"availabilityZone"`
	State          ec2XMLState      `xml:"instanceState"`
	SystemStatus   ec2StatusSummary `xml:"systemStatus"`
	InstanceStatus ec2StatusSummary `xml:"instanceStatus"`
}

type ec2StatusResponse struct {
	XMLName   xml.Name        `xml:"DescribeInstanceStatusResponse"`
	Xmlns     string          `xml:"xmlns,attr"`
	RequestID string          `xml:"requestId"`
	Items     []ec2StatusItem `xml:"instanceStatusSet>item"`
	NextToken string          `xml:"nextToken,omitempty"`
}

// describeInstanceStatus answers for InstanceId.N (or every instance),
// only running ones unless IncludeAllInstances, as AWS does; a stopped
// instance included reports "not-applicable".
func (st *ec2State) describeInstanceStatus(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	ids := ec2List(q, "InstanceId")
	all, _ := strconv.ParseBool(q.Get("IncludeAllInstances"))
	limit, start, ok := ec2PageParams(w, q, "ec2st-")
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if missing := st.missing(ids); len(missing) > 0 {
		ec2NotFound(w, missing)
		return
	}
	candidates := st.order
	if len(ids) > 0 {
		candidates = ids
	}
	var matched []*ec2Instance
	for _, id := range candidates {
		if in := st.instances[id]; in.state == "running" || (all && in.state != "terminated") {
			matched = append(matched, in)
		}
	}
	instances, next := page(matched, start, limit, "ec2st-")
	out := ec2StatusResponse{Xmlns: ec2XMLNS, RequestID: "emulator", NextToken: next, Items: []ec2StatusItem{}}
	for _, in := range instances {
		status := "not-applicable"
		if in.state == "running" {
			status = st.checkOf(in.id)
			if c, ok := st.checks[in.id]; ok && c.reads > 0 {
				c.reads--
				st.checks[in.id] = c
			}
		}
		detail := "passed"
		switch status {
		case "impaired":
			detail = "failed"
		case "initializing", "not-applicable", "insufficient-data":
			detail = status
		}
		out.Items = append(out.Items, ec2StatusItem{
			InstanceID: in.id, AZ: in.az, State: ec2XMLState{ec2StateCodes[in.state], in.state},
			SystemStatus:   ec2StatusSummary{Status: map[bool]string{true: "ok", false: "not-applicable"}[in.state == "running"], Details: []ec2StatusDetail{{"reachability", map[bool]string{true: "passed", false: "not-applicable"}[in.state == "running"]}}},
			InstanceStatus: ec2StatusSummary{Status: status, Details: []ec2StatusDetail{{"reachability", detail}}},
		})
	}
	writeEC2(w, out)
}
