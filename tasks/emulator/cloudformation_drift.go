package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Drift detection: each resource is read back through the emulator's API
// and compared with what the stack last applied. Detection finishes before
// DetectStackDrift answers; its status and results are then read as on
// AWS.

type cfnDetection struct {
	id, stackID, status, drift, reason string
	drifted, seq                       int
	at                                 time.Time
	results                            []cfnXMLDrift
}

func (st *cfnState) detectDrift(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.stack(w, q.Get("StackName"))
	if !ok {
		return
	}
	if s.status == "DELETE_COMPLETE" || s.status == "REVIEW_IN_PROGRESS" || s.status == "ROLLBACK_COMPLETE" {
		cfnError(w, http.StatusBadRequest, "ValidationError", "Stack %s is in %s state and can not be checked for drift", s.name, s.status)
		return
	}
	now := st.now().UTC().Truncate(time.Second)
	d := &cfnDetection{id: uuidLike(st.hashID("drift", s.id)), seq: st.seq, stackID: s.id, status: "DETECTION_COMPLETE", drift: "IN_SYNC", at: now}
	c := st.clients()
	for _, id := range sortedKeys(s.res) {
		res := s.res[id]
		x := cfnXMLDrift{StackID: s.id, LogicalResourceID: id, PhysicalResourceID: res.physical, ResourceType: res.typ,
			StackResourceDriftStatus: "IN_SYNC", Timestamp: now.Format(time.RFC3339)}
		prov := cfnProviders[res.typ]
		if prov.drift == nil {
			x.StackResourceDriftStatus = "NOT_CHECKED"
			d.results = append(d.results, x)
			continue
		}
		diffs, deleted, err := prov.drift(r.Context(), c, res)
		switch {
		case err != nil:
			d.status, d.reason = "DETECTION_FAILED", fmt.Sprintf("Failed to detect drift on resource [%s]: %v", id, err)
			x.StackResourceDriftStatus = "NOT_CHECKED"
		case deleted:
			x.StackResourceDriftStatus = "DELETED"
		case len(diffs) > 0:
			x.StackResourceDriftStatus = "MODIFIED"
			for _, df := range diffs {
				x.PropertyDifferences = append(x.PropertyDifferences, cfnXMLPropertyDiff{PropertyPath: df.path,
					ExpectedValue: df.expected, ActualValue: df.actual, DifferenceType: "NOT_EQUAL"})
			}
		}
		if x.StackResourceDriftStatus == "DELETED" || x.StackResourceDriftStatus == "MODIFIED" {
			d.drifted++
			d.drift = "DRIFTED"
		}
		d.results = append(d.results, x)
	}
	st.drifts[d.id] = d
	s.drift, s.driftChecked = d.drift, now
	writeQueryResponse(w, cfnXMLNS, "DetectStackDrift", struct {
		ID string `xml:"StackDriftDetectionId"`
	}{d.id})
}

func (st *cfnState) describeDetection(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.drifts[q.Get("StackDriftDetectionId")]
	if !ok {
		cfnError(w, http.StatusBadRequest, "ValidationError", "Drift detection %s does not exist", q.Get("StackDriftDetectionId"))
		return
	}
	writeQueryResponse(w, cfnXMLNS, "DescribeStackDriftDetectionStatus", struct {
		StackID                   string `xml:"StackId"`
		StackDriftDetectionID     string `xml:"StackDriftDetectionId"`
		StackDriftStatus          string `xml:"StackDriftStatus"`
		DetectionStatus           string `xml:"DetectionStatus"`
		DetectionStatusReason     string `xml:"DetectionStatusReason,omitempty"`
		DriftedStackResourceCount int    `xml:"DriftedStackResourceCount"`
		Timestamp                 string `xml:"Timestamp"`
	}{d.stackID, d.id, d.drift, d.status, d.reason, d.drifted, d.at.Format(time.RFC3339)})
}

func (st *cfnState) describeResourceDrifts(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	filters := queryList(q, "StackResourceDriftStatusFilters.member")
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.stack(w, q.Get("StackName"))
	if !ok {
		return
	}
	var latest *cfnDetection
	for _, d := range st.drifts {
		if d.stackID == s.id && (latest == nil || d.seq > latest.seq) {
			latest = d
		}
	}
	var out []cfnXMLDrift
	if latest != nil {
		for _, x := range latest.results {
			if len(filters) == 0 || slices.Contains(filters, x.StackResourceDriftStatus) {
				out = append(out, x)
			}
		}
	}
	writeQueryResponse(w, cfnXMLNS, "DescribeStackResourceDrifts", struct {
		StackResourceDrifts []cfnXMLDrift `xml:"StackResourceDrifts>member"`
	}{out})
}
