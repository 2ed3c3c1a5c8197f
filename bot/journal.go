package bot

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/day2bot/day2bot/tasks"
)

// runRequest is the engine's own part of a journaled run or approval
// (store.Run.Request, store.Approval.Request): what it needs to resume the
// run after a restart and that the store's columns do not hold.
type runRequest struct {
	// RateRule is the rule that allowed the run, if rate-limited; its use
	// is recorded when the run is queued (queueRun, vote), not here.
	RateRule string `json:"rate_rule,omitempty"`
	Mutating bool   `json:"mutating"`
	// Reason is free text the requester gave, if any.
	Reason string `json:"reason,omitempty"`
}

func encodeRequest(r runRequest) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode run request: %w", err)
	}
	return b, nil
}

// storedRef is what the engine keeps in a run's or approval's message_ref
// column: where the message is, plus what is needed to render it again
// after a restart (an approval's plan).
type storedRef struct {
	MessageRef
	Plan    *tasks.Plan `json:"plan,omitempty"`
	PlanErr string      `json:"plan_error,omitempty"`
}

func encodeRef(ref MessageRef) string { return encodeStored(storedRef{MessageRef: ref}) }

func encodeStored(s storedRef) string {
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	return string(b)
}

// decodeStored is what is stored about an approval's message, the plan
// included, even when the message itself was never posted.
func decodeStored(s string) storedRef {
	var r storedRef
	if s != "" {
		_ = json.Unmarshal([]byte(s), &r)
	}
	return r
}

func decodeRef(s string) (storedRef, bool) {
	var r storedRef
	if s == "" || json.Unmarshal([]byte(s), &r) != nil || r.Platform == "" {
		return storedRef{}, false
	}
	return r, true
}

// formatParams renders parameters as "k=v k2=v2" in key order, quoting
// values with spaces so the text can be typed back.
func formatParams(params map[string]string) string {
	if len(params) == 0 {
		return "(no parameters)"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(params)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := params[k]
		if v == "" || strings.ContainsAny(v, " \t\"'") {
			v = `"` + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`) + `"`
		}
		b.WriteString(k + "=" + v)
	}
	return b.String()
}
