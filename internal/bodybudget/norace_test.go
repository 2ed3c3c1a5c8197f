//go:build !race

package bodybudget

const raceEnabled = false
