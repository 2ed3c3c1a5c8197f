package emulator

import (
	"context"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 instance fill-ins, in the ec2Query wire format. kumo has no
// RebootInstances, its DescribeInstances ignores Filters, MaxResults and
// NextToken and returns no tags or placement, and RunInstances drops
// TagSpecifications. Instances therefore live here entirely: RunInstances,
// DescribeInstances, Start/Stop/Reboot/TerminateInstances and
// CreateTags/DeleteTags on instance ids are answered by the front; every
// other EC2 operation (VPCs, security groups...) still goes to kumo.

const ec2XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// InstanceSpec is what SeedInstances launches.
type InstanceSpec struct {
	Type string            // default t3.micro
	AZ   string            // default us-east-1a
	Tags map[string]string // applied at launch via TagSpecifications
}

type ec2Instance struct {
	id, reservation, image, itype, az, ip, state string
	launched                                     time.Time
	tags                                         map[string]string
}

type ec2State struct {
	srv *Server
	now func() time.Time

	mu        sync.Mutex
	seq       int
	order     []string // launch order: pagination is stable across pages
	instances map[string]*ec2Instance
	reboots   map[string]int
	// ignoreFilters makes DescribeInstances answer as a server that drops
	// Filters would (some proxies and emulators do): every instance.
	ignoreFilters bool
	// checks and boot drive DescribeInstanceStatus (ec2_status.go).
	checks map[string]instanceCheck
	boot   map[string]int
	// byToken answers a repeated RunInstances ClientToken with the
	// original launch, as AWS does: the SDK sets a token and retries with
	// it, so a retried launch must not launch twice.
	byToken map[string]ec2RunResponse
}

var ec2StateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func (s *Server) registerEC2() {
	st := &ec2State{srv: s, now: time.Now, instances: map[string]*ec2Instance{}, reboots: map[string]int{}, checks: map[string]instanceCheck{}, boot: map[string]int{}, byToken: map[string]ec2RunResponse{}}
	s.ec2 = st
	s.Handle("ec2:RunInstances", st.runInstances)
	s.Handle("ec2:DescribeInstances", st.describeInstances)
	s.Handle("ec2:RebootInstances", st.rebootInstances)
	s.Handle("ec2:StopInstances", st.transition("StopInstancesResponse", "stopping", "stopped", "stopped", "running", "stopping", "stopped"))
	s.Handle("ec2:StartInstances", st.transition("StartInstancesResponse", "pending", "running", "running", "stopped", "pending", "running"))
	s.Handle("ec2:TerminateInstances", st.transition("TerminateInstancesResponse", "shutting-down", "terminated", "terminated", "pending", "running", "stopping", "stopped", "shutting-down", "terminated"))
	s.Handle("ec2:CreateTags", st.tags(true))
	s.Handle("ec2:DeleteTags", st.tags(false))
	s.Handle("ec2:DescribeTags", st.describeTags)
	s.Handle("ec2:DescribeInstanceStatus", st.describeInstanceStatus)
}

// SeedInstances launches n instances over the wire (RunInstances with
// TagSpecifications, in calls of at most 1000) and returns their ids.
func (s *Server) SeedInstances(ctx context.Context, n int, spec InstanceSpec) ([]string, error) {
	c := ec2.NewFromConfig(s.seedConfig())
	if spec.Type == "" {
		spec.Type = "t3.micro"
	}
	if spec.AZ == "" {
		spec.AZ = "us-east-1a"
	}
	var tags []ec2types.Tag
	for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
		tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(spec.Tags[k])})
	}
	var ids []string
	for n > 0 {
		count := min(n, 1000)
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-emulator"), InstanceType: ec2types.InstanceType(spec.Type),
			MinCount: aws.Int32(int32(count)), MaxCount: aws.Int32(int32(count)),
			Placement:         &ec2types.Placement{AvailabilityZone: aws.String(spec.AZ)},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}},
		})
		if err != nil {
			return ids, fmt.Errorf("seed instances: %w", err)
		}
		for _, in := range out.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
		n -= count
	}
	return ids, nil
}

// RebootCount reports how many times RebootInstances rebooted id.
func (s *Server) RebootCount(id string) int {
	s.ec2.mu.Lock()
	defer s.ec2.mu.Unlock()
	return s.ec2.reboots[id]
}

// InstanceState reports the emulated state of id ("" if unknown).
func (s *Server) InstanceState(id string) string {
	s.ec2.mu.Lock()
	defer s.ec2.mu.Unlock()
	if in, ok := s.ec2.instances[id]; ok {
		return in.state
	}
	return ""
}

// IgnoreInstanceFilters is a fault mode: while on, DescribeInstances
// ignores its Filters and lists every instance, as a server that drops
// them would, so tests can check that actions trust the app's binding and
// not the server's filtering.
func (s *Server) IgnoreInstanceFilters(on bool) {
	s.ec2.mu.Lock()
	defer s.ec2.mu.Unlock()
	s.ec2.ignoreFilters = on
}

