package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// The awsQuery protocol (RDS, Auto Scaling, ELBv2, STS): form-encoded
// requests, XML answers in an <OpResponse><OpResult> envelope.

// queryForm parses the form body of an awsQuery request.
func queryForm(w http.ResponseWriter, body []byte) (url.Values, bool) {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		WriteQueryError(w, http.StatusBadRequest, "MalformedInput", "malformed form body")
		return nil, false
	}
	return q, true
}

// queryList reads an awsQuery list: prefix.1, prefix.2, ...
func queryList(q url.Values, prefix string) []string {
	var out []string
	for i := 1; q.Has(prefix + "." + strconv.Itoa(i)); i++ {
		out = append(out, q.Get(prefix+"."+strconv.Itoa(i)))
	}
	return out
}

// writeQueryResponse encodes an awsQuery success envelope.
func writeQueryResponse(w http.ResponseWriter, xmlns, op string, result any) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	resp := xml.StartElement{Name: xml.Name{Local: op + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}}
	meta := xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}
	err := errors.Join(
		enc.EncodeToken(resp),
		enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}}),
		enc.EncodeToken(meta),
		enc.EncodeElement("emulator", xml.StartElement{Name: xml.Name{Local: "RequestId"}}),
		enc.EncodeToken(meta.End()),
		enc.EncodeToken(resp.End()),
		enc.Flush(),
	)
	if err != nil {
		WriteQueryError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(buf.Bytes())
}
