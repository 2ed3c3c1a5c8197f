package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README's sandbox transcripts are cut from what the sandbox printed for
// the walkthrough script, never typed by hand: a newcomer who types the
// lines shown must see exactly the text shown. TestSandboxScript calls
// checkREADME with the transcript it just got; -update-sandbox rewrites the
// README's transcript blocks from it.

const readmePath = "../../README.md"

// readmeApprovalID stands for the random approval ids in the README, so the
// shown `press a-7f3k2 approve` reads like a real one.
const readmeApprovalID = "a-7f3k2"

// promptLine starts a step of a transcript: the prompt and what was typed.
var promptLine = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*@day2> `)

// transcriptStep is one typed line and what the sandbox printed for it.
type transcriptStep struct {
	prompt string // "bob@day2> shop restart-web batch=2"
	text   string // the prompt line and the output, each line ending in \n
}

func splitSteps(transcript string) []transcriptStep {
	var steps []transcriptStep
	for l := range strings.SplitAfterSeq(transcript, "\n") {
		if l == "" {
			continue
		}
		if promptLine.MatchString(l) {
			steps = append(steps, transcriptStep{prompt: strings.TrimSuffix(l, "\n")})
		}
		if len(steps) == 0 {
			continue // output before the first prompt (none in a script)
		}
		steps[len(steps)-1].text += l
	}
	return steps
}

// transcriptBlock is a fenced code block of the README that shows the
// sandbox: its first line is a prompt.
type transcriptBlock struct {
	start, end int // line indexes of the block's content: lines[start:end]
	body       string
}

func transcriptBlocks(lines []string) []transcriptBlock {
	var blocks []transcriptBlock
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(lines[j], "```") {
			j++
		}
		// Transcripts are fenced without a language (```sh is a shell).
		if lines[i] == "```" && j < len(lines) && i+1 < j && promptLine.MatchString(lines[i+1]) {
			blocks = append(blocks, transcriptBlock{start: i + 1, end: j, body: strings.Join(lines[i+1:j], "\n") + "\n"})
		}
		i = j
	}
	return blocks
}

// excerpt finds the run of steps of the transcript whose typed lines are
// those of the block, and returns their text.
func excerpt(all []transcriptStep, want []transcriptStep) (string, int, error) {
	prompts := func(ss []transcriptStep) []string {
		var p []string
		for _, s := range ss {
			p = append(p, s.prompt)
		}
		return p
	}
	wp := prompts(want)
	ap := prompts(all)
	for i := 0; i+len(wp) <= len(ap); i++ {
		if slices.Equal(ap[i:i+len(wp)], wp) {
			var b strings.Builder
			for _, s := range all[i : i+len(wp)] {
				b.WriteString(s.text)
			}
			return b.String(), i, nil
		}
	}
	return "", 0, fmt.Errorf("the walkthrough script has no run of lines %q", wp)
}

// checkREADME compares every sandbox transcript of README.md with the same
// lines of transcript (approval ids normalised to a-XXXXX).
func checkREADME(t *testing.T, transcript string, update bool) {
	t.Helper()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	blocks := transcriptBlocks(lines)
	if len(blocks) == 0 {
		t.Fatal("README.md shows no sandbox transcript (a code block starting with a prompt like alice@day2>)")
	}
	all := splitSteps(transcript)
	// Replace from the last block up, so earlier line indexes stay valid.
	for bi := len(blocks) - 1; bi >= 0; bi-- {
		b := blocks[bi]
		body := approvalIDs.ReplaceAllString(b.body, "a-XXXXX")
		want, at, err := excerpt(all, splitSteps(body))
		if err != nil {
			t.Errorf("README.md line %d: %v", b.start+1, err)
			continue
		}
		if bi == 0 && at != 0 {
			t.Errorf("README.md line %d: the first transcript starts at %q, but the sandbox starts at %q", b.start+1, all[at].prompt, all[0].prompt)
		}
		if update {
			gen := strings.ReplaceAll(want, "a-XXXXX", readmeApprovalID)
			lines = slices.Replace(lines, b.start, b.end, strings.Split(strings.TrimSuffix(gen, "\n"), "\n")...)
			continue
		}
		if body != want {
			t.Errorf("README.md line %d: the transcript is not what the sandbox prints (go test ./cmd/day2bot -run TestSandboxScript -update-sandbox rewrites it).\nREADME:\n%s\nsandbox:\n%s", b.start+1, body, want)
		}
	}
	if update {
		if err := os.WriteFile(readmePath, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestREADMEExcerpt(t *testing.T) {
	transcript := "alice@day2> as bob\nbob@day2> pending\n[only bob]\n  nothing\nbob@day2> as carol\ncarol@day2> help\n[only carol]\n  h\n"
	all := splitSteps(transcript)
	if len(all) != 4 {
		t.Fatalf("steps = %d, want 4: %q", len(all), all)
	}
	tests := []struct {
		block, want string
		at          int
		err         bool
	}{
		{"alice@day2> as bob\n", "alice@day2> as bob\n", 0, false},
		{"bob@day2> pending\nwhatever\nbob@day2> as carol\n", "bob@day2> pending\n[only bob]\n  nothing\nbob@day2> as carol\n", 1, false},
		{"carol@day2> help\n", "carol@day2> help\n[only carol]\n  h\n", 3, false},
		{"bob@day2> help\n", "", 0, true},
		{"alice@day2> as bob\ncarol@day2> help\n", "", 0, true}, // not a run of the script
	}
	for _, tt := range tests {
		got, at, err := excerpt(all, splitSteps(tt.block))
		if (err != nil) != tt.err || got != tt.want || at != tt.at {
			t.Errorf("excerpt(%q) = %q, %d, %v; want %q, %d, error %v", tt.block, got, at, err, tt.want, tt.at, tt.err)
		}
	}
	readme := []string{"text", "```", "alice@day2> as bob", "```", "```sh", "go run .", "```", "```", "no prompt", "```"}
	blocks := transcriptBlocks(readme)
	if len(blocks) != 1 || blocks[0].start != 2 || blocks[0].end != 3 || blocks[0].body != "alice@day2> as bob\n" {
		t.Fatalf("transcriptBlocks = %+v", blocks)
	}
}
