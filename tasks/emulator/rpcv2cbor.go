package emulator

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"

	"github.com/fxamacker/cbor/v2"
)

// The smithy rpc-v2-cbor protocol (CloudWatch): CBOR bodies both ways,
// the protocol named in a Smithy-Protocol header.

// decode reads a request body into v; an empty body leaves v zero.
func (st *cwState) decode(w http.ResponseWriter, r *http.Request, body []byte, v any) bool {
	if r.Header.Get("Content-Encoding") == "gzip" { // the SDK compresses PutMetricData
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			WriteCBORError(w, http.StatusBadRequest, "SerializationException", "gunzip request: "+err.Error())
			return false
		}
	}
	if len(body) == 0 {
		return true
	}
	if err := st.dec.Unmarshal(body, v); err != nil {
		WriteCBORError(w, http.StatusBadRequest, "SerializationException", "decode request: "+err.Error())
		return false
	}
	return true
}

func (st *cwState) write(w http.ResponseWriter, v any) {
	b, err := st.enc.Marshal(v)
	if err != nil {
		WriteCBORError(w, http.StatusInternalServerError, "InternalServiceFault", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	_, _ = w.Write(b)
}

// WriteCBORError writes a smithy rpc-v2-cbor error body, the shape the SDK
// reads error codes from for CloudWatch.
func WriteCBORError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := cbor.Marshal(map[string]string{"__type": code, "message": msg}) // a string map always encodes
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
