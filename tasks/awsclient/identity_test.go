package awsclient

import (
	"strings"
	"testing"
)

func TestEncodeIdentity(t *testing.T) {
	long := "slack:" + strings.Repeat("U", 100)
	tests := []struct {
		in, want string
	}{
		{"slack:U123", "slack.U123"},
		{"discord:80351110224678912", "discord.80351110224678912"},
		{"day2bot:scheduler-shop", "day2bot.scheduler-shop"},
		{"a", "a_"},
		{"x y/z", "x=20y=2Fz"},
		{"a=b", "a=3Db"},
		{"é", "=C3=A9"},
		{"alice@example.com", "alice@example.com"},
		{long, "slack." + strings.Repeat("U", 49) + "-" + "a5dd63de"},
	}
	for _, tc := range tests {
		got, err := EncodeIdentity(tc.in)
		if err != nil {
			t.Fatalf("EncodeIdentity(%q): %v", tc.in, err)
		}
		if tc.in == long {
			// The hash suffix is whatever SHA-256 says; check the shape.
			if len(got) != 64 || !strings.HasPrefix(got, tc.want[:56]) {
				t.Fatalf("long: got %q", got)
			}
		} else if got != tc.want {
			t.Errorf("EncodeIdentity(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if err := ValidateIdentity(got); err != nil {
			t.Errorf("encoded %q invalid: %v", tc.in, err)
		}
	}
	if _, err := EncodeIdentity(""); err == nil {
		t.Fatal("empty principal accepted")
	}
}

func TestValidateIdentity(t *testing.T) {
	for _, bad := range []string{"", "a", strings.Repeat("a", 65), "slack:U1", "a b", "a/b", "é1"} {
		if ValidateIdentity(bad) == nil {
			t.Errorf("ValidateIdentity(%q) accepted", bad)
		}
	}
	for _, good := range []string{"ab", strings.Repeat("a", 64), "a_+=,.@-Z9"} {
		if err := ValidateIdentity(good); err != nil {
			t.Errorf("ValidateIdentity(%q): %v", good, err)
		}
	}
}

func FuzzEncodeIdentity(f *testing.F) {
	for _, s := range []string{"slack:U123", "a", "", "x y", strings.Repeat("é", 40), "==", "day2bot:follow-up"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, principal string) {
		got, err := EncodeIdentity(principal)
		if principal == "" {
			if err == nil {
				t.Fatal("empty principal accepted")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateIdentity(got); err != nil {
			t.Fatalf("EncodeIdentity(%q) = %q: %v", principal, got, err)
		}
		again, _ := EncodeIdentity(principal)
		if again != got {
			t.Fatalf("not deterministic: %q vs %q", got, again)
		}
	})
}
