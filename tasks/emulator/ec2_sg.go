package emulator

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// EC2 security groups and VPC flow logs, in the ec2Query wire format.
// kumo's security groups keep IPv4 ranges only (no ::/0) and ignore
// filters, and kumo has no flow logs, so the front keeps both:
// Create/Delete/DescribeSecurityGroups (ids, names, vpc-id, group-id and
// tag filters, paging), Authorize/RevokeSecurityGroupIngress with IPv4 and
// IPv6 ranges, CreateFlowLogs and DescribeFlowLogs. VPCs, subnets, route
// tables and NAT gateways stay kumo's.

type sgRule struct {
	proto       string
	from, to    int
	cidr, cidr6 string
	desc        string
}

type sgGroup struct {
	id, name, desc, vpc string
	tags                map[string]string
	ingress             []sgRule
}

type flowLog struct {
	id, resource, traffic, group, role string
}

type netState struct {
	mu     sync.Mutex
	seq    int
	groups []*sgGroup
	flows  []flowLog
}

func (s *Server) registerNetwork() {
	st := &netState{}
	s.net = st
	s.Handle("ec2:CreateSecurityGroup", st.createGroup)
	s.Handle("ec2:DeleteSecurityGroup", st.deleteGroup)
	s.Handle("ec2:DescribeSecurityGroups", st.describeGroups)
	s.Handle("ec2:AuthorizeSecurityGroupIngress", st.ingress(true))
	s.Handle("ec2:RevokeSecurityGroupIngress", st.ingress(false))
	s.Handle("ec2:CreateFlowLogs", st.createFlowLogs)
	s.Handle("ec2:DescribeFlowLogs", st.describeFlowLogs)
}

// SecurityGroupIngress lists a group's ingress rules as
// "proto from-to cidr" lines, sorted.
func (s *Server) SecurityGroupIngress(id string) []string {
	s.net.mu.Lock()
	defer s.net.mu.Unlock()
	var out []string
	for _, g := range s.net.groups {
		if g.id == id {
			for _, r := range g.ingress {
				out = append(out, fmt.Sprintf("%s %d-%d %s", r.proto, r.from, r.to, r.cidr+r.cidr6))
			}
		}
	}
	slices.Sort(out)
	return out
}

// FlowLogsOf lists "log group (traffic)" of a resource's flow logs.
func (s *Server) FlowLogsOf(resource string) []string {
	s.net.mu.Lock()
	defer s.net.mu.Unlock()
	var out []string
	for _, f := range s.net.flows {
		if f.resource == resource {
			out = append(out, f.group+" ("+f.traffic+")")
		}
	}
	return out
}

func ec2Return(w http.ResponseWriter, op string) {
	writeEC2(w, struct {
		XMLName   xml.Name
		Xmlns     string `xml:"xmlns,attr"`
		RequestID string `xml:"requestId"`
		Return    bool   `xml:"return"`
	}{XMLName: xml.Name{Local: op + "Response"}, Xmlns: ec2XMLNS, RequestID: "emulator", Return: true})
}

func (st *netState) find(id string) *sgGroup {
	for _, g := range st.groups {
		if g.id == id {
			return g
		}
	}
	return nil
}

