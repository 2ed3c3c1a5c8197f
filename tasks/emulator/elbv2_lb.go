package emulator

import (
	"context"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ELBv2 load balancers, in the awsQuery wire format, next to the target
// groups of elbv2.go: Create/DescribeLoadBalancers, CreateListener (which
// puts a target group behind a load balancer, as in AWS), and tags of
// load balancer ARNs. DescribeTargetGroups is wrapped so each group reports
// the load balancers it serves (LoadBalancerArns) and so the LoadBalancerArn
// filter works; everything else about target groups stays in elbv2.go.

// LoadBalancer is what SeedLoadBalancer creates: an application load
// balancer with tags and one forwarding listener per target group.
type LoadBalancer struct {
	Name         string
	Tags         map[string]string
	TargetGroups []string // target group ARNs
}

type elbLoadBalancer struct {
	name, arn string
	created   time.Time
	tags      map[string]string
}

type elbLBState struct {
	tg *elbState

	mu        sync.Mutex
	seq       int
	lbs       map[string]*elbLoadBalancer // by ARN
	order     []string                    // creation order
	behind    map[string][]string         // target group ARN -> load balancer ARNs
	listeners int
}

func (s *Server) registerELBv2LoadBalancers() {
	st := &elbLBState{tg: s.elb, lbs: map[string]*elbLoadBalancer{}, behind: map[string][]string{}}
	s.Handle("elasticloadbalancing:CreateLoadBalancer", st.create)
	s.Handle("elasticloadbalancing:DescribeLoadBalancers", st.describe)
	s.Handle("elasticloadbalancing:CreateListener", st.createListener)
	s.Handle("elasticloadbalancing:DescribeTargetGroups", st.describeTargetGroups)
	s.Handle("elasticloadbalancing:AddTags", st.addTags)
	s.Handle("elasticloadbalancing:DescribeTags", st.describeTags)
}

// SeedLoadBalancer creates an application load balancer with tags and a
// listener forwarding to each target group (ports 80, 81, ...) over the
// wire and returns its ARN.
func (s *Server) SeedLoadBalancer(ctx context.Context, lb LoadBalancer) (string, error) {
	c := elb.NewFromConfig(s.seedConfig())
	in := &elb.CreateLoadBalancerInput{Name: aws.String(lb.Name), Type: elbtypes.LoadBalancerTypeEnumApplication,
		Subnets: []string{"subnet-emulator-a", "subnet-emulator-b"}, Tags: elbSDKTags(lb.Tags)}
	out, err := c.CreateLoadBalancer(ctx, in)
	if err != nil {
		return "", fmt.Errorf("seed load balancer %s: %w", lb.Name, err)
	}
	arn := aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	for i, tg := range lb.TargetGroups {
		if _, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(arn), Port: aws.Int32(int32(80 + i)),
			Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}); err != nil {
			return arn, fmt.Errorf("seed listener of %s: %w", lb.Name, err)
		}
	}
	return arn, nil
}

func (st *elbLBState) create(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("Name")
	if name == "" || len(name) > 32 || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") || strings.HasPrefix(name, "internal-") ||
		strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Load balancer name '"+name+"' must have at most 32 alphanumeric characters or hyphens, and cannot begin or end with a hyphen")
		return
	}
	if t := q.Get("Type"); t != "" && t != "application" {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "The emulator only creates application load balancers")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if lb, ok := elbByName(st.lbs, st.order, name); ok { // same name: AWS answers with the existing one
		writeQueryResponse(w, elbXMLNS, "CreateLoadBalancer", elbLBsResult{LBs: []elbXMLLB{lb.xml()}})
		return
	}
	st.seq++
	lb := &elbLoadBalancer{name: name, created: time.Now().UTC(), tags: elbTags(q),
		arn: fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/%s/%016x", name, st.seq)}
	st.lbs[lb.arn] = lb
	st.order = append(st.order, lb.arn)
	writeQueryResponse(w, elbXMLNS, "CreateLoadBalancer", elbLBsResult{LBs: []elbXMLLB{lb.xml()}})
}

