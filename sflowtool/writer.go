// Package sflowtool writes decoded sFlow in the output formats of InMon's
// sflowtool, field for field, so that the scripts and habits of sflowtool
// users carry over: the startDatagram…endDatagram text (default), grep-able
// lines (-g), JSON (-J, -j), chosen fields as CSV (-L), the FLOW/CNTR line
// format (-l) and a libpcap stream of the sampled headers (-t).
//
// The decoder walks each datagram once and reports every field as a
// (name, value) event; each format is a different sink for those events,
// as in sflowtool itself. Where sflowtool's output is wrong (JSON strings it
// does not escape), flowrt writes the correct form; the differences are
// listed in docs/decode.md.
package sflowtool

import (
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
	"github.com/flowrt/flowrt/sflow"
)

// Mode is an output format.
type Mode int

const (
	Text       Mode = iota // default startDatagram … endDatagram text
	Grep                   // -g: one line per field with its context
	JSON                   // -J: indented JSON, a blank line between datagrams
	JSONLines              // -j: one JSON object per line
	Line                   // -l: FLOW and CNTR CSV lines
	CustomLine             // -L: chosen fields as CSV, one line per sample
	Pcap                   // -t: libpcap stream of the sampled headers
)

// Options tune a Writer.
type Options struct {
	Fields   []string       // CustomLine: the fields to print, in order
	Location *time.Location // time zone of printed times (default time.Local)
	Stderr   io.Writer      // where decode problems are reported (default discard)
	// Batch holds output until 512 KiB have gathered, in every format. Set
	// it when the input is a file: by default the stream formats (-j, -l,
	// -L, -t) go out datagram by datagram, for a program reading the pipe.
	Batch bool
}

// Writer turns datagrams into one of sflowtool's output formats.
type Writer struct {
	// Output is appended to buf and written to dst at the end of a
	// datagram, when flushAt bytes have gathered (or at once, for a stream). A
	// plain slice rather than a bufio.Writer: each field is a few appends,
	// with no call or bounds bookkeeping per byte.
	dst    io.Writer
	buf    []byte
	err    error // the first write error; later writes are dropped
	batch  bool
	quiet  bool // the mode prints no fields
	direct bool // values can be formatted straight into buf (openField)
	mode   Mode
	loc    *time.Location
	errw   io.Writer
	pcapw  *pcap.Writer

	d       sflow.Datagram
	cache   sflow.RecordCache
	scratch []byte

	// Field names are printed after the prefixes in effect ("tunnel_ipv4_in_",
	// "adaptor_0_"…), kept as one byte string: pfx, with marks where each
	// pushed prefix starts.
	pfx   []byte
	marks []int
	key   []byte // -L: prefix + name, to look up without allocating
	name  []byte // a name built for one field (fieldNumbered)
	num   []byte // a value formatted for fieldNumbered

	// context
	ctx     context
	smp     sampleState
	ctxTime time.Time
	// -g: the context prefix of the last field, reused while the context
	// does not change (formatting the time for every line was most of -g).
	ctxLine  []byte
	ctxShown context
	ctxFresh bool

	// JSON state, as sflowtool keeps it
	jsonStart, listStart bool
	depth                int

	// CustomLine state
	plans0 [2][1 << 12]*recordPlan // enterprise 0 flow, counter records by format
	plans  map[planKey]*recordPlan // other enterprises

	fields map[string]int
	// what the chosen fields' names are made of, for maybeChosen
	chosenLen, chosenFirst, chosenLast byteSet
	values                             [][]byte
	scopes                             []bool // true: sample scope
	sampleScope                        bool
	sampleHits                         int
}

// context is what -g prints before every field.
type context struct {
	agent      netip.Addr
	subAgent   uint32
	sequence   uint32
	dsClass    uint32
	dsIndex    uint32
	sampleType sflow.DataFormat
	element    sflow.DataFormat
}

