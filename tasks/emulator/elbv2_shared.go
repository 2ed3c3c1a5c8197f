package emulator

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// What target groups (elbv2.go) and load balancers (elbv2_lb.go) share:
// both are kept by ARN in creation order, found by name, described by
// ARNs or names a page at a time, and tagged the same way.

// elbResource is a target group or a load balancer.
type elbResource interface{ resourceName() string }

func (g *elbTargetGroup) resourceName() string   { return g.name }
func (lb *elbLoadBalancer) resourceName() string { return lb.name }

// elbByName finds the resource called name. Caller holds the lock of
// byARN.
func elbByName[T elbResource](byARN map[string]T, order []string, name string) (T, bool) {
	i := slices.IndexFunc(order, func(arn string) bool { return byARN[arn].resourceName() == name })
	if i < 0 {
		var zero T
		return zero, false
	}
	return byARN[order[i]], true
}

// elbList is what a Describe call asks for: ARNs or names (never both),
// and a page.
type elbList struct {
	arns, names []string
	start, size int
	tokPrefix   string
}

// readELBList reads a Describe call for kind ("Target group") whose ARNs
// are in arnsParam: at most maxNames ARNs or names (0: no limit), PageSize
// 1..400 and a Marker of tokPrefix. It answers the ValidationError itself.
func readELBList(w http.ResponseWriter, q url.Values, arnsParam, kind string, maxNames int, tokPrefix string) (elbList, bool) {
	l := elbList{arns: queryList(q, arnsParam), names: queryList(q, "Names.member"), tokPrefix: tokPrefix}
	if len(l.arns) > 0 && len(l.names) > 0 {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", kind+" ARNs and names cannot be specified at the same time")
		return l, false
	}
	if maxNames > 0 && (len(l.arns) > maxNames || len(l.names) > maxNames) {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "At most "+strconv.Itoa(maxNames)+" "+strings.ToLower(kind)+" ARNs or names can be specified")
		return l, false
	}
	var ok bool
	if l.size, ok = parsePageSize(q.Get("PageSize"), 400, 1, 400); !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "PageSize must be between 1 and 400")
		return l, false
	}
	if l.start, ok = parsePageToken(q.Get("Marker"), tokPrefix); !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Invalid marker")
		return l, false
	}
	return l, true
}

// elbPage renders with xmlOf the page of the resources l names (all of
// them, in creation order, when it names none) and returns the next
// marker. missing is the first ARN or name not found; then ok is false and
// the caller answers with its own NotFound error. Caller holds the lock of
// byARN.
func elbPage[T elbResource, X any](l elbList, byARN map[string]T, order []string, xmlOf func(T) X) (out []X, next, missing string, ok bool) {
	var matched []T
	switch {
	case len(l.arns) > 0:
		for _, arn := range l.arns {
			r, ok := byARN[arn]
			if !ok {
				return nil, "", arn, false
			}
			matched = append(matched, r)
		}
	case len(l.names) > 0:
		for _, name := range l.names {
			r, ok := elbByName(byARN, order, name)
			if !ok {
				return nil, "", name, false
			}
			matched = append(matched, r)
		}
	default:
		for _, arn := range order {
			matched = append(matched, byARN[arn])
		}
	}
	items, next := page(matched, l.start, l.size, l.tokPrefix)
	out = []X{} // an empty list is still a list element in the answer
	for _, r := range items {
		out = append(out, xmlOf(r))
	}
	return out, next, "", true
}

// elbTags reads the Tags of a Create or AddTags call.
func elbTags(q url.Values) map[string]string {
	tags := map[string]string{}
	for i := 1; q.Has("Tags.member." + strconv.Itoa(i) + ".Key"); i++ {
		p := "Tags.member." + strconv.Itoa(i)
		tags[q.Get(p+".Key")] = q.Get(p + ".Value")
	}
	return tags
}

// elbSDKTags is tags as a seeding client sends them, in key order.
func elbSDKTags(tags map[string]string) []elbtypes.Tag {
	var out []elbtypes.Tag
	for _, k := range sortedKeys(tags) {
		out = append(out, elbtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// elbAddTags copies the call's tags onto each of arns and answers.
// Caller holds the lock of what tagsOf reads.
func elbAddTags(w http.ResponseWriter, q url.Values, arns []string, tagsOf func(arn string) map[string]string) {
	tags := elbTags(q)
	for _, a := range arns {
		maps.Copy(tagsOf(a), tags)
	}
	writeQueryResponse(w, elbXMLNS, "AddTags", struct{}{})
}

type elbXMLTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type elbXMLTagDesc struct {
	ARN  string      `xml:"ResourceArn"`
	Tags []elbXMLTag `xml:"Tags>member"`
}

// elbTagsResult is the answer of DescribeTags.
type elbTagsResult struct {
	Descs []elbXMLTagDesc `xml:"TagDescriptions>member"`
}

// add describes the tags of one resource, in key order.
func (r *elbTagsResult) add(arn string, tags map[string]string) {
	d := elbXMLTagDesc{ARN: arn, Tags: []elbXMLTag{}}
	for _, k := range sortedKeys(tags) {
		d.Tags = append(d.Tags, elbXMLTag{k, tags[k]})
	}
	r.Descs = append(r.Descs, d)
}
