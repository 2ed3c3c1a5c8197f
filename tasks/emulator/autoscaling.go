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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// Auto Scaling, absent from kumo: a minimal in-memory service in the
// awsQuery wire format. Groups own real emulated EC2 instances (tagged
// aws:autoscaling:groupName plus the group's PropagateAtLaunch tags), so
// SetDesiredCapacity launches and terminates instances that
// DescribeInstances then shows. Instance refreshes run on the emulator's
// clock: InProgress, Successful after asgRefreshDuration.

const (
	asgXMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
	// asgRefreshDuration is how long an emulated instance refresh takes.
	asgRefreshDuration = 30 * time.Second
)

// Group is what SeedGroup creates.
type Group struct {
	Name              string
	Min, Max, Desired int
	AZ                string            // default us-east-1a; instances are t3.micro
	Tags              map[string]string // propagated to instances
	TargetGroupARNs   []string
	HealthCheckType   string // default EC2
}

type asgGroup struct {
	name, arn, itype, az, healthCheck string
	min, max, desired                 int
	tags                              map[string]string
	targetGroups                      []string
	instances                         []string // ec2 ids, launch order
	created                           time.Time
	suspended                         map[string]string // process -> reason (autoscaling_processes.go)
}

type asgState struct {
	srv *Server
	now func() time.Time

	mu        sync.Mutex
	seq       int
	groups    map[string]*asgGroup
	refreshes []*asgRefresh // start order
	// ignoreFilters: see IgnoreGroupFilters.
	ignoreFilters bool
}

func (s *Server) registerAutoScaling() {
	st := &asgState{srv: s, now: time.Now, groups: map[string]*asgGroup{}}
	s.asg = st
	s.Handle("autoscaling:CreateAutoScalingGroup", st.create)
	s.Handle("autoscaling:DescribeAutoScalingGroups", st.describe)
	s.Handle("autoscaling:SetDesiredCapacity", st.setDesired)
	s.Handle("autoscaling:StartInstanceRefresh", st.startRefresh)
	s.Handle("autoscaling:DescribeInstanceRefreshes", st.describeRefreshes)
	st.registerProcesses()
}

// SeedGroup creates an Auto Scaling group over the wire.
func (s *Server) SeedGroup(ctx context.Context, g Group) error {
	c := autoscaling.NewFromConfig(s.seedConfig())
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(g.Name), MinSize: aws.Int32(int32(g.Min)), MaxSize: aws.Int32(int32(g.Max)),
		DesiredCapacity: aws.Int32(int32(g.Desired)), TargetGroupARNs: g.TargetGroupARNs,
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("emulator")},
	}
	if g.AZ != "" {
		in.AvailabilityZones = []string{g.AZ}
	}
	if g.HealthCheckType != "" {
		in.HealthCheckType = aws.String(g.HealthCheckType)
	}
	for _, k := range slices.Sorted(maps.Keys(g.Tags)) {
		in.Tags = append(in.Tags, astypes.Tag{Key: aws.String(k), Value: aws.String(g.Tags[k]), PropagateAtLaunch: aws.Bool(true)})
	}
	if _, err := c.CreateAutoScalingGroup(ctx, in); err != nil {
		return fmt.Errorf("seed group %s: %w", g.Name, err)
	}
	return nil
}

// GroupDesired reports a group's desired capacity and live instance count.
func (s *Server) GroupDesired(name string) (desired, instances int) {
	s.asg.mu.Lock()
	defer s.asg.mu.Unlock()
	g, ok := s.asg.groups[name]
	if !ok {
		return -1, -1
	}
	return g.desired, len(g.instances)
}

