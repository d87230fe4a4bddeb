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
	"bufio"
	"io"
	"net/netip"
	"strconv"
	"strings"
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
}

// Writer turns datagrams into one of sflowtool's output formats.
type Writer struct {
	out   *bufio.Writer
	mode  Mode
	loc   *time.Location
	errw  io.Writer
	pcapw *pcap.Writer

	d       sflow.Datagram
	cache   sflow.RecordCache
	scratch []byte
	ctxBuf  []byte

	// context
	prefix  []string
	ctx     context
	smp     sampleState
	ctxTime time.Time

	// JSON state, as sflowtool keeps it
	jsonStart, listStart bool
	depth                int

	// CustomLine state
	fields      map[string]int
	values      [][]byte
	scopes      []bool // true: sample scope
	sampleScope bool
	sampleHits  int
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
		out:  bufio.NewWriterSize(w, 64<<10),
		mode: mode,
		loc:  opts.Location,
		errw: opts.Stderr,
	}
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
		}
		wr.values = make([][]byte, len(opts.Fields))
		wr.scopes = make([]bool, len(opts.Fields))
	}
	if mode == Pcap {
		var err error
		if wr.pcapw, err = pcap.NewWriter(wr.out, pcap.LinkEthernet, 65536); err != nil {
			return nil, err
		}
		if err := wr.out.Flush(); err != nil {
			return nil, err
		}
	}
	return wr, nil
}

// Flush writes out any buffered output.
func (w *Writer) Flush() error { return w.out.Flush() }

func (w *Writer) textual() bool { return w.mode == Text || w.mode == Grep }

// line prints one of sflowtool's free-form lines (startSample, skipping…),
// which only the text formats show.
func (w *Writer) line(s string) {
	if !w.textual() {
		return
	}
	if w.mode == Grep {
		w.writeContext()
	}
	w.out.WriteString(s)
	w.out.WriteByte('\n')
}

func (w *Writer) writeContext() {
	b := w.ctxBuf[:0]
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
	b = append(b, ' ')
	w.out.Write(b)
	w.ctxBuf = b
}

// field reports one field. name is printed after the current prefixes.
func (w *Writer) field(name string, val []byte) {
	switch w.mode {
	case Text, Grep:
		if w.mode == Grep {
			w.writeContext()
		}
		for _, p := range w.prefix {
			w.out.WriteString(p)
		}
		w.out.WriteString(name)
		w.out.WriteByte(' ')
		w.out.Write(val)
		w.out.WriteByte('\n')
	case JSON, JSONLines:
		if !w.listStart {
			w.out.WriteByte(',')
		} else {
			w.listStart = false
		}
		w.indent()
		w.out.WriteByte('"')
		for _, p := range w.prefix {
			writeJSONString(w.out, p)
		}
		writeJSONString(w.out, name)
		w.out.WriteString(`":"`)
		writeJSONString(w.out, string(val))
		w.out.WriteByte('"')
	case CustomLine:
		key := name
		if len(w.prefix) > 0 {
			key = strings.Join(w.prefix, "") + name
		}
		if i, ok := w.fields[key]; ok {
			w.values[i] = append(w.values[i][:0], val...)
			w.scopes[i] = w.sampleScope
			if w.sampleScope {
				w.sampleHits++
			}
		}
	}
}

func (w *Writer) fieldString(name, val string) { w.field(name, []byte(val)) }

func (w *Writer) fieldU32(name string, v uint32) {
	w.scratch = strconv.AppendUint(w.scratch[:0], uint64(v), 10)
	w.field(name, w.scratch)
}

func (w *Writer) push(p string) { w.prefix = append(w.prefix, p) }
func (w *Writer) pop()          { w.prefix = w.prefix[:len(w.prefix)-1] }

// JSON structure, following sflowtool's json_start/json_end exactly so that
// -J output is laid out as sflowtool lays it out.
func (w *Writer) indent() {
	if w.mode == JSON {
		w.out.WriteByte('\n')
		for range w.depth {
			w.out.WriteByte(' ')
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
		w.out.WriteByte(',')
		w.indent()
	}
	if name != "" {
		w.out.WriteByte('"')
		w.out.WriteString(name)
		w.out.WriteString(`":`)
	}
	w.out.WriteByte(bracket)
	w.depth++
	w.listStart = true
}

func (w *Writer) jsonClose(bracket byte) {
	if w.mode != JSON && w.mode != JSONLines {
		return
	}
	w.depth--
	w.indent()
	w.out.WriteByte(bracket)
	w.listStart = false
}

func writeJSONString(out *bufio.Writer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out.WriteByte('\\')
			out.WriteByte(c)
		case c < 0x20:
			const hex = "0123456789abcdef"
			out.WriteString(`\u00`)
			out.WriteByte(hex[c>>4])
			out.WriteByte(hex[c&15])
		default:
			out.WriteByte(c)
		}
	}
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
