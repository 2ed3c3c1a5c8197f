package aws

// setPoll makes the actions poll without waiting, for tests against the
// emulator (which answers with the work done).
func (b *cfnBase) setPoll() { b.poll = 0 }