// NewWriter returns a Writer of the given mode writing to w. Call Flush when
// done (the Writer buffers; it flushes after every datagram when the mode is
// a stream for another program: pcap and line formats).
func NewWriter(w io.Writer, mode Mode, opts Options) (*Writer, error) {
	wr := &Writer{
		dst:   w,
		buf:   make([]byte, 0, flushAt+64<<10),
		batch: opts.Batch,
		mode:  mode,
		loc:   opts.Location,
		errw:  opts.Stderr,
		plans: map[planKey]*recordPlan{},
		quiet: mode == Line || mode == Pcap,
	}
	wr.direct = mode == Text || mode == Grep || mode == JSON || mode == JSONLines
	if wr.loc == nil {
		wr.loc = time.Local
	}
	if wr.errw == nil {
		wr.errw = io.Discard
	}
	if mode == CustomLine {
		wr.fields = map[string]int{}
		for i, f := range opts.Fields {
			wr.fields[f] = i
			if f == "" || len(f) > 255 {
				continue // never matched by a field (or, if longer, always looked up)
			}
			wr.chosenLen.add(byte(len(f)))
			wr.chosenFirst.add(f[0])
			wr.chosenLast.add(f[len(f)-1])
		}
		wr.values = make([][]byte, len(opts.Fields))
		wr.scopes = make([]bool, len(opts.Fields))
	}
	if mode == Pcap {
		var err error
		if wr.pcapw, err = pcap.NewWriter((*appender)(wr), pcap.LinkEthernet, 65536); err != nil {
			return nil, err
		}
		if err := wr.Flush(); err != nil {
			return nil, err
		}
	}
	return wr, nil
}

// Flush writes out any buffered output.
func (w *Writer) Flush() error {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.dst.Write(w.buf)
	}
	w.buf = w.buf[:0]
	return w.err
}

// fieldAddr and fieldMAC print an address.
func (w *Writer) fieldAddr(name string, a netip.Addr) {
	switch {
	case w.direct && w.openField(name):
		w.buf = appendAddr(w.buf, a)
		w.closeField()
	case !w.unseen(name):
		w.scratch = appendAddr(w.scratch[:0], a)
		w.field(name, w.scratch)
	}
}

func (w *Writer) fieldMAC(name string, m sflow.MAC) {
	switch {
	case w.direct && w.openField(name):
		w.buf = m.AppendHex(w.buf)
		w.closeField()
	case !w.unseen(name):
		w.scratch = m.AppendHex(w.scratch[:0])
		w.field(name, w.scratch)
	}
}

// flushAt is how much output gathers before it is written: large writes
// keep the system's share of a big decode small.
const flushAt = 512 << 10

// appender lets pcap.Writer write into the Writer's buffer.
type appender Writer

func (a *appender) Write(b []byte) (int, error) {
	a.buf = append(a.buf, b...)
	return len(b), nil
}

func (w *Writer) textual() bool { return w.mode == Text || w.mode == Grep }

// line prints one of sflowtool's free-form lines (startSample, skipping…),
// which only the text formats show.
func (w *Writer) line(s string) { writeLine(w, s) }

func writeLine[S string | []byte](w *Writer, s S) {
	if !w.textual() {
		return
	}
	if w.mode == Grep {
		w.writeContext()
	}
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\n')
}

// skipping prints sflowtool's line for a sample or record it does not know:
// "<what><format> len=<n>".
func (w *Writer) skipping(what string, f sflow.DataFormat, n int) {
	if !w.textual() {
		return
	}
	b := append(w.scratch[:0], what...)
	b = f.AppendText(b)
	b = append(b, " len="...)
	b = strconv.AppendInt(b, int64(n), 10)
	w.scratch = b
	writeLine(w, b)
}

func (w *Writer) writeContext() {
	if !w.ctxFresh || w.ctx != w.ctxShown {
		w.ctxLine = w.appendContext(w.ctxLine[:0])
		w.ctxShown, w.ctxFresh = w.ctx, true
	}
	w.buf = append(w.buf, w.ctxLine...)
}

func (w *Writer) appendContext(b []byte) []byte {
	b = appendTime(b, w.ctxTime, w.loc)
	b = append(b, ' ')
	b = appendAddr(b, w.ctx.agent)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(w.ctx.subAgent), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(w.ctx.sequence), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(w.ctx.dsClass), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(w.ctx.dsIndex), 10)
	b = append(b, ' ')
	b = w.ctx.sampleType.AppendText(b)
	b = append(b, ' ')
	b = w.ctx.element.AppendText(b)
	return append(b, ' ')
}

