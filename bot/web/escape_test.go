package web

import (
	"html/template"
	"strings"
	"testing"
)

// The pages escape by hand (render.go says why); html/template, used here
// only, is the reference: element text and a quoted attribute value must
// come out exactly as it writes them, for any input.
func FuzzTextEscapesAsHTMLTemplate(f *testing.F) {
	for _, s := range []string{"", "plain", `<script>alert(1)</script>`, `"'><img src=x onerror=alert(1)>`, "a+b&c", "\x00nul", "ünïcödé ✓"} {
		f.Add(s)
	}
	text := template.Must(template.New("t").Parse(`<p>{{.}}</p>`))
	attr := template.Must(template.New("a").Parse(`<p title="{{.}}">`))
	f.Fuzz(func(t *testing.T, s string) {
		for _, tc := range []struct {
			tmpl         *template.Template
			open, close_ string
		}{{text, "<p>", "</p>"}, {attr, `<p title="`, `">`}} {
			var want strings.Builder
			if err := tc.tmpl.Execute(&want, s); err != nil {
				t.Fatal(err)
			}
			var p page
			p.raw(tc.open)
			p.text(s)
			p.raw(tc.close_)
			if p.String() != want.String() {
				t.Fatalf("escaped %q as\n%s\nhtml/template writes\n%s", s, p.String(), want.String())
			}
		}
	})
}