// SetInstanceState forces an instance's state, for tests of actions that
// must cope with instances in the wrong state.
func (s *Server) SetInstanceState(id, state string) {
	s.ec2.mu.Lock()
	defer s.ec2.mu.Unlock()
	if in, ok := s.ec2.instances[id]; ok {
		in.state = state
	}
}

func (st *ec2State) runInstances(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	image := q.Get("ImageId")
	if image == "" {
		WriteEC2Error(w, http.StatusBadRequest, "MissingParameter", "The request must contain the parameter ImageId")
		return
	}
	maxCount, err := strconv.Atoi(q.Get("MaxCount"))
	if err != nil || maxCount < 1 || maxCount > 1000 {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", "MaxCount must be between 1 and 1000")
		return
	}
	itype := q.Get("InstanceType")
	if itype == "" {
		itype = "m1.small"
	}
	az := q.Get("Placement.AvailabilityZone")
	if az == "" {
		az = "us-east-1a"
	}
	tags := map[string]string{}
	for i := 1; q.Has("TagSpecification." + strconv.Itoa(i) + ".ResourceType"); i++ {
		p := "TagSpecification." + strconv.Itoa(i)
		if q.Get(p+".ResourceType") != "instance" {
			continue
		}
		maps.Copy(tags, ec2Tags(q, p+".Tag"))
	}

	st.mu.Lock()
	token := q.Get("ClientToken")
	if prev, ok := st.byToken[token]; ok && token != "" {
		st.mu.Unlock()
		writeEC2(w, prev)
		return
	}
	out := ec2RunResponse{Xmlns: ec2XMLNS, RequestID: "emulator", OwnerID: "000000000000"}
	for _, in := range st.launch(maxCount, image, itype, az, tags) {
		out.ReservationID = in.reservation
		out.Instances = append(out.Instances, in.xml())
	}
	if token != "" {
		st.byToken[token] = out
	}
	st.mu.Unlock()
	writeEC2(w, out)
}

// launch creates n running instances in one reservation. Caller holds mu.
func (st *ec2State) launch(n int, image, itype, az string, tags map[string]string) []*ec2Instance {
	st.seq++
	res := fmt.Sprintf("r-%017x", st.seq)
	now := st.now().UTC().Truncate(time.Second)
	out := make([]*ec2Instance, 0, n)
	for range n {
		st.seq++
		in := &ec2Instance{
			id: fmt.Sprintf("i-%017x", st.seq), reservation: res, image: image, itype: itype, az: az,
			ip: fmt.Sprintf("10.%d.%d.%d", st.seq>>16&255, st.seq>>8&255, st.seq&255), state: "running",
			launched: now, tags: maps.Clone(tags),
		}
		st.instances[in.id] = in
		st.order = append(st.order, in.id)
		out = append(out, in)
	}
	return out
}

// ec2Filter is one DescribeInstances filter: a name and values that may use
// the * and ? wildcards.
type ec2Filter struct {
	name   string
	values []string
}

var ec2FilterNames = map[string]bool{"instance-state-name": true, "instance-id": true, "tag-key": true, "tag-value": true, "instance-type": true, "availability-zone": true}