// field reports one field. name is printed after the current prefixes.
// Values the writer formats (numbers, hex, addresses, fixed words) and the
// names it prints need no JSON escaping; only text from the datagram does,
// and goes through fieldText.
func (w *Writer) field(name string, val []byte) { emit(w, name, val, false) }

func (w *Writer) fieldString(name, val string) { emit(w, name, val, false) }

// fieldText prints a value (and name) that comes from the datagram: a
// string an agent sent, escaped in JSON.
func fieldText[N string | []byte](w *Writer, name N, val []byte) { emit(w, name, val, true) }

// fieldJoin prints a value made of two strings (prefix + "IPV4").
func (w *Writer) fieldJoin(name, a, b string) {
	w.scratch = append(append(w.scratch[:0], a...), b...)
	emit(w, name, w.scratch, false)
}

// fieldNumbered prints the field name<n> ("MAC_0", "decodedVLAN.1").
func (w *Writer) fieldNumbered(name string, n int, val []byte) {
	w.name = strconv.AppendInt(append(w.name[:0], name...), int64(n), 10)
	emit(w, w.name, val, false)
}

// openField writes what comes before a value in the text and JSON formats
// (the context, prefix and name) and reports true, so that a long value
// can be formatted straight into the output; closeField ends it. For the
// other formats it reports false: format the value and call field.
func (w *Writer) openField(name string) bool {
	switch w.mode {
	case Text, Grep:
		if w.mode == Grep {
			w.writeContext()
		}
		b := w.appendPrefix(w.buf)
		b = append(b, name...)
		w.buf = append(b, ' ')
		return true
	case JSON, JSONLines:
		if !w.listStart {
			w.buf = append(w.buf, ',')
		} else {
			w.listStart = false
		}
		w.indent()
		b := w.appendPrefix(append(w.buf, '"'))
		b = append(b, name...)
		w.buf = append(b, `":"`...)
		return true
	}
	return false
}

// appendPrefix appends the current prefixes, if any: most fields have
// none, and appending an empty one still cost a call (6–8 % of text and
// -j).
func (w *Writer) appendPrefix(b []byte) []byte {
	if len(w.pfx) > 0 {
		b = append(b, w.pfx...)
	}
	return b
}

func (w *Writer) closeField() {
	if w.mode == Text || w.mode == Grep {
		w.buf = append(w.buf, '\n')
	} else {
		w.buf = append(w.buf, '"')
	}
}

// emit is field for a value held as bytes or as a string, so that neither
// is converted (a conversion would allocate).
func emit[N, V string | []byte](w *Writer, name N, val V, esc bool) {
	switch w.mode {
	case Text, Grep:
		if w.mode == Grep {
			w.writeContext()
		}
		b := w.appendPrefix(w.buf)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, val...)
		w.buf = append(b, '\n')
	case JSON, JSONLines:
		if !w.listStart {
			w.buf = append(w.buf, ',')
		} else {
			w.listStart = false
		}
		w.indent()
		b := w.appendPrefix(append(w.buf, '"'))
		if esc {
			b = appendJSON(b, name)
			b = append(b, `":"`...)
			b = appendJSON(b, val)
		} else {
			b = append(b, name...)
			b = append(b, `":"`...)
			b = append(b, val...)
		}
		w.buf = append(b, '"')
	case CustomLine:
		if !maybeChosen(w, name) {
			return
		}
		w.key = append(append(w.key[:0], w.pfx...), name...)
		if i, ok := w.fields[string(w.key)]; ok {
			w.values[i] = append(w.values[i][:0], val...)
			w.scopes[i] = w.sampleScope
			if w.sampleScope {
				w.sampleHits++
			}
		}
	}
}

// maybeChosen is a quick test, before the -L field map is consulted, that
// a field (the current prefix + name) can be one of those chosen: its
// length, first and last bytes must be those of a chosen field. Most are
// not, and the test costs less than hashing the name.
func maybeChosen[N string | []byte](w *Writer, name N) bool {
	n := len(w.pfx) + len(name)
	if n == 0 || n > 255 {
		return true
	}
	first := byte(0)
	if len(w.pfx) > 0 {
		first = w.pfx[0]
	} else {
		first = name[0]
	}
	last := first
	if len(name) > 0 {
		last = name[len(name)-1]
	} else {
		last = w.pfx[len(w.pfx)-1]
	}
	return w.chosenLen.has(byte(n)) && w.chosenFirst.has(first) && w.chosenLast.has(last)
}

