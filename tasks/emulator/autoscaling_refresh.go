package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Instance refreshes: one at a time per group, progressing on the
// emulator's clock (asgRefreshDuration from start to Successful).

type asgRefresh struct {
	id, group  string
	minHealthy int
	started    time.Time
	toUpdate   int
}

func (st *asgState) startRefresh(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("AutoScalingGroupName")
	minHealthy := 90
	if v := q.Get("Preferences.MinHealthyPercentage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", "MinHealthyPercentage must be between 0 and 100")
			return
		}
		minHealthy = n
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.groups[name]
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found - no such group: "+name)
		return
	}
	now := st.now()
	for _, r := range st.refreshes {
		if r.group == name && r.status(now) == "InProgress" {
			WriteQueryError(w, http.StatusBadRequest, "InstanceRefreshInProgress", fmt.Sprintf("An Instance Refresh is already in progress and blocks the execution of this Instance Refresh (%s).", r.id))
			return
		}
	}
	st.seq++
	r := &asgRefresh{id: fmt.Sprintf("%08x-emul-0000-0000-%012x", st.seq, st.seq), group: name, minHealthy: minHealthy, started: now, toUpdate: len(g.instances)}
	st.refreshes = append(st.refreshes, r)
	writeQueryResponse(w, asgXMLNS, "StartInstanceRefresh", struct {
		ID string `xml:"InstanceRefreshId"`
	}{r.id})
}

func (r *asgRefresh) status(now time.Time) string {
	if now.Sub(r.started) >= asgRefreshDuration {
		return "Successful"
	}
	return "InProgress"
}

func (st *asgState) describeRefreshes(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("AutoScalingGroupName")
	ids := queryList(q, "InstanceRefreshIds.member")
	limit, start, ok := asgPage(w, q)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.now()
	type prefs struct {
		MinHealthy int `xml:"MinHealthyPercentage"`
	}
	type refresh struct {
		Group      string `xml:"AutoScalingGroupName"`
		ID         string `xml:"InstanceRefreshId"`
		Status     string `xml:"Status"`
		StartTime  string `xml:"StartTime"`
		EndTime    string `xml:"EndTime,omitempty"`
		Percentage int    `xml:"PercentageComplete"`
		ToUpdate   int    `xml:"InstancesToUpdate"`
		Prefs      prefs  `xml:"Preferences"`
	}
	var all []refresh
	for i := len(st.refreshes) - 1; i >= 0; i-- { // newest first, as AWS lists them
		r := st.refreshes[i]
		if r.group != name || (len(ids) > 0 && !slices.Contains(ids, r.id)) {
			continue
		}
		x := refresh{Group: r.group, ID: r.id, Status: r.status(now), StartTime: r.started.UTC().Format(time.RFC3339), ToUpdate: r.toUpdate, Prefs: prefs{r.minHealthy}}
		elapsed := now.Sub(r.started)
		x.Percentage = int(min(100, 100*elapsed/asgRefreshDuration))
		if x.Status == "Successful" {
			x.EndTime = r.started.Add(asgRefreshDuration).UTC().Format(time.RFC3339)
			x.ToUpdate = 0
		} else {
			x.ToUpdate = r.toUpdate - r.toUpdate*x.Percentage/100
		}
		all = append(all, x)
	}
	out := struct {
		Refreshes []refresh `xml:"InstanceRefreshes>member"`
		NextToken string    `xml:"NextToken,omitempty"`
	}{Refreshes: []refresh{}}
	refreshes, next := page(all, start, limit, "asgtok-")
	out.Refreshes = append(out.Refreshes, refreshes...)
	out.NextToken = next
	writeQueryResponse(w, asgXMLNS, "DescribeInstanceRefreshes", out)
}