func (st *asgState) create(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("AutoScalingGroupName")
	minSize, err1 := strconv.Atoi(q.Get("MinSize"))
	maxSize, err2 := strconv.Atoi(q.Get("MaxSize"))
	desired := minSize
	var err3 error
	if v := q.Get("DesiredCapacity"); v != "" {
		desired, err3 = strconv.Atoi(v)
	}
	switch {
	case name == "" || len(name) > 255:
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroupName must be 1..255 characters")
		return
	case err1 != nil || err2 != nil || err3 != nil || minSize < 0 || maxSize < minSize:
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "MinSize, MaxSize and DesiredCapacity must be integers with MinSize <= MaxSize")
		return
	case desired < minSize || desired > maxSize:
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minSize, maxSize))
		return
	}
	g := &asgGroup{name: name, itype: "t3.micro", az: "us-east-1a", healthCheck: "EC2", min: minSize, max: maxSize, tags: map[string]string{},
		targetGroups: queryList(q, "TargetGroupARNs.member")}
	if azs := queryList(q, "AvailabilityZones.member"); len(azs) > 0 {
		g.az = azs[0]
	}
	if v := q.Get("HealthCheckType"); v != "" {
		g.healthCheck = v
	}
	for i := 1; q.Has("Tags.member." + strconv.Itoa(i) + ".Key"); i++ {
		p := "Tags.member." + strconv.Itoa(i)
		g.tags[q.Get(p+".Key")] = q.Get(p + ".Value")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.groups[name]; dup {
		WriteQueryError(w, http.StatusBadRequest, "AlreadyExists", fmt.Sprintf("AutoScalingGroup by this name already exists - A group with the name %s already exists", name))
		return
	}
	g.created = st.now().UTC()
	g.arn = fmt.Sprintf("arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:%08x-0000-0000-0000-000000000000:autoScalingGroupName/%s", len(st.groups)+1, name)
	st.groups[name] = g
	st.scale(g, desired)
	writeQueryResponse(w, asgXMLNS, "CreateAutoScalingGroup", struct{}{})
}

// scale launches or terminates instances so g has desired of them.
// Caller holds st.mu; ec2's lock is taken inside (always in that order).
func (st *asgState) scale(g *asgGroup, desired int) {
	g.desired = desired
	e := st.srv.ec2
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := desired - len(g.instances); n > 0 {
		tags := maps.Clone(g.tags)
		tags["aws:autoscaling:groupName"] = g.name
		for _, in := range e.launch(n, "ami-emulator", g.itype, g.az, tags) {
			g.instances = append(g.instances, in.id)
		}
	}
	for len(g.instances) > desired { // scale in: newest first
		id := g.instances[len(g.instances)-1]
		g.instances = g.instances[:len(g.instances)-1]
		if in, ok := e.instances[id]; ok {
			in.state = "terminated"
		}
	}
}

func (st *asgState) describe(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	names := queryList(q, "AutoScalingGroupNames.member")
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for i := 1; q.Has("Filters.member." + strconv.Itoa(i) + ".Name"); i++ {
		p := "Filters.member." + strconv.Itoa(i)
		f := filter{q.Get(p + ".Name"), queryList(q, p+".Values.member")}
		if f.name != "tag-key" && f.name != "tag-value" && !strings.HasPrefix(f.name, "tag:") {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Filter name %s is not supported", f.name))
			return
		}
		filters = append(filters, f)
	}
	limit, start, ok := asgPage(w, q)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var matched []*asgGroup
	for _, name := range sortedKeys(st.groups) {
		g := st.groups[name]
		if st.ignoreFilters {
			matched = append(matched, g)
			continue
		}
		if len(names) > 0 && !slices.Contains(names, name) {
			continue
		}
		keep := true
		for _, f := range filters {
			switch {
			case f.name == "tag-key":
				keep = keep && slices.ContainsFunc(f.values, func(v string) bool { _, ok := g.tags[v]; return ok })
			case f.name == "tag-value":
				keep = keep && slices.ContainsFunc(slices.Collect(maps.Values(g.tags)), func(v string) bool { return slices.Contains(f.values, v) })
			default:
				v, ok := g.tags[strings.TrimPrefix(f.name, "tag:")]
				keep = keep && ok && slices.Contains(f.values, v)
			}
		}
		if keep {
			matched = append(matched, g)
		}
	}
	type result struct {
		Groups    []asgXMLGroup `xml:"AutoScalingGroups>member"`
		NextToken string        `xml:"NextToken,omitempty"`
	}
	var out result
	groups, next := page(matched, start, limit, "asgtok-")
	for _, g := range groups {
		out.Groups = append(out.Groups, st.groupXML(g))
	}
	out.NextToken = next
	// AWS sends an empty AutoScalingGroups element when nothing matches.
	if out.Groups == nil {
		out.Groups = []asgXMLGroup{}
	}
	writeQueryResponse(w, asgXMLNS, "DescribeAutoScalingGroups", out)
}