func (st *elbLBState) describe(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	l, ok := readELBList(w, q, "LoadBalancerArns.member", "Load balancer", 20, "elblbtok-")
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	lbs, next, missing, ok := elbPage(l, st.lbs, st.order, (*elbLoadBalancer).xml)
	switch {
	case !ok && len(l.names) > 0:
		WriteQueryError(w, http.StatusBadRequest, "LoadBalancerNotFound", "Load balancers '["+missing+"]' not found")
		return
	case !ok:
		WriteQueryError(w, http.StatusBadRequest, "LoadBalancerNotFound", "One or more load balancers not found")
		return
	}
	out := elbLBsResult{LBs: lbs, NextMarker: next}
	writeQueryResponse(w, elbXMLNS, "DescribeLoadBalancers", out)
}

// createListener records which target group a load balancer forwards to;
// that is what puts the group's LoadBalancerArns in DescribeTargetGroups.
func (st *elbLBState) createListener(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	lbARN, tgARN := q.Get("LoadBalancerArn"), q.Get("DefaultActions.member.1.TargetGroupArn")
	if q.Get("DefaultActions.member.1.Type") != "forward" || tgARN == "" {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "The emulator's listeners take one forward action with a TargetGroupArn")
		return
	}
	port, _ := strconv.Atoi(q.Get("Port"))
	st.tg.mu.Lock()
	_, tgOK := st.tg.groups[tgARN]
	st.tg.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.lbs[lbARN]; !ok {
		WriteQueryError(w, http.StatusBadRequest, "LoadBalancerNotFound", "Load balancer '"+lbARN+"' not found")
		return
	}
	if !tgOK {
		WriteQueryError(w, http.StatusBadRequest, "TargetGroupNotFound", "Target group '"+tgARN+"' not found")
		return
	}
	if !slices.Contains(st.behind[tgARN], lbARN) {
		st.behind[tgARN] = append(st.behind[tgARN], lbARN)
	}
	st.listeners++
	type action struct {
		Type string `xml:"Type"`
		TG   string `xml:"TargetGroupArn"`
	}
	type listener struct {
		ARN      string   `xml:"ListenerArn"`
		LB       string   `xml:"LoadBalancerArn"`
		Port     int      `xml:"Port"`
		Protocol string   `xml:"Protocol"`
		Actions  []action `xml:"DefaultActions>member"`
	}
	l := listener{ARN: strings.Replace(lbARN, ":loadbalancer/", ":listener/", 1) + fmt.Sprintf("/%016x", st.listeners),
		LB: lbARN, Port: port, Protocol: q.Get("Protocol"), Actions: []action{{"forward", tgARN}}}
	writeQueryResponse(w, elbXMLNS, "CreateListener", struct {
		Listeners []listener `xml:"Listeners>member"`
	}{[]listener{l}})
}

