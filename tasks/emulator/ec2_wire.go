package emulator

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The ec2Query wire format: form decoding, error answers and the response
// shapes, named as the SDK's deserializers read them.

// tagValueKey finds the form key of the value given for tag key k, so
// DeleteTags can tell "delete whatever the value" from "delete if equal".
func tagValueKey(q url.Values, k string) string {
	for i := 1; q.Has("Tag." + strconv.Itoa(i) + ".Key"); i++ {
		if q.Get("Tag."+strconv.Itoa(i)+".Key") == k {
			return "Tag." + strconv.Itoa(i) + ".Value"
		}
	}
	return ""
}

// wildcardMatch is EC2 filter matching: * any run, ? one character,
// everything else literal (including /, unlike path.Match).
func wildcardMatch(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func ec2Form(w http.ResponseWriter, body []byte) (url.Values, bool) {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", "malformed form body")
		return nil, false
	}
	return q, true
}

// ec2List reads an ec2Query list: prefix.1, prefix.2, ...
func ec2List(q url.Values, prefix string) []string {
	var out []string
	for i := 1; q.Has(prefix + "." + strconv.Itoa(i)); i++ {
		out = append(out, q.Get(prefix+"."+strconv.Itoa(i)))
	}
	return out
}

// ec2Tags reads prefix.N.Key / prefix.N.Value.
func ec2Tags(q url.Values, prefix string) map[string]string {
	tags := map[string]string{}
	for i := 1; q.Has(prefix + "." + strconv.Itoa(i) + ".Key"); i++ {
		p := prefix + "." + strconv.Itoa(i)
		tags[q.Get(p+".Key")] = q.Get(p + ".Value")
	}
	return tags
}

func ec2NotFound(w http.ResponseWriter, missing []string) {
	msg := fmt.Sprintf("The instance ID '%s' does not exist", missing[0])
	if len(missing) > 1 {
		msg = fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
	code := "InvalidInstanceID.NotFound"
	if !strings.HasPrefix(missing[0], "i-") {
		code, msg = "InvalidInstanceID.Malformed", fmt.Sprintf("Invalid id: \"%s\"", missing[0])
	}
	WriteEC2Error(w, http.StatusBadRequest, code, msg)
}

func writeEC2(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

// Wire shapes, named as the SDK's ec2Query deserializers read them.

type ec2XMLState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2XMLTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2XMLInstance struct {
	InstanceID   string      `xml:"instanceId"`
	ImageID      string      `xml:"imageId"`
	State        ec2XMLState `xml:"instanceState"`
	InstanceType string      `xml:"instanceType"`
	LaunchTime   string      `xml:"launchTime"`
	AZ           string      `xml:"placement>availabilityZone"`
	PrivateIP    string      `xml:"privateIpAddress"`
	Tags         []ec2XMLTag `xml:"tagSet>item"`
}

func (in *ec2Instance) xml() ec2XMLInstance {
	x := ec2XMLInstance{
		InstanceID: in.id, ImageID: in.image, State: ec2XMLState{ec2StateCodes[in.state], in.state},
		InstanceType: in.itype, LaunchTime: in.launched.Format(time.RFC3339), AZ: in.az, PrivateIP: in.ip,
	}
	for _, k := range slices.Sorted(maps.Keys(in.tags)) {
		x.Tags = append(x.Tags, ec2XMLTag{k, in.tags[k]})
	}
	return x
}

type ec2Reservation struct {
	ReservationID string           `xml:"reservationId"`
	OwnerID       string           `xml:"ownerId"`
	Instances     []ec2XMLInstance `xml:"instancesSet>item"`
}

type ec2DescribeResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []ec2Reservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type ec2RunResponse struct {
	XMLName       xml.Name         `xml:"RunInstancesResponse"`
	Xmlns         string           `xml:"xmlns,attr"`
	RequestID     string           `xml:"requestId"`
	ReservationID string           `xml:"reservationId"`
	OwnerID       string           `xml:"ownerId"`
	Instances     []ec2XMLInstance `xml:"instancesSet>item"`
}

type ec2Change struct {
	ID       string      `xml:"instanceId"`
	Current  ec2XMLState `xml:"currentState"`
	Previous ec2XMLState `xml:"previousState"`
}

type ec2ChangeResponse struct {
	XMLName   xml.Name
	Xmlns     string      `xml:"xmlns,attr"`
	RequestID string      `xml:"requestId"`
	Changes   []ec2Change `xml:"instancesSet>item"`
}

type ec2ReturnResponse struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Return    bool   `xml:"return"`
}

// ec2PageParams reads MaxResults (5 to 1000; absent: no limit) and a
// NextToken written with prefix.
func ec2PageParams(w http.ResponseWriter, q url.Values, prefix string) (limit, start int, ok bool) {
	if limit, ok = parsePageSize(q.Get("MaxResults"), 0, 5, 1000); !ok {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Value (%s) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", q.Get("MaxResults")))
		return 0, 0, false
	}
	if start, ok = parsePageToken(q.Get("NextToken"), prefix); !ok {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", "The token '"+q.Get("NextToken")+"' is invalid")
		return 0, 0, false
	}
	return limit, start, true
}