func (st *ec2State) describeInstances(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	ids := ec2List(q, "InstanceId")
	var filters []ec2Filter
	for i := 1; q.Has("Filter." + strconv.Itoa(i) + ".Name"); i++ {
		p := "Filter." + strconv.Itoa(i)
		f := ec2Filter{name: q.Get(p + ".Name"), values: ec2List(q, p+".Value")}
		if !ec2FilterNames[f.name] && !strings.HasPrefix(f.name, "tag:") {
			WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", f.name))
			return
		}
		filters = append(filters, f)
	}
	limit, start, ok := ec2PageParams(w, q, "ec2tok-")
	if !ok {
		return
	}
	if limit > 0 && len(ids) > 0 {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
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
	// start and the next token index into the filtered list, which only
	// grows at the end as instances launch.
	if st.ignoreFilters {
		filters = nil
	}
	var matched []*ec2Instance
	for _, id := range candidates {
		if in := st.instances[id]; in.matches(filters) {
			matched = append(matched, in)
		}
	}
	instances, next := page(matched, start, limit, "ec2tok-")
	out := ec2DescribeResponse{Xmlns: ec2XMLNS, RequestID: "emulator", NextToken: next}
	for _, in := range instances {
		// Instances launched together share a reservation, as in AWS.
		if n := len(out.Reservations); n > 0 && out.Reservations[n-1].ReservationID == in.reservation {
			out.Reservations[n-1].Instances = append(out.Reservations[n-1].Instances, in.xml())
			continue
		}
		out.Reservations = append(out.Reservations, ec2Reservation{ReservationID: in.reservation, OwnerID: "000000000000", Instances: []ec2XMLInstance{in.xml()}})
	}
	writeEC2(w, out)
}

func (st *ec2State) rebootInstances(w http.ResponseWriter, _ *http.Request, body []byte) {
	badState := func(id, s string) string {
		return fmt.Sprintf("The instance '%s' is not in a state from which it can be rebooted (%s).", id, s)
	}
	st.changeInstances(w, body, []string{"running"}, badState, func(ids []string) any {
		for _, id := range ids {
			st.reboots[id]++
			st.booted(id)
		}
		return ec2ReturnResponse{XMLName: xml.Name{Local: "RebootInstancesResponse"}, Xmlns: ec2XMLNS, RequestID: "emulator", Return: true}
	})
}

// transition answers Start/Stop/Terminate: instances in an allowed state
// move to settled (reported as the transient state, as AWS does); settled
// instances stay put; anything else fails the whole call.
func (st *ec2State) transition(respName, transient, settled string, allowed ...string) Handler {
	badState := func(id, _ string) string {
		return fmt.Sprintf("The instance '%s' is not in a state from which it can be %s.", id, strings.TrimSuffix(respName, "InstancesResponse"))
	}
	return func(w http.ResponseWriter, _ *http.Request, body []byte) {
		st.changeInstances(w, body, allowed, badState, func(ids []string) any {
			out := ec2ChangeResponse{XMLName: xml.Name{Local: respName}, Xmlns: ec2XMLNS, RequestID: "emulator"}
			for _, id := range ids {
				in := st.instances[id]
				prev, cur := in.state, transient
				if prev == settled {
					cur = settled
				}
				in.state = settled
				if settled == "running" && prev != "running" {
					st.booted(id)
				}
				out.Changes = append(out.Changes, ec2Change{ID: id, Current: ec2XMLState{ec2StateCodes[cur], cur}, Previous: ec2XMLState{ec2StateCodes[prev], prev}})
			}
			return out
		})
	}
}

// changeInstances answers a call on InstanceId.N: the ids must be given
// and known and every instance in an allowed state, else the call fails
// with badState's message. AWS checks the whole request before acting, so
// one bad instance changes nothing. Then apply runs under the lock and
// its value is the answer.
func (st *ec2State) changeInstances(w http.ResponseWriter, body []byte, allowed []string, badState func(id, state string) string, apply func(ids []string) any) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	ids := ec2List(q, "InstanceId")
	if len(ids) == 0 {
		WriteEC2Error(w, http.StatusBadRequest, "MissingParameter", "The request must contain the parameter InstanceId")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if missing := st.missing(ids); len(missing) > 0 {
		ec2NotFound(w, missing)
		return
	}
	for _, id := range ids {
		if s := st.instances[id].state; !slices.Contains(allowed, s) {
			WriteEC2Error(w, http.StatusBadRequest, "IncorrectInstanceState", badState(id, s))
			return
		}
	}
	writeEC2(w, apply(ids))
}

// tags answers CreateTags/DeleteTags for instance ids; requests naming
// any other resource go to kumo, which keeps those resources.
func (st *ec2State) tags(create bool) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		q, ok := ec2Form(w, body)
		if !ok {
			return
		}
		ids := ec2List(q, "ResourceId")
		if len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return !strings.HasPrefix(id, "i-") }) {
			st.srv.forward(w, r, body)
			return
		}
		tags := ec2Tags(q, "Tag")
		st.mu.Lock()
		defer st.mu.Unlock()
		if missing := st.missing(ids); len(missing) > 0 {
			ec2NotFound(w, missing)
			return
		}
		for _, id := range ids {
			in := st.instances[id]
			for k, v := range tags {
				if create {
					in.tags[k] = v
				} else if !q.Has(tagValueKey(q, k)) || in.tags[k] == v {
					delete(in.tags, k)
				}
			}
		}
		name := "DeleteTagsResponse"
		if create {
			name = "CreateTagsResponse"
		}
		writeEC2(w, ec2ReturnResponse{XMLName: xml.Name{Local: name}, Xmlns: ec2XMLNS, RequestID: "emulator", Return: true})
	}
}

// missing returns the ids that name no instance. Caller holds mu.
func (st *ec2State) missing(ids []string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := st.instances[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

func (in *ec2Instance) matches(filters []ec2Filter) bool {
	for _, f := range filters {
		var have []string
		switch {
		case f.name == "instance-state-name":
			have = []string{in.state}
		case f.name == "instance-id":
			have = []string{in.id}
		case f.name == "instance-type":
			have = []string{in.itype}
		case f.name == "availability-zone":
			have = []string{in.az}
		case f.name == "tag-key":
			have = slices.Collect(maps.Keys(in.tags))
		case f.name == "tag-value":
			have = slices.Collect(maps.Values(in.tags))
		default: // tag:K
			v, ok := in.tags[strings.TrimPrefix(f.name, "tag:")]
			if !ok {
				return false
			}
			have = []string{v}
		}
		if !slices.ContainsFunc(have, func(h string) bool {
			return slices.ContainsFunc(f.values, func(p string) bool { return wildcardMatch(p, h) })
		}) {
			return false
		}
	}
	return true
}
