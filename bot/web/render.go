package web

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/day2bot/day2bot/bot"
)

// The pages are written by hand rather than with html/template: executing
// a template reaches reflect.Value.MethodByName, and then the linker keeps
// every exported method of every type in the binary (all 800 operations of
// the EC2 client, and so on): twice the binary, and the resident memory
// that goes with it. The escaping is html/template's for the two contexts
// the pages use, element text and quoted attribute values (URLs are
// normalised first).

// htmlEscaper escapes element text and quoted attribute values as
// html/template does.
var htmlEscaper = strings.NewReplacer(
	"\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// page is an HTML page being written.
type page struct{ strings.Builder }

// raw writes trusted markup.
func (p *page) raw(s ...string) {
	for _, x := range s {
		p.WriteString(x)
	}
}

// text writes s escaped, for element text or a quoted attribute value.
func (p *page) text(s string) { _, _ = htmlEscaper.WriteString(p, s) }

// url writes s as part of a URL in a quoted attribute: characters that may
// not appear in a URL are percent-encoded, then the result is escaped.
func (p *page) url(s string) { p.text(normalizeURL(s)) }

// normalizeURL percent-encodes what html/template's URL normaliser does:
// every byte but letters, digits, -._~, the reserved !#$&*+,/:;=?@[] and
// a % that starts an escape.
func normalizeURL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~!#$&*+,/:;=?@[]", c) >= 0,
			c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// elem writes <tag>s</tag>, s escaped.
func (p *page) elem(tag, s string) {
	p.raw("<", tag, ">")
	p.text(s)
	p.raw("</", tag, ">")
}

// joined writes ss escaped, between open and close and separated by sep.
func (p *page) joined(open, sep, close string, ss []string) {
	p.raw(open)
	for i, x := range ss {
		if i > 0 {
			p.raw(sep)
		}
		p.text(x)
	}
	p.raw(close)
}

// head opens a page titled title.
func (p *page) head(title string) {
	p.raw("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	p.text(title)
	p.raw(" · day2bot</title>\n<link rel=\"stylesheet\" href=\"/static/day2bot.css\">\n</head>\n<body>\n")
}

// message is one bot message as a section.
func (p *page) message(m bot.Message) {
	p.raw("\n<section class=\"msg tone-")
	p.text(tone(m.Tone))
	p.raw("\">\n  ")
	if m.Title != "" {
		p.elem("h3", m.Title)
	}
	p.raw("\n  ")
	if m.Text != "" {
		p.joined("<p>", "<br>", "</p>", strings.Split(m.Text, "\n"))
	}
	p.raw("\n  ")
	if len(m.Fields) > 0 {
		p.raw("<dl>")
		for _, f := range m.Fields {
			p.elem("dt", f.Name)
			p.elem("dd", f.Value)
		}
		p.raw("</dl>")
	}
	p.raw("\n  ")
	if m.Table != nil {
		p.table(m.Table)
	}
	p.raw("\n  ")
	if src := image(m.Attachment); src != "" {
		p.raw("<img class=\"chart\" alt=\"chart\" src=\"")
		p.url(src)
		p.raw("\">")
	}
	p.raw("\n  ")
	if len(m.Context) > 0 {
		p.joined("<p class=\"context\">", " · ", "</p>", m.Context)
	}
	p.raw("\n</section>\n")
}

// table is a scrollable table.
func (p *page) table(t *bot.Table) {
	p.raw("\n<div class=\"scroll\"><table>\n  <thead><tr>")
	for _, c := range t.Columns {
		p.elem("th", c)
	}
	p.raw("</tr></thead>\n  <tbody>")
	for _, r := range t.Rows {
		p.raw("<tr>")
		for _, c := range r {
			p.elem("td", c)
		}
		p.raw("</tr>")
	}
	p.raw("</tbody>\n</table></div>\n")
}

// image is a data: URL for our own PNG/SVG charts, "" for anything else.
// The CSP allows data: images and nothing else.
func image(f *bot.File) string {
	if f == nil || (f.Type != "image/png" && f.Type != "image/svg+xml") {
		return ""
	}
	return "data:" + f.Type + ";base64," + base64.StdEncoding.EncodeToString(f.Content)
}

// when is a time on the page.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// tone is a message's CSS tone.
func tone(t bot.Tone) string {
	if t == "" {
		return "info"
	}
	return string(t)
}

// renderApp is an app's dashboard page.
func renderApp(v appView) string {
	var p page
	p.head(v.D.App)
	p.raw("\n<header>\n  ")
	p.elem("h1", v.D.App)
	p.raw("\n  ")
	if v.D.Description != "" {
		p.raw("<p class=\"desc\">")
		p.text(v.D.Description)
		p.raw("</p>")
	}
	p.raw("\n  <form class=\"signout\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"")
	p.text(v.CSRF)
	p.raw("\"><span>signed in as ")
	p.text(v.Who)
	p.raw("</span> <button type=\"submit\">Sign out</button></form>\n</header>\n<main>\n")
	if v.Flash != nil {
		p.raw("<div class=\"flash\" role=\"status\">")
		p.text(v.Flash.Text)
		p.raw("</div>")
	}
	p.raw("\n\n<h2 id=\"status\">Status</h2>\n")
	p.message(v.D.Status)
	p.raw("\n\n<h2 id=\"approvals\">Pending approvals</h2>\n")
	for _, a := range v.D.Pending {
		p.raw("\n<article class=\"approval\" id=\"approval-")
		p.text(a.ID)
		p.raw("\">\n  ")
		p.message(a.Message)
		p.raw("\n  ")
		if a.CanVote {
			p.raw("\n  <form method=\"post\" action=\"/apps/")
			p.url(v.D.App)
			p.raw("/approvals/")
			p.url(a.ID)
			p.raw("\">\n    <input type=\"hidden\" name=\"csrf\" value=\"")
			p.text(v.CSRF)
			p.raw("\">\n    <button class=\"primary\" type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n",
				"    <button class=\"danger\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n  </form>\n  ")
		}
		p.raw("\n</article>\n")
	}
	if len(v.D.Pending) == 0 {
		p.raw("<p class=\"none\">Nothing waits for approval.</p>")
	}
	p.raw("\n\n<h2 id=\"health\">Health</h2>\n")
	switch {
	case v.Health != nil:
		p.message(*v.Health)
	case v.Pending != "":
		p.raw("<p class=\"none\">")
		p.text(v.Pending)
		p.raw("</p>")
	default:
		p.raw("<p class=\"none\">Health digests are not set up.</p>")
	}
	p.raw("\n\n<h2 id=\"runs\">Recent runs</h2>\n")
	if v.D.Runs != nil {
		p.table(v.D.Runs)
	} else {
		p.raw("<p class=\"none\">No runs yet.</p>")
	}
	p.raw("\n")
	for _, m := range v.D.Results {
		p.message(m)
	}
	p.raw("\n\n<h2 id=\"schedules\">Schedules</h2>\n")
	if v.D.Schedules != nil {
		p.message(*v.D.Schedules)
	} else {
		p.raw("<p class=\"none\">Schedules are not set up.</p>")
	}
	p.raw("\n\n<h2 id=\"audit\">Audit</h2>\n")
	switch {
	case v.D.Audit == nil:
		p.raw("<p class=\"none\">No audit log.</p>")
	case len(v.D.Audit.Rows) > 0:
		p.table(v.D.Audit)
	default:
		p.raw("<p class=\"none\">Nothing audited yet.</p>")
	}
	p.raw("\n</main>\n<footer>day2bot · ")
	p.text(when(v.Now))
	p.raw("</footer>\n</body>\n</html>\n")
	return p.String()
}

// renderError is a page with one sentence; code 200 is not an error.
func renderError(code int, text string) string {
	var p page
	p.head("day2bot")
	p.raw("\n<main class=\"error\">\n  <h1>")
	if code == 200 {
		p.raw("day2bot")
	} else {
		p.raw("Not available")
	}
	p.raw("</h1>\n  <p>")
	p.text(text)
	p.raw("</p>\n</main>\n</body>\n</html>\n")
	return p.String()
}
