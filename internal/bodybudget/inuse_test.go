package bodybudget

// InUse reports the bytes reserved now (for the tests: serve reads the
// budget through OnChange).
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
