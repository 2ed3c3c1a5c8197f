package emulator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ELBv2 target groups, in the awsQuery wire format. kumo's
// DescribeTargetGroups ignores Names (its form decoding drops the member
// lists) and pages, and its DescribeTargetHealth reports every target
// healthy. Target groups therefore live here: Create/DescribeTargetGroups,
// Register/DeregisterTargets, DescribeTargetHealth, and AddTags/DescribeTags
// for target group ARNs (other ARNs go to kumo, which keeps load
// balancers). Health follows the emulated EC2 instance state (a stopped
// instance is "unused", as in AWS) unless a test or the sandbox sets it
// with SetTargetHealth.

const elbXMLNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// TargetGroup is what SeedTargetGroup creates.
type TargetGroup struct {
	Name    string
	Port    int // default 80
	Tags    map[string]string
	Targets []string // instance ids
}

type elbTargetGroup struct {
	name, arn string
	port      int
	tags      map[string]string
	targets   []string
}

type elbHealth struct{ state, reason, description string }

type elbState struct {
	srv *Server

	mu     sync.Mutex
	seq    int
	groups map[string]*elbTargetGroup // by ARN
	order  []string                   // creation order
	health map[string]elbHealth       // by ARN + " " + target id
}

func (s *Server) registerELBv2() {
	st := &elbState{srv: s, groups: map[string]*elbTargetGroup{}, health: map[string]elbHealth{}}
	s.elb = st
	s.Handle("elasticloadbalancing:CreateTargetGroup", st.create)
	s.Handle("elasticloadbalancing:DescribeTargetGroups", st.describe)
	s.Handle("elasticloadbalancing:RegisterTargets", st.register(true))
	s.Handle("elasticloadbalancing:DeregisterTargets", st.register(false))
	s.Handle("elasticloadbalancing:DescribeTargetHealth", st.targetHealth)
	s.Handle("elasticloadbalancing:AddTags", st.addTags)
	s.Handle("elasticloadbalancing:DescribeTags", st.describeTags)
}

// SeedTargetGroup creates a target group with tags and registered
// targets over the wire and returns its ARN.
func (s *Server) SeedTargetGroup(ctx context.Context, g TargetGroup) (string, error) {
	c := elb.NewFromConfig(s.seedConfig())
	if g.Port == 0 {
		g.Port = 80
	}
	in := &elb.CreateTargetGroupInput{Name: aws.String(g.Name), Port: aws.Int32(int32(g.Port)), Protocol: elbtypes.ProtocolEnumHttp,
		VpcId: aws.String("vpc-emulator"), TargetType: elbtypes.TargetTypeEnumInstance, Tags: elbSDKTags(g.Tags)}
	out, err := c.CreateTargetGroup(ctx, in)
	if err != nil {
		return "", fmt.Errorf("seed target group %s: %w", g.Name, err)
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if len(g.Targets) > 0 {
		var ts []elbtypes.TargetDescription
		for _, id := range g.Targets {
			ts = append(ts, elbtypes.TargetDescription{Id: aws.String(id)})
		}
		if _, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: ts}); err != nil {
			return arn, fmt.Errorf("seed targets of %s: %w", g.Name, err)
		}
	}
	return arn, nil
}

// SetTargetHealth overrides what DescribeTargetHealth reports for one
// target, e.g. ("unhealthy", "Target.FailedHealthChecks", "Health checks
// failed with these codes: [502]"). An empty state clears the override.
func (s *Server) SetTargetHealth(targetGroupARN, id, state, reason, description string) {
	s.elb.mu.Lock()
	defer s.elb.mu.Unlock()
	if state == "" {
		delete(s.elb.health, targetGroupARN+" "+id)
		return
	}
	s.elb.health[targetGroupARN+" "+id] = elbHealth{state, reason, description}
}

func (st *elbState) create(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("Name")
	if name == "" || len(name) > 32 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Target group name '"+name+"' can only contain characters that are alphanumeric characters or hyphens(-) and must be at most 32 characters")
		return
	}
	port, _ := strconv.Atoi(q.Get("Port"))
	st.mu.Lock()
	defer st.mu.Unlock()
	if g, ok := elbByName(st.groups, st.order, name); ok { // same name: AWS answers with the existing one
		writeQueryResponse(w, elbXMLNS, "CreateTargetGroup", elbGroupsResult{Groups: []elbXMLGroup{g.xml()}})
		return
	}
	st.seq++
	g := &elbTargetGroup{name: name, port: port, tags: elbTags(q),
		arn: fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/%s/%016x", name, st.seq)}
	st.groups[g.arn] = g
	st.order = append(st.order, g.arn)
	writeQueryResponse(w, elbXMLNS, "CreateTargetGroup", elbGroupsResult{Groups: []elbXMLGroup{g.xml()}})
}

func (st *elbState) describe(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	l, ok := readELBList(w, q, "TargetGroupArns.member", "Target group", 0, "elbtok-")
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	groups, next, _, ok := elbPage(l, st.groups, st.order, (*elbTargetGroup).xml)
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "TargetGroupNotFound", "One or more target groups not found")
		return
	}
	out := elbGroupsResult{Groups: groups, NextMarker: next}
	writeQueryResponse(w, elbXMLNS, "DescribeTargetGroups", out)
}

