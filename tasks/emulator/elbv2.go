package emulator

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
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
		VpcId: aws.String("vpc-emulator"), TargetType: elbtypes.TargetTypeEnumInstance}
	for _, k := range slices.Sorted(maps.Keys(g.Tags)) {
		in.Tags = append(in.Tags, elbtypes.Tag{Key: aws.String(k), Value: aws.String(g.Tags[k])})
	}
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
	for _, arn := range st.order {
		if g := st.groups[arn]; g.name == name {
			writeQueryResponse(w, elbXMLNS, "CreateTargetGroup", elbGroupsResult{Groups: []elbXMLGroup{g.xml()}})
			return
		}
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
	arns, names := queryList(q, "TargetGroupArns.member"), queryList(q, "Names.member")
	if len(arns) > 0 && len(names) > 0 {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Target group ARNs and names cannot be specified at the same time")
		return
	}
	size, ok := parsePageSize(q.Get("PageSize"), 400, 1, 400)
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "PageSize must be between 1 and 400")
		return
	}
	start, ok := parsePageToken(q.Get("Marker"), "elbtok-")
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Invalid marker")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var matched []*elbTargetGroup
	switch {
	case len(arns) > 0:
		for _, arn := range arns {
			g, ok := st.groups[arn]
			if !ok {
				WriteQueryError(w, http.StatusBadRequest, "TargetGroupNotFound", "One or more target groups not found")
				return
			}
			matched = append(matched, g)
		}
	case len(names) > 0:
		for _, name := range names {
			i := slices.IndexFunc(st.order, func(arn string) bool { return st.groups[arn].name == name })
			if i < 0 {
				WriteQueryError(w, http.StatusBadRequest, "TargetGroupNotFound", "One or more target groups not found")
				return
			}
			matched = append(matched, st.groups[st.order[i]])
		}
	default:
		for _, arn := range st.order {
			matched = append(matched, st.groups[arn])
		}
	}
	groups, next := page(matched, start, size, "elbtok-")
	out := elbGroupsResult{Groups: []elbXMLGroup{}, NextMarker: next}
	for _, g := range groups {
		out.Groups = append(out.Groups, g.xml())
	}
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
	tags := elbTags(q)
	for _, a := range arns {
		maps.Copy(st.groups[a].tags, tags)
	}
	writeQueryResponse(w, elbXMLNS, "AddTags", struct{}{})
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
	type tag struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	}
	type desc struct {
		ARN  string `xml:"ResourceArn"`
		Tags []tag  `xml:"Tags>member"`
	}
	out := struct {
		Descs []desc `xml:"TagDescriptions>member"`
	}{}
	for _, a := range arns {
		d := desc{ARN: a, Tags: []tag{}}
		g := st.groups[a]
		for _, k := range sortedKeys(g.tags) {
			d.Tags = append(d.Tags, tag{k, g.tags[k]})
		}
		out.Descs = append(out.Descs, d)
	}
	writeQueryResponse(w, elbXMLNS, "DescribeTags", out)
}

func elbTags(q url.Values) map[string]string {
	tags := map[string]string{}
	for i := 1; q.Has("Tags.member." + strconv.Itoa(i) + ".Key"); i++ {
		p := "Tags.member." + strconv.Itoa(i)
		tags[q.Get(p+".Key")] = q.Get(p + ".Value")
	}
	return tags
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