// byteSet is a set of byte values.
type byteSet [4]uint64

func (s *byteSet) add(b byte)      { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }

// unseen reports that a field would not be seen: the mode prints no
// fields (-l, -t, which take what they need from the records), or it is
// not among the -L fields. Callers check it before formatting a value.
func (w *Writer) unseen(name string) bool {
	return w.quiet || (w.mode == CustomLine && !maybeChosen(w, name))
}

func (w *Writer) fieldU32(name string, v uint32) {
	if w.unseen(name) {
		return
	}
	if w.direct && w.openField(name) {
		w.buf = appendUint(w.buf, uint64(v))
		w.closeField()
		return
	}
	w.scratch = appendUint(w.scratch[:0], uint64(v))
	w.field(name, w.scratch)
}

// push starts a prefix; more extends it; pop ends the last one.
func (w *Writer) push(p string) {
	w.marks = append(w.marks, len(w.pfx))
	w.pfx = append(w.pfx, p...)
}

func (w *Writer) more(p string) { w.pfx = append(w.pfx, p...) }

func (w *Writer) pop() {
	n := len(w.marks) - 1
	w.pfx, w.marks = w.pfx[:w.marks[n]], w.marks[:n]
}

// JSON structure, following sflowtool's json_start/json_end exactly so that
// -J output is laid out as sflowtool lays it out.
func (w *Writer) indent() {
	if w.mode == JSON {
		w.buf = append(w.buf, '\n')
		for range w.depth {
			w.buf = append(w.buf, ' ')
		}
	}
}

func (w *Writer) jsonOpen(name string, bracket byte) {
	if w.mode != JSON && w.mode != JSONLines {
		return
	}
	if w.jsonStart {
		w.jsonStart = false
	} else if !w.listStart {
		w.buf = append(w.buf, ',')
		w.indent()
	}
	if name != "" {
		w.buf = append(w.buf, '"')
		w.buf = append(w.buf, name...)
		w.buf = append(w.buf, `":`...)
	}
	w.buf = append(w.buf, bracket)
	w.depth++
	w.listStart = true
}

func (w *Writer) jsonClose(bracket byte) {
	if w.mode != JSON && w.mode != JSONLines {
		return
	}
	w.depth--
	w.indent()
	w.buf = append(w.buf, bracket)
	w.listStart = false
}

// appendJSON appends s with the characters JSON requires escaped escaped.
// Nearly nothing needs escaping, so s is scanned eight bytes at a time and
// clean runs are copied whole.
func appendJSON[S string | []byte](b []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && jsonClean8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
			continue
		}
		c := s[i]
		i++
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i-1]...)
		start = i
		if c == '"' || c == '\\' {
			b = append(b, '\\', c)
			continue
		}
		const hex = "0123456789abcdef"
		b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
	}
	return append(b, s[start:]...)
}

// jsonClean8 reports whether none of the eight bytes of x is a control
// character, '"' or '\\' (the classic has-less / has-zero bit tricks; a
// false "not clean" only sends the bytes to the byte-by-byte path).
func jsonClean8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - lo*0x20) & ^x & hi
	q := x ^ (lo * '"')
	bs := x ^ (lo * '\\')
	return (ctl | (q-lo)&^q&hi | (bs-lo)&^bs&hi) == 0
}

// appendTime formats t as sflowtool does (strftime "%Y-%m-%dT%H:%M:%S%z").
func appendTime(b []byte, t time.Time, loc *time.Location) []byte {
	return t.In(loc).AppendFormat(b, "2006-01-02T15:04:05-0700")
}

// appendAddr formats an address as sflowtool does: dotted IPv4, IPv6 as eight
// zero-padded groups, "-" when there is none.
func appendAddr(b []byte, a netip.Addr) []byte {
	switch {
	case !a.IsValid():
		return append(b, '-')
	case a.Is4():
		return a.AppendTo(b)
	}
	const hex = "0123456789abcdef"
	v := a.As16()
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[v[i]>>4], hex[v[i]&15], hex[v[i+1]>>4], hex[v[i+1]&15])
	}
	return b
}
