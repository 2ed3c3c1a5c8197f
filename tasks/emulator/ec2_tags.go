package emulator

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// EC2 DescribeTags. kumo keeps the tags of the resources it owns (VPCs,
// security groups...) but filters them only by resource id and key, and the
// instances live in the front; so the front answers: kumo's entries (when
// the filters do not restrict to instances) plus the instances', with every
// filter (key, value, resource-id, resource-type, wildcards) and
// MaxResults/NextToken applied here.

type ec2TagEntry struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

var ec2TagFilterNames = map[string]bool{"key": true, "value": true, "resource-id": true, "resource-type": true}

func (st *ec2State) describeTags(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	var filters []ec2Filter
	for i := 1; q.Has("Filter." + strconv.Itoa(i) + ".Name"); i++ {
		p := "Filter." + strconv.Itoa(i)
		f := ec2Filter{name: q.Get(p + ".Name"), values: ec2List(q, p+".Value")}
		if !ec2TagFilterNames[f.name] {
			WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", f.name))
			return
		}
		filters = append(filters, f)
	}
	limit, start, ok := ec2PageParams(w, q, "tagtok-")
	if !ok {
		return
	}

	var entries []ec2TagEntry
	if !onlyInstances(filters) {
		kumo, err := st.kumoTags(r, q)
		if err != nil {
			WriteEC2Error(w, http.StatusInternalServerError, "InternalError", err.Error())
			return
		}
		entries = kumo
	}
	st.mu.Lock()
	for _, id := range st.order {
		for k, v := range st.instances[id].tags {
			entries = append(entries, ec2TagEntry{id, "instance", k, v})
		}
	}
	st.mu.Unlock()

	entries = slices.DeleteFunc(entries, func(e ec2TagEntry) bool { return !e.matches(filters) })
	slices.SortFunc(entries, func(a, b ec2TagEntry) int {
		return cmp.Or(cmp.Compare(a.ResourceID, b.ResourceID), cmp.Compare(a.Key, b.Key))
	})
	tags, next := page(entries, start, limit, "tagtok-")
	writeEC2(w, struct {
		XMLName   xml.Name      `xml:"DescribeTagsResponse"`
		Xmlns     string        `xml:"xmlns,attr"`
		RequestID string        `xml:"requestId"`
		Tags      []ec2TagEntry `xml:"tagSet>item"`
		NextToken string        `xml:"nextToken,omitempty"`
	}{Xmlns: ec2XMLNS, RequestID: "emulator", Tags: tags, NextToken: next})
}

// onlyInstances reports filters that can match instance tags only, so kumo
// need not be asked.
func onlyInstances(filters []ec2Filter) bool {
	for _, f := range filters {
		switch f.name {
		case "resource-type":
			if !slices.ContainsFunc(f.values, func(v string) bool { return v != "instance" }) {
				return true
			}
		case "resource-id":
			if !slices.ContainsFunc(f.values, func(v string) bool { return !strings.HasPrefix(v, "i-") }) {
				return true
			}
		}
	}
	return false
}

func (e ec2TagEntry) matches(filters []ec2Filter) bool {
	for _, f := range filters {
		have := map[string]string{"key": e.Key, "value": e.Value, "resource-id": e.ResourceID, "resource-type": e.ResourceType}[f.name]
		if !slices.ContainsFunc(f.values, func(p string) bool { return wildcardMatch(p, have) }) {
			return false
		}
	}
	return true
}

// kumoTags asks kumo directly (uncounted) for the tags it keeps, without
// the paging parameters: paging happens over the merged list.
func (st *ec2State) kumoTags(r *http.Request, q url.Values) ([]ec2TagEntry, error) {
	q = cloneForm(q)
	q.Del("MaxResults")
	q.Del("NextToken")
	body := q.Encode()
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, st.srv.KumoURL()+"/", strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("ask kumo for tags: %w", err)
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask kumo for tags: %w", err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("read kumo tags: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("kumo DescribeTags: %s: %s", resp.Status, buf.String())
	}
	var out struct {
		Tags []ec2TagEntry `xml:"tagSet>item"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("decode kumo tags: %w", err)
	}
	return out.Tags, nil
}

func cloneForm(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}
