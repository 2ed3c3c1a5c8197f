package emulator

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
)

// writeFault answers in the error shape of the service's protocol, so the
// SDK classifies it exactly as it would a real AWS error (retryable
// throttling, AccessDenied...).
func writeFault(w http.ResponseWriter, r *http.Request, svc string, f Fault) {
	if f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	if f.Message == "" {
		f.Message = f.Code
	}
	switch {
	case r.Header.Get("X-Amz-Target") != "", restRoutes[svc] != nil: // awsJson, REST-JSON
		WriteJSONError(w, f.Status, f.Code, f.Message)
	case r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor": // CloudWatch
		WriteCBORError(w, f.Status, f.Code, f.Message)
	case svc == "s3":
		WriteS3Error(w, f.Status, f.Code, f.Message)
	case svc == "ec2":
		WriteEC2Error(w, f.Status, f.Code, f.Message)
	default:
		WriteQueryError(w, f.Status, f.Code, f.Message)
	}
}

// WriteJSONError writes an awsJson error body.
func WriteJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// WriteEC2Error writes the ec2Query error document.
func WriteEC2Error(w http.ResponseWriter, status int, code, msg string) {
	type e struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type resp struct {
		XMLName   xml.Name `xml:"Response"`
		Errors    []e      `xml:"Errors>Error"`
		RequestID string   `xml:"RequestID"`
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(resp{Errors: []e{{code, msg}}, RequestID: "emulator-" + strconv.Itoa(status)})
}

// WriteQueryError writes the awsQuery (and S3 REST) error document.
func WriteQueryError(w http.ResponseWriter, status int, code, msg string) {
	type e struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type resp struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Error     e        `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(resp{Error: e{"Sender", code, msg}, RequestID: "emulator"})
}
