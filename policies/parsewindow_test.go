package policies

// ParseWindow parses "[DAYS] HH:MM-HH:MM ZONE" with the zones of the
// system's database (for the tests: policies compile windows themselves).
func ParseWindow(s string) (Window, error) { return parseWindow(s, loadZone) }
