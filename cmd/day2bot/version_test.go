package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"clone", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "3f2a9c1d0b7e55aa", "vcs.time", "2026-12-05T21:00:00Z", "vcs.modified", "false")},
			"devel 3f2a9c1d0b7e (2026-12-05T21:00:00Z)"},
		{"clone with changes", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "3f2a9c1d0b7e55aa", "vcs.time", "2026-12-05T21:00:00Z", "vcs.modified", "true")},
			"devel 3f2a9c1d0b7e (2026-12-05T21:00:00Z, modified)"},
		{"go run", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel (no VCS information: built with go run or -buildvcs=false)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionOf(&tt.bi); got != tt.want {
				t.Errorf("versionOf = %q, want %q", got, tt.want)
			}
		})
	}
}
