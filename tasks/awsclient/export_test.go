package awsclient

// CachedSessions lets the external tests (package awsclient_test, which
// import the emulator; the emulator imports awsclient) see the cache size.
func CachedSessions(p *Provider) int { return p.lru.Len() }
