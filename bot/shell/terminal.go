package shell

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Terminal is the interactive side of a session: golang.org/x/term's line
// editor (arrow keys, Home/End, Ctrl-A/E/K/U/W, Up and Down through the
// history) on a terminal in raw mode. Messages written to it while a line is
// being typed appear above the prompt, which is drawn again below them.
type Terminal struct {
	t       *term.Terminal
	out     io.Writer
	restore func() error
}

// OpenTerminal puts in (a terminal) into raw mode and edits lines on it,
// echoing to out. Close restores the terminal.
func OpenTerminal(in *os.File, out io.Writer) (*Terminal, error) {
	fd := int(in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("set terminal to raw mode: %w", err)
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, "")
	if w, h, err := term.GetSize(fd); err == nil && w > 0 {
		_ = t.SetSize(w, h)
	}
	return &Terminal{t: t, out: out, restore: func() error { return term.Restore(fd, old) }}, nil
}

// Write prints p above the line being typed ("\n" becomes "\r\n", as raw
// mode needs).
func (t *Terminal) Write(p []byte) (int, error) { return t.t.Write(p) }

// Close restores the terminal's mode.
func (t *Terminal) Close() error { return t.restore() }

// readLine shows prompt and returns the line typed. Ctrl-D on an empty line
// (and Ctrl-C, which raw mode delivers as a key) end the input: io.EOF,
// after moving to a new line so the shell's next prompt starts on its own.
func (t *Terminal) readLine(prompt string) (string, error) {
	t.t.SetPrompt(prompt)
	line, err := t.t.ReadLine()
	if err == io.EOF {
		_, _ = io.WriteString(t.out, "\r\n")
	}
	return line, err
}

// setCompleter has Tab complete the word before the cursor.
func (t *Terminal) setCompleter(candidates func(prefix string) []string) {
	t.t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != '\t' {
			return "", 0, false
		}
		prefix, list := completeWord(line[:pos], candidates(line[:pos]))
		if len(list) > 0 {
			// Ambiguous: show the choices above the prompt.
			_, _ = t.t.Write([]byte("  " + strings.Join(list, "  ") + "\n"))
		}
		return prefix + line[pos:], len(prefix), true
	}
}

// completeWord completes the last word of prefix from cands, each a whole
// command so far as the engine's Complete returns them ("shop restart-web").
// It returns the new prefix: the word completed as far as all candidates
// agree, followed by a space when only one is left and it takes no value;
// and, when the candidates agree no further than what was typed, the words
// to choose from.
func completeWord(prefix string, cands []string) (string, []string) {
	if len(cands) == 0 {
		return prefix, nil
	}
	cur := prefix[strings.LastIndexAny(prefix, " \t")+1:]
	words := make([]string, 0, len(cands))
	for _, c := range cands {
		words = append(words, c[strings.LastIndex(c, " ")+1:])
	}
	common := words[0]
	for _, w := range words[1:] {
		n := 0
		for n < len(common) && n < len(w) && common[n] == w[n] {
			n++
		}
		common = common[:n]
	}
	head := prefix[:len(prefix)-len(cur)]
	if len(words) == 1 {
		if !strings.HasSuffix(common, "=") {
			common += " "
		}
		return head + common, nil
	}
	if len(common) > len(cur) {
		return head + common, nil
	}
	return prefix, words
}