func (st *elbState) register(add bool) Handler {
	return func(w http.ResponseWriter, _ *http.Request, body []byte) {
		q, ok := queryForm(w, body)
		if !ok {
			return
		}
		var ids []string
		for i := 1; q.Has("Targets.member." + strconv.Itoa(i) + ".Id"); i++ {
			ids = append(ids, q.Get("Targets.member."+strconv.Itoa(i)+".Id"))
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		g, ok := st.groups[q.Get("TargetGroupArn")]
		if !ok {
			WriteQueryError(w, http.StatusBadRequest, "TargetGroupNotFound", "Target group '"+q.Get("TargetGroupArn")+"' not found")
			return
		}
		op := "DeregisterTargets"
		for _, id := range ids {
			i := slices.Index(g.targets, id)
			switch {
			case add && i < 0:
				g.targets = append(g.targets, id)
			case !add && i >= 0:
				g.targets = slices.Delete(g.targets, i, i+1)
			}
		}
		if add {
			op = "RegisterTargets"
		}
		writeQueryResponse(w, elbXMLNS, op, struct{}{})
	}
}

func (st *elbState) targetHealth(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	arn := q.Get("TargetGroupArn")
	g, ok := st.groups[arn]
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "TargetGroupNotFound", "Target group '"+arn+"' not found")
		return
	}
	ids := g.targets
	if q.Has("Targets.member.1.Id") {
		ids = nil
		for i := 1; q.Has("Targets.member." + strconv.Itoa(i) + ".Id"); i++ {
			ids = append(ids, q.Get("Targets.member."+strconv.Itoa(i)+".Id"))
		}
	}
	type target struct {
		ID   string `xml:"Id"`
		Port int    `xml:"Port"`
	}
	type health struct {
		State       string `xml:"State"`
		Reason      string `xml:"Reason,omitempty"`
		Description string `xml:"Description,omitempty"`
	}
	type desc struct {
		Target target `xml:"Target"`
		Port   string `xml:"HealthCheckPort"`
		Health health `xml:"TargetHealth"`
	}
	out := struct {
		Descs []desc `xml:"TargetHealthDescriptions>member"`
	}{Descs: []desc{}}
	for _, id := range ids {
		h := st.healthOf(g, id)
		out.Descs = append(out.Descs, desc{Target: target{id, g.port}, Port: strconv.Itoa(g.port), Health: health{h.state, h.reason, h.description}})
	}
	writeQueryResponse(w, elbXMLNS, "DescribeTargetHealth", out)
}

// healthOf is the override if set, else what the instance's state implies.
// Caller holds st.mu.
func (st *elbState) healthOf(g *elbTargetGroup, id string) elbHealth {
	if h, ok := st.health[g.arn+" "+id]; ok {
		return h
	}
	if !slices.Contains(g.targets, id) {
		return elbHealth{"unused", "Target.NotRegistered", "Target is not registered to the target group"}
	}
	e := st.srv.ec2
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.instances[id]
	switch {
	case ok && in.state == "running" && e.checkOf(id) != "ok":
		// Rebooting or sick: the load balancer's checks fail too.
		return elbHealth{"unhealthy", "Target.FailedHealthChecks", "Health checks failed"}
	case !ok || in.state == "running":
		return elbHealth{state: "healthy"}
	case in.state == "terminated" || in.state == "shutting-down":
		return elbHealth{"unused", "Target.InvalidState", "Target is in the terminated state"}
	default:
		return elbHealth{"unused", "Target.InvalidState", "Target is in the " + in.state + " state"}
	}
}

// addTags tags target groups; requests naming other ARNs go to kumo.
func (st *elbState) addTags(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	arns := queryList(q, "ResourceArns.member")
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(arns) == 0 || slices.ContainsFunc(arns, func(a string) bool { _, ok := st.groups[a]; return !ok }) {
		st.srv.forward(w, r, body)
		return
	}
	elbAddTags(w, q, arns, func(a string) map[string]string { return st.groups[a].tags })
}

func (st *elbState) describeTags(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	arns := queryList(q, "ResourceArns.member")
	if len(arns) > 20 {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "At most 20 resource ARNs can be specified")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(arns) == 0 || slices.ContainsFunc(arns, func(a string) bool { _, ok := st.groups[a]; return !ok }) {
		st.srv.forward(w, r, body)
		return
	}
	var out elbTagsResult
	for _, a := range arns {
		out.add(a, st.groups[a].tags)
	}
	writeQueryResponse(w, elbXMLNS, "DescribeTags", out)
}

type elbXMLGroup struct {
	ARN        string `xml:"TargetGroupArn"`
	Name       string `xml:"TargetGroupName"`
	Protocol   string `xml:"Protocol"`
	Port       int    `xml:"Port"`
	VpcID      string `xml:"VpcId"`
	TargetType string `xml:"TargetType"`
	HCProtocol string `xml:"HealthCheckProtocol"`
	HCPath     string `xml:"HealthCheckPath"`
}

type elbGroupsResult struct {
	Groups     []elbXMLGroup `xml:"TargetGroups>member"`
	NextMarker string        `xml:"NextMarker,omitempty"`
}

func (g *elbTargetGroup) xml() elbXMLGroup {
	return elbXMLGroup{ARN: g.arn, Name: g.name, Protocol: "HTTP", Port: g.port, VpcID: "vpc-emulator", TargetType: "instance", HCProtocol: "HTTP", HCPath: "/"}
}
