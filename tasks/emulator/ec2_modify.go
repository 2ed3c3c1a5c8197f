package emulator

import (
	"encoding/xml"
	"net/http"
)

// ModifyInstanceAttribute for the instance type (what a CloudFormation
// stack update of InstanceType does: stop, modify, start). AWS refuses it on
// a running instance, and so does the emulator.

func (s *Server) registerEC2Modify() {
	s.Handle("ec2:ModifyInstanceAttribute", s.ec2.modifyAttribute)
}

func (st *ec2State) modifyAttribute(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := ec2Form(w, body)
	if !ok {
		return
	}
	id := q.Get("InstanceId")
	itype := q.Get("InstanceType.Value")
	if itype == "" && q.Get("Attribute") == "instanceType" {
		itype = q.Get("Value")
	}
	if itype == "" {
		WriteEC2Error(w, http.StatusBadRequest, "InvalidParameterCombination", "the emulator modifies only InstanceType")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	in, ok := st.instances[id]
	if !ok {
		ec2NotFound(w, []string{id})
		return
	}
	if in.state != "stopped" {
		WriteEC2Error(w, http.StatusBadRequest, "IncorrectInstanceState",
			"The instance '"+id+"' is not in the 'stopped' state.")
		return
	}
	in.itype = itype
	writeEC2(w, struct {
		XMLName   xml.Name `xml:"ModifyInstanceAttributeResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		RequestID string   `xml:"requestId"`
		Return    bool     `xml:"return"`
	}{Xmlns: ec2XMLNS, RequestID: "emulator", Return: true})
}

// InstanceType reports the emulated type of id ("" if unknown).
func (s *Server) InstanceType(id string) string {
	s.ec2.mu.Lock()
	defer s.ec2.mu.Unlock()
	if in, ok := s.ec2.instances[id]; ok {
		return in.itype
	}
	return ""
}
