package emulator

import (
	"crypto/rand"
	"fmt"
	"strings"
	"sync/atomic"
)

// kumo's state (VPCs, S3 buckets, ...) is process-global and outlives both
// Server.Close and -count repetitions, so names of kumo resources carry a
// random per-process run id and a sequence number.
var (
	runID   = strings.ToLower(rand.Text()[:8])
	uniqSeq atomic.Int64
)

// uniq returns prefix-RUNID-N, unique in this process and across processes;
// lower case so it is a valid S3 bucket name.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, runID, uniqSeq.Add(1))
}
