//go:build race

package bodybudget

// raceEnabled: under the race detector sync.Pool drops a random share of
// what is put back (to shake out misuse), so reuse cannot be measured.
const raceEnabled = true
