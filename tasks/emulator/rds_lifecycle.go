package emulator

import (
	"net/http"
	"strconv"
)

// ModifyDBInstance, which CloudFormation stack updates need
// (cloudformation*.go), in the awsQuery wire format, on the same state as
// the other RDS fill-ins. DeleteDBInstance (rds_cluster.go) honours the
// deletion protection set at create or here.

func (s *Server) registerRDSLifecycle() {
	s.Handle("rds:ModifyDBInstance", s.rds.modifyInstance)
}

func (st *rdsState) modifyInstance(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	in, ok := st.instance(w, q.Get("DBInstanceIdentifier"))
	if !ok {
		return
	}
	if c := q.Get("DBInstanceClass"); c != "" {
		in.Class = c
	}
	if a := q.Get("AllocatedStorage"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || int32(n) < in.AllocatedStorage {
			WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "Invalid storage size: storage can only grow.")
			return
		}
		in.AllocatedStorage = int32(n)
	}
	if d := q.Get("DeletionProtection"); d != "" {
		in.deletionProtection = d == "true"
	}
	writeRDS(w, "ModifyDBInstance", rdsInstanceResult{in.xml()})
}