// asgPage reads MaxRecords (1..100, default 50) and NextToken.
func asgPage(w http.ResponseWriter, q url.Values) (limit, start int, ok bool) {
	if limit, ok = parsePageSize(q.Get("MaxRecords"), 50, 1, 100); !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "MaxRecords must be between 1 and 100")
		return 0, 0, false
	}
	if start, ok = parsePageToken(q.Get("NextToken"), "asgtok-"); !ok {
		WriteQueryError(w, http.StatusBadRequest, "InvalidNextToken", "The token '"+q.Get("NextToken")+"' is invalid.")
		return 0, 0, false
	}
	return limit, start, true
}

func (st *asgState) setDesired(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("AutoScalingGroupName")
	desired, err := strconv.Atoi(q.Get("DesiredCapacity"))
	if err != nil {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "DesiredCapacity must be an integer")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.groups[name]
	switch {
	case !ok:
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found - no such group: "+name)
		return
	case desired > g.max:
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", desired, g.max))
		return
	case desired < g.min:
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", desired, g.min))
		return
	}
	st.scale(g, desired)
	writeQueryResponse(w, asgXMLNS, "SetDesiredCapacity", struct{}{})
}

type asgXMLTag struct {
	Key          string `xml:"Key"`
	Value        string `xml:"Value"`
	ResourceID   string `xml:"ResourceId"`
	ResourceType string `xml:"ResourceType"`
	Propagate    bool   `xml:"PropagateAtLaunch"`
}

type asgXMLInstance struct {
	ID        string `xml:"InstanceId"`
	Type      string `xml:"InstanceType"`
	AZ        string `xml:"AvailabilityZone"`
	Health    string `xml:"HealthStatus"`
	Lifecycle string `xml:"LifecycleState"`
	Protected bool   `xml:"ProtectedFromScaleIn"`
}

type asgXMLGroup struct {
	Name         string           `xml:"AutoScalingGroupName"`
	ARN          string           `xml:"AutoScalingGroupARN"`
	Min          int              `xml:"MinSize"`
	Max          int              `xml:"MaxSize"`
	Desired      int              `xml:"DesiredCapacity"`
	Cooldown     int              `xml:"DefaultCooldown"`
	AZs          []string         `xml:"AvailabilityZones>member"`
	HealthCheck  string           `xml:"HealthCheckType"`
	Created      string           `xml:"CreatedTime"`
	Instances    []asgXMLInstance `xml:"Instances>member"`
	Tags         []asgXMLTag      `xml:"Tags>member"`
	TargetGroups []string         `xml:"TargetGroupARNs>member"`
	Suspended    []asgXMLProcess  `xml:"SuspendedProcesses>member"`
}

// groupXML renders g. Caller holds st.mu.
func (st *asgState) groupXML(g *asgGroup) asgXMLGroup {
	x := asgXMLGroup{Name: g.name, ARN: g.arn, Min: g.min, Max: g.max, Desired: g.desired, Cooldown: 300, AZs: []string{g.az},
		HealthCheck: g.healthCheck, Created: g.created.Format(time.RFC3339), TargetGroups: g.targetGroups}
	for _, k := range sortedKeys(g.tags) {
		x.Tags = append(x.Tags, asgXMLTag{Key: k, Value: g.tags[k], ResourceID: g.name, ResourceType: "auto-scaling-group", Propagate: true})
	}
	for _, id := range g.instances {
		x.Instances = append(x.Instances, asgXMLInstance{ID: id, Type: g.itype, AZ: g.az, Health: "Healthy", Lifecycle: "InService"})
	}
	for _, p := range sortedKeys(g.suspended) {
		x.Suspended = append(x.Suspended, asgXMLProcess{Name: p, Reason: g.suspended[p]})
	}
	return x
}