// describeTargetGroups answers through elbv2.go's handler, turning the
// LoadBalancerArn filter into the load balancer's group ARNs first and
// adding each group's LoadBalancerArns to the answer.
func (st *elbLBState) describeTargetGroups(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	if lbARN := q.Get("LoadBalancerArn"); lbARN != "" {
		if q.Has("TargetGroupArns.member.1") || q.Has("Names.member.1") {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", "A load balancer ARN cannot be specified with target group ARNs or names")
			return
		}
		st.mu.Lock()
		_, found := st.lbs[lbARN]
		var tgs []string
		for _, tg := range slices.Sorted(maps.Keys(st.behind)) {
			if slices.Contains(st.behind[tg], lbARN) {
				tgs = append(tgs, tg)
			}
		}
		st.mu.Unlock()
		if !found {
			WriteQueryError(w, http.StatusBadRequest, "LoadBalancerNotFound", "Load balancer '"+lbARN+"' not found")
			return
		}
		if len(tgs) == 0 {
			writeQueryResponse(w, elbXMLNS, "DescribeTargetGroups", elbGroupsWithLBs{Groups: []elbXMLGroupLBs{}})
			return
		}
		q.Del("LoadBalancerArn")
		for i, tg := range tgs {
			q.Set("TargetGroupArns.member."+strconv.Itoa(i+1), tg)
		}
		body = []byte(q.Encode())
	}
	rec := httptest.NewRecorder()
	st.tg.describe(rec, r, body)
	var env struct {
		Result elbGroupsResult `xml:"DescribeTargetGroupsResult"`
	}
	if rec.Code != http.StatusOK || xml.Unmarshal(rec.Body.Bytes(), &env) != nil {
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	out := elbGroupsWithLBs{Groups: []elbXMLGroupLBs{}, NextMarker: env.Result.NextMarker}
	st.mu.Lock()
	for _, g := range env.Result.Groups {
		out.Groups = append(out.Groups, elbXMLGroupLBs{elbXMLGroup: g, LBs: slices.Clone(st.behind[g.ARN])})
	}
	st.mu.Unlock()
	writeQueryResponse(w, elbXMLNS, "DescribeTargetGroups", out)
}

// addTags tags load balancers; requests naming no load balancer go on to
// elbv2.go (target groups, then kumo).
func (st *elbLBState) addTags(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	arns := queryList(q, "ResourceArns.member")
	if !st.namesLB(arns) {
		st.tg.addTags(w, r, body)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if slices.ContainsFunc(arns, func(a string) bool { _, ok := st.lbs[a]; return !ok }) {
		WriteQueryError(w, http.StatusBadRequest, "LoadBalancerNotFound", "One or more load balancers not found")
		return
	}
	elbAddTags(w, q, arns, func(a string) map[string]string { return st.lbs[a].tags })
}

// describeTags answers for load balancers and target groups together
// (AWS takes both in one call); requests naming no load balancer go on to
// elbv2.go.
func (st *elbLBState) describeTags(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	arns := queryList(q, "ResourceArns.member")
	if len(arns) > 20 || !st.namesLB(arns) {
		st.tg.describeTags(w, r, body)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var out elbTagsResult
	st.tg.mu.Lock()
	defer st.tg.mu.Unlock()
	for _, a := range arns {
		var tags map[string]string
		if lb, ok := st.lbs[a]; ok {
			tags = lb.tags
		} else if g, ok := st.tg.groups[a]; ok {
			tags = g.tags
		} else {
			WriteQueryError(w, http.StatusBadRequest, "LoadBalancerNotFound", "Load balancer '"+a+"' not found")
			return
		}
		out.add(a, tags)
	}
	writeQueryResponse(w, elbXMLNS, "DescribeTags", out)
}

// namesLB reports whether any of arns is a load balancer of the emulator.
// Load balancers are never deleted, so the answer holds after unlocking.
func (st *elbLBState) namesLB(arns []string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.ContainsFunc(arns, func(a string) bool { _, ok := st.lbs[a]; return ok })
}

type elbXMLLB struct {
	ARN     string `xml:"LoadBalancerArn"`
	DNSName string `xml:"DNSName"`
	Zone    string `xml:"CanonicalHostedZoneId"`
	Created string `xml:"CreatedTime"`
	Name    string `xml:"LoadBalancerName"`
	Scheme  string `xml:"Scheme"`
	VpcID   string `xml:"VpcId"`
	State   string `xml:"State>Code"`
	Type    string `xml:"Type"`
	IPType  string `xml:"IpAddressType"`
}

type elbLBsResult struct {
	LBs        []elbXMLLB `xml:"LoadBalancers>member"`
	NextMarker string     `xml:"NextMarker,omitempty"`
}

func (lb *elbLoadBalancer) xml() elbXMLLB {
	id := lb.arn[strings.LastIndex(lb.arn, "/")+1:]
	return elbXMLLB{ARN: lb.arn, DNSName: lb.name + "-" + id[8:] + ".us-east-1.elb.amazonaws.com", Zone: "Z35SXDOTRQ7X7K",
		Created: lb.created.Format("2006-01-02T15:04:05.000Z"), Name: lb.name, Scheme: "internet-facing", VpcID: "vpc-emulator",
		State: "active", Type: "application", IPType: "ipv4"}
}

type elbXMLGroupLBs struct {
	elbXMLGroup
	LBs []string `xml:"LoadBalancerArns>member"`
}

type elbGroupsWithLBs struct {
	Groups     []elbXMLGroupLBs `xml:"TargetGroups>member"`
	NextMarker string           `xml:"NextMarker,omitempty"`
}