func (st *netState) createGroup(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	name := q.Get("GroupName")
	if name == "" || q.Get("GroupDescription") == "" {
		WriteEC2Error(w, http.StatusBadRequest, "MissingParameter", "GroupName and GroupDescription are required")
		return
	}
	tags := map[string]string{}
	for i := 1; q.Has("TagSpecification." + strconv.Itoa(i) + ".ResourceType"); i++ {
		p := "TagSpecification." + strconv.Itoa(i)
		if q.Get(p+".ResourceType") == "security-group" {
			maps.Copy(tags, ec2Tags(q, p+".Tag"))
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, g := range st.groups {
		if g.name == name && g.vpc == q.Get("VpcId") {
			WriteEC2Error(w, http.StatusBadRequest, "InvalidGroup.Duplicate", "The security group '"+name+"' already exists")
			return
		}
	}
	st.seq++
	g := &sgGroup{id: fmt.Sprintf("sg-%017x", st.seq), name: name, desc: q.Get("GroupDescription"), vpc: q.Get("VpcId"), tags: tags}
	st.groups = append(st.groups, g)
	writeEC2(w, struct {
		XMLName   xml.Name    `xml:"CreateSecurityGroupResponse"`
		Xmlns     string      `xml:"xmlns,attr"`
		RequestID string      `xml:"requestId"`
		Return    bool        `xml:"return"`
		GroupID   string      `xml:"groupId"`
		Tags      []ec2XMLTag `xml:"tagSet>item"`
	}{Xmlns: ec2XMLNS, RequestID: "emulator", Return: true, GroupID: g.id, Tags: xmlTags(tags)})
}

func xmlTags(tags map[string]string) []ec2XMLTag {
	var out []ec2XMLTag
	for _, k := range sortedKeys(tags) {
		out = append(out, ec2XMLTag{k, tags[k]})
	}
	return out
}

func (st *netState) deleteGroup(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	i := slices.IndexFunc(st.groups, func(g *sgGroup) bool { return g.id == q.Get("GroupId") })
	if i < 0 {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidGroup.NotFound", "The security group '"+q.Get("GroupId")+"' does not exist")
		return
	}
	st.groups = slices.Delete(st.groups, i, i+1)
	ec2Return(w, "DeleteSecurityGroup")
}

type sgXMLRange struct {
	CIDR string `xml:"cidrIp,omitempty"`
	Desc string `xml:"description,omitempty"`
}

type sgXMLRange6 struct {
	CIDR string `xml:"cidrIpv6,omitempty"`
	Desc string `xml:"description,omitempty"`
}

type sgXMLPerm struct {
	Proto    string        `xml:"ipProtocol"`
	From     *int          `xml:"fromPort,omitempty"`
	To       *int          `xml:"toPort,omitempty"`
	Ranges   []sgXMLRange  `xml:"ipRanges>item"`
	Ranges6  []sgXMLRange6 `xml:"ipv6Ranges>item"`
	Groups   []string      `xml:"groups>item"`
	Prefixes []string      `xml:"prefixListIds>item"`
}

type sgXMLGroup struct {
	Owner  string      `xml:"ownerId"`
	ID     string      `xml:"groupId"`
	Name   string      `xml:"groupName"`
	Desc   string      `xml:"groupDescription"`
	VPC    string      `xml:"vpcId,omitempty"`
	Perms  []sgXMLPerm `xml:"ipPermissions>item"`
	Egress []sgXMLPerm `xml:"ipPermissionsEgress>item"`
	Tags   []ec2XMLTag `xml:"tagSet>item"`
}

func (g *sgGroup) xml() sgXMLGroup {
	x := sgXMLGroup{Owner: "000000000000", ID: g.id, Name: g.name, Desc: g.desc, VPC: g.vpc, Tags: xmlTags(g.tags)}
	for _, r := range g.ingress {
		p := sgXMLPerm{Proto: r.proto}
		if r.proto != "-1" {
			p.From, p.To = &r.from, &r.to
		}
		if r.cidr != "" {
			p.Ranges = []sgXMLRange{{r.cidr, r.desc}}
		} else {
			p.Ranges6 = []sgXMLRange6{{r.cidr6, r.desc}}
		}
		x.Perms = append(x.Perms, p)
	}
	return x
}

func (g *sgGroup) matches(f ec2Filter) bool {
	have := ""
	switch {
	case f.name == "vpc-id":
		have = g.vpc
	case f.name == "group-id":
		have = g.id
	case f.name == "group-name":
		have = g.name
	case strings.HasPrefix(f.name, "tag:"):
		v, ok := g.tags[strings.TrimPrefix(f.name, "tag:")]
		if !ok {
			return false
		}
		have = v
	}
	return slices.ContainsFunc(f.values, func(p string) bool { return wildcardMatch(p, have) })
}

func (st *netState) describeGroups(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	ids, names := ec2List(q, "GroupId"), ec2List(q, "GroupName")
	var filters []ec2Filter
	for i := 1; q.Has("Filter." + strconv.Itoa(i) + ".Name"); i++ {
		p := "Filter." + strconv.Itoa(i)
		f := ec2Filter{name: q.Get(p + ".Name"), values: ec2List(q, p+".Value")}
		if !slices.Contains([]string{"vpc-id", "group-id", "group-name"}, f.name) && !strings.HasPrefix(f.name, "tag:") {
			WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", f.name))
			return
		}
		filters = append(filters, f)
	}
	limit, start, ok := ec2PageParams(w, q, "sgtok-")
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range ids {
		if st.find(id) == nil {
			WriteEC2Error(w, http.StatusBadRequest, "InvalidGroup.NotFound", "The security group '"+id+"' does not exist")
			return
		}
	}
	var matched []*sgGroup
	for _, g := range st.groups {
		if (len(ids) > 0 && !slices.Contains(ids, g.id)) || (len(names) > 0 && !slices.Contains(names, g.name)) {
			continue
		}
		if !slices.ContainsFunc(filters, func(f ec2Filter) bool { return !g.matches(f) }) {
			matched = append(matched, g)
		}
	}
	groups, next := page(matched, start, limit, "sgtok-")
	out := struct {
		XMLName   xml.Name     `xml:"DescribeSecurityGroupsResponse"`
		Xmlns     string       `xml:"xmlns,attr"`
		RequestID string       `xml:"requestId"`
		Groups    []sgXMLGroup `xml:"securityGroupInfo>item"`
		NextToken string       `xml:"nextToken,omitempty"`
	}{Xmlns: ec2XMLNS, RequestID: "emulator", NextToken: next}
	for _, g := range groups {
		out.Groups = append(out.Groups, g.xml())
	}
	writeEC2(w, out)
}

// formRules reads IpPermissions.N (one rule per range).
func formRules(q url.Values) ([]sgRule, error) {
	var out []sgRule
	for i := 1; q.Has("IpPermissions." + strconv.Itoa(i) + ".IpProtocol"); i++ {
		p := "IpPermissions." + strconv.Itoa(i)
		r := sgRule{proto: q.Get(p + ".IpProtocol"), from: -1, to: -1}
		if r.proto == "all" {
			r.proto = "-1"
		}
		if r.proto != "-1" {
			var err1, err2 error
			r.from, err1 = strconv.Atoi(q.Get(p + ".FromPort"))
			r.to, err2 = strconv.Atoi(q.Get(p + ".ToPort"))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("FromPort and ToPort are required for protocol %s", r.proto)
			}
		}
		for j := 1; q.Has(p + ".IpRanges." + strconv.Itoa(j) + ".CidrIp"); j++ {
			rr := r
			rr.cidr, rr.desc = q.Get(p+".IpRanges."+strconv.Itoa(j)+".CidrIp"), q.Get(p+".IpRanges."+strconv.Itoa(j)+".Description")
			out = append(out, rr)
		}
		for j := 1; q.Has(p + ".Ipv6Ranges." + strconv.Itoa(j) + ".CidrIpv6"); j++ {
			rr := r
			rr.cidr6, rr.desc = q.Get(p+".Ipv6Ranges."+strconv.Itoa(j)+".CidrIpv6"), q.Get(p+".Ipv6Ranges."+strconv.Itoa(j)+".Description")
			out = append(out, rr)
		}
	}
	return out, nil
}

func (st *netState) ingress(authorize bool) Handler {
	op := "RevokeSecurityGroupIngress"
	if authorize {
		op = "AuthorizeSecurityGroupIngress"
	}
	return func(w http.ResponseWriter, _ *http.Request, body []byte) {
		q, ok := ec2Form(w, body)
		if !ok {
			return
		}
		rules, err := formRules(q)
		if err != nil || len(rules) == 0 {
			WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", "IpPermissions with ranges are required")
			return
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		g := st.find(q.Get("GroupId"))
		if g == nil {
			WriteEC2Error(w, http.StatusBadRequest, "InvalidGroup.NotFound", "The security group '"+q.Get("GroupId")+"' does not exist")
			return
		}
		same := func(a, b sgRule) bool {
			return a.proto == b.proto && a.from == b.from && a.to == b.to && a.cidr == b.cidr && a.cidr6 == b.cidr6
		}
		for _, r := range rules {
			i := slices.IndexFunc(g.ingress, func(x sgRule) bool { return same(x, r) })
			switch {
			case authorize && i >= 0:
				WriteEC2Error(w, http.StatusBadRequest, "InvalidPermission.Duplicate", "the specified rule already exists")
				return
			case !authorize && i < 0:
				WriteEC2Error(w, http.StatusBadRequest, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
				return
			}
		}
		for _, r := range rules {
			if authorize {
				g.ingress = append(g.ingress, r)
			} else {
				g.ingress = slices.DeleteFunc(g.ingress, func(x sgRule) bool { return same(x, r) })
			}
		}
		ec2Return(w, op)
	}
}

func (st *netState) createFlowLogs(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	resources := ec2List(q, "ResourceId")
	switch {
	case len(resources) == 0 || q.Get("ResourceType") == "":
		WriteEC2Error(w, http.StatusBadRequest, "MissingParameter", "ResourceIds and ResourceType are required")
		return
	case cmp.Or(q.Get("LogDestinationType"), "cloud-watch-logs") == "cloud-watch-logs" && (q.Get("LogGroupName") == "" || q.Get("DeliverLogsPermissionArn") == ""):
		WriteEC2Error(w, http.StatusBadRequest, "InvalidParameter", "LogGroupName and DeliverLogsPermissionArn are required for CloudWatch Logs")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var ids []string
	for _, r := range resources {
		st.seq++
		f := flowLog{id: fmt.Sprintf("fl-%017x", st.seq), resource: r, traffic: cmp.Or(q.Get("TrafficType"), "ALL"), group: q.Get("LogGroupName"), role: q.Get("DeliverLogsPermissionArn")}
		st.flows = append(st.flows, f)
		ids = append(ids, f.id)
	}
	writeEC2(w, struct {
		XMLName   xml.Name `xml:"CreateFlowLogsResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		RequestID string   `xml:"requestId"`
		IDs       []string `xml:"flowLogIdSet>item"`
	}{Xmlns: ec2XMLNS, RequestID: "emulator", IDs: ids})
}

func (st *netState) describeFlowLogs(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	var filters []ec2Filter
	for i := 1; q.Has("Filter." + strconv.Itoa(i) + ".Name"); i++ {
		p := "Filter." + strconv.Itoa(i)
		filters = append(filters, ec2Filter{name: q.Get(p + ".Name"), values: ec2List(q, p+".Value")})
	}
	type xmlFlow struct {
		ID      string `xml:"flowLogId"`
		Res     string `xml:"resourceId"`
		Traffic string `xml:"trafficType"`
		Dest    string `xml:"logDestinationType"`
		Group   string `xml:"logGroupName"`
		Role    string `xml:"deliverLogsPermissionArn"`
		Status  string `xml:"flowLogStatus"`
		Deliver string `xml:"deliverLogsStatus"`
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := struct {
		XMLName   xml.Name  `xml:"DescribeFlowLogsResponse"`
		Xmlns     string    `xml:"xmlns,attr"`
		RequestID string    `xml:"requestId"`
		Flows     []xmlFlow `xml:"flowLogSet>item"`
	}{Xmlns: ec2XMLNS, RequestID: "emulator"}
	for _, f := range st.flows {
		keep := true
		for _, fl := range filters {
			have := map[string]string{"resource-id": f.resource, "flow-log-id": f.id, "log-group-name": f.group, "traffic-type": f.traffic}[fl.name]
			keep = keep && slices.Contains(fl.values, have)
		}
		if keep {
			out.Flows = append(out.Flows, xmlFlow{f.id, f.resource, f.traffic, "cloud-watch-logs", f.group, f.role, "ACTIVE", "SUCCESS"})
		}
	}
	writeEC2(w, out)
}
