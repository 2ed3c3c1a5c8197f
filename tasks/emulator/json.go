package emulator

import (
	"encoding/json"
	"net/http"
)

// The awsJson 1.1 protocol (ECS, Cost Explorer): JSON bodies both ways.

// decodeJSON reads a request body into v; an empty body leaves v zero.
func decodeJSON(w http.ResponseWriter, body []byte, v any) bool {
	if len(body) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		WriteJSONError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return false
	}
	return true
}

// writeJSON answers v as an awsJson 1.1 document.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONStatus answers v with status, for REST-JSON creates (201).
func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
