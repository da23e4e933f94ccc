package demo

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// vt is the little of a terminal the demo's output needs: printable text
// wrapped at cols, carriage return, newline, erase to the end of the line
// (ESC[K) and colours (ESC[...m, ignored). Other control sequences fail
// the test, so a new kind of drawing cannot slip past it. It keeps every
// line (the scrollback); the visible screen is the last rows of it.
type vt struct {
	t     *testing.T
	cols  int
	lines [][]rune
	row   int
	col   int
	wraps int // lines the terminal had to wrap
	esc   []byte
	utf   []byte
}

func newVT(t *testing.T, cols int) *vt { return &vt{t: t, cols: cols, lines: [][]rune{nil}} }

func (v *vt) Write(p []byte) (int, error) {
	for _, b := range p {
		v.byte(b)
	}
	return len(p), nil
}

func (v *vt) byte(b byte) {
	if v.esc != nil {
		v.esc = append(v.esc, b)
		if len(v.esc) == 2 && b != '[' {
			v.t.Errorf("terminal: unsupported escape ESC %q", b)
			v.esc = nil
			return
		}
		if len(v.esc) > 2 && b >= 0x40 && b <= 0x7e {
			v.csi(string(v.esc[2:len(v.esc)-1]), b)
			v.esc = nil
		}
		return
	}
	if len(v.utf) > 0 || b >= 0x80 {
		v.utf = append(v.utf, b)
		if utf8.FullRune(v.utf) {
			r, _ := utf8.DecodeRune(v.utf)
			v.utf = v.utf[:0]
			v.put(r)
		}
		return
	}
	switch b {
	case 0x1b:
		v.esc = []byte{b}
	case '\r':
		v.col = 0
	case '\n':
		v.newline()
	case '\t':
		for v.col%8 != 7 {
			v.put(' ')
		}
		v.put(' ')
	default:
		if b < 0x20 {
			v.t.Errorf("terminal: control character %#x", b)
			return
		}
		v.put(rune(b))
	}
}

func (v *vt) csi(params string, final byte) {
	switch final {
	case 'm': // colours
	case 'K':
		if params != "" && params != "0" {
			v.t.Errorf("terminal: erase ESC[%sK", params)
		}
		line := v.lines[v.row]
		if v.col < len(line) {
			v.lines[v.row] = line[:v.col]
		}
	default:
		v.t.Errorf("terminal: unsupported sequence ESC[%s%c", params, final)
	}
}

func (v *vt) newline() {
	v.row++
	if v.row == len(v.lines) {
		v.lines = append(v.lines, nil)
	}
}

func (v *vt) put(r rune) {
	if v.col == v.cols {
		v.wraps++
		v.newline()
		v.col = 0
	}
	line := v.lines[v.row]
	for len(line) < v.col {
		line = append(line, ' ')
	}
	if v.col < len(line) {
		line[v.col] = r
	} else {
		line = append(line, r)
	}
	v.lines[v.row] = line
	v.col++
}

// screen is what a terminal of rows lines shows at the end: the last rows
// lines up to the cursor's.
func (v *vt) screen(rows int) []string {
	from := max(0, v.row+1-rows)
	var out []string
	for _, l := range v.lines[from : v.row+1] {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	return out
}

// scrollback is every line, oldest first.
func (v *vt) scrollback() string {
	var b strings.Builder
	for _, l := range v.lines {
		b.WriteString(strings.TrimRight(string(l), " ") + "\n")
	}
	return b.String()
}

// The emulator itself: a live line redrawn in place leaves only its last
// text, colours take no room, and a long line wraps (and is counted).
func TestVTDrawsLikeATerminal(t *testing.T) {
	v := newVT(t, 10)
	v.Write([]byte("abc\r\x1b[Kx\x1b[32m✔\x1b[0m\r\n0123456789AB\r\n"))
	got := v.screen(4)
	want := []string{"x✔", "0123456789", "AB", ""} // the last: the cursor's line
	if strings.Join(got, "|") != strings.Join(want, "|") || v.wraps != 1 {
		t.Errorf("screen %q (wraps %d), want %q", got, v.wraps, want)
	}
}

// A CLI report wider than the terminal is wrapped at spaces, every word
// kept and no line wider than the terminal.
func TestWrapKeepsEveryWordWithinTheWidth(t *testing.T) {
	line := "    name         read    SELECT+DESCRIBE on TABLEs with source=product: source=product (inherited from the database)"
	got := wrap(line, 40)
	for _, l := range got {
		if utf8.RuneCountInString(l) > 40 {
			t.Errorf("%q is wider than 40", l)
		}
	}
	if strings.Join(strings.Fields(strings.Join(got, " ")), " ") != strings.Join(strings.Fields(line), " ") || len(got) < 3 {
		t.Errorf("wrap lost or kept whole a word: %q", got)
	}
	if short := wrap("short", 40); len(short) != 1 || short[0] != "short" {
		t.Errorf("a short line changed: %q", short)
	}
}
