package sflowtool

import (
	"encoding/hex"
	"math/bits"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/flowrt/flowrt/sflow"
)

// A recordPlan is how one record type is printed: its fixed label and its
// tagged fields in order, each with the name, the way to format it and
// where it sits in the structure. Plans are built from the struct tags the
// first time a record type is seen, so that printing a record reads no tag
// and builds no name (reflection per field was most of the writer's time).
type recordPlan struct {
	label    [2]string // "extendedType", "SWITCH"…; label[0] == "": none
	fields   []planField
	typ      reflect.Type
	hasLabel bool
}

type planKey struct {
	counter bool
	format  sflow.DataFormat
}

type planField struct {
	name      string
	off       uintptr
	kind      fieldKind
	nonempty  bool // []byte: print nothing when empty
	urlencode bool
}

type fieldKind uint8

const (
	kindNone      fieldKind = iota // a type the writer does not format: the name with an empty value
	kindMore                       // xdr:"more": the fields after it are present only when true
	kindU32                        // decimal
	kindU64                        // decimal
	kindI32                        // decimal
	kindBytes                      // a C string (cut at NUL), or URL-encoded
	kindMAC                        // 001122334455
	kindAddr                       // as appendAddr
	kindPct                        // uint32 hundredths of a percent, 0xFFFFFFFF unknown
	kindFloat32                    // %.3f
	kindFloat64                    // %.3f
	kindHex16U64                   // 16 zero-padded hex digits
	kindHex16U32                   // 16 zero-padded hex digits
	kindUUID                       // 8-4-4-4-12 hex
	kindAppStatus                  // OK, OTHER…
	kindDirection                  // unknown, received, sent
	kindLACP                       // four fields of its own
)

// plan returns the plan for the record value v (a pointer to the
// structure RecordCache decoded into) of format f.
func (w *Writer) plan(f sflow.DataFormat, counter bool, v any) *recordPlan {
	t := reflect.TypeOf(v).Elem()
	var p *recordPlan
	if f.Enterprise() == 0 {
		c := 0
		if counter {
			c = 1
		}
		slot := &w.plans0[c][f.Format()]
		if p = *slot; p == nil || p.typ != t { // the offsets are only valid for that type
			p = newPlan(t, f, counter)
			*slot = p
		}
		return p
	}
	k := planKey{counter, f}
	if p = w.plans[k]; p == nil || p.typ != t {
		p = newPlan(t, f, counter)
		w.plans[k] = p
	}
	return p
}

func newPlan(t reflect.Type, f sflow.DataFormat, counter bool) *recordPlan {
	p := buildPlan(t)
	if l, ok := labels[f]; ok && !counter {
		p.label, p.hasLabel = l, true
	}
	return p
}

func buildPlan(t reflect.Type) *recordPlan {
	p := &recordPlan{typ: t}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Tag.Get("xdr") == "more" && sf.Type.Kind() == reflect.Bool {
			p.fields = append(p.fields, planField{off: sf.Offset, kind: kindMore})
			continue
		}
		tag := sf.Tag.Get("sflowtool")
		if tag == "" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		has := func(o string) bool { return strings.Contains(","+opts+",", ","+o+",") }
		pf := planField{name: name, off: sf.Offset, nonempty: has("nonempty"), urlencode: has("urlencode")}
		k := sf.Type.Kind()
		switch {
		case has("pct") && k == reflect.Uint32:
			pf.kind = kindPct
		case has("float") && k == reflect.Float32:
			pf.kind = kindFloat32
		case has("float") && k == reflect.Float64:
			pf.kind = kindFloat64
		case has("hex16") && k == reflect.Uint64:
			pf.kind = kindHex16U64
		case has("hex16") && k == reflect.Uint32:
			pf.kind = kindHex16U32
		case has("uuid") && sf.Type == reflect.TypeFor[[16]byte]():
			pf.kind = kindUUID
		case has("appstatus") && k == reflect.Uint32:
			pf.kind = kindAppStatus
		case has("direction") && k == reflect.Uint32:
			pf.kind = kindDirection
		case has("lacpstate") && sf.Type == reflect.TypeFor[[4]byte]():
			pf.kind = kindLACP
		case sf.Type == reflect.TypeFor[uint32]():
			pf.kind = kindU32
		case sf.Type == reflect.TypeFor[uint64]():
			pf.kind = kindU64
		case sf.Type == reflect.TypeFor[int32]():
			pf.kind = kindI32
		case sf.Type == reflect.TypeFor[[]byte]():
			pf.kind = kindBytes
		case sf.Type == reflect.TypeFor[sflow.MAC]():
			pf.kind = kindMAC
		case sf.Type == reflect.TypeFor[netip.Addr]():
			pf.kind = kindAddr
		}
		p.fields = append(p.fields, pf)
	}
	return p
}

// print writes the fields of the record at ptr as the plan says. In the
// text and JSON formats a value the writer formats itself goes straight
// into the output; agent text (escaped in JSON) and -L values go through
// the scratch buffer.
func (w *Writer) print(p *recordPlan, ptr unsafe.Pointer) {
	if p.hasLabel {
		w.fieldString(p.label[0], p.label[1])
	}
	for i := range p.fields {
		pf := &p.fields[i]
		at := unsafe.Add(ptr, pf.off)
		switch pf.kind {
		case kindMore:
			if !*(*bool)(at) {
				return
			}
			continue
		case kindLACP:
			st := (*[4]byte)(at)
			w.fieldU32("actorAdminPortState", uint32(st[0]))
			w.fieldU32("actorOperPortState", uint32(st[1]))
			w.fieldU32("partnerAdminPortState", uint32(st[2]))
			w.fieldU32("partnerOperPortState", uint32(st[3]))
			continue
		case kindBytes:
			if pf.nonempty && len(*(*[]byte)(at)) == 0 {
				continue
			}
			if !pf.urlencode {
				w.scratch = appendCString(w.scratch[:0], *(*[]byte)(at))
				fieldText(w, pf.name, w.scratch)
				continue
			}
		}
		if w.unseen(pf.name) {
			continue
		}
		if w.direct && w.openField(pf.name) {
			w.buf = appendValue(w.buf, pf, at)
			w.closeField()
			continue
		}
		w.scratch = appendValue(w.scratch[:0], pf, at)
		w.field(pf.name, w.scratch)
	}
}

// appendValue formats the field at at (any kind but kindMore and kindLACP).
func appendValue(b []byte, pf *planField, at unsafe.Pointer) []byte {
	switch pf.kind {
	case kindU32:
		b = appendUint(b, uint64(*(*uint32)(at)))
	case kindU64:
		b = appendUint(b, *(*uint64)(at))
	case kindI32:
		b = strconv.AppendInt(b, int64(*(*int32)(at)), 10)
	case kindBytes:
		b = urlEncode(b, *(*[]byte)(at))
	case kindMAC:
		b = (*sflow.MAC)(at).AppendHex(b)
	case kindAddr:
		b = appendAddr(b, *(*netip.Addr)(at))
	case kindPct:
		if x := *(*uint32)(at); x == 0xFFFFFFFF {
			b = append(b, "unknown"...)
		} else {
			b = strconv.AppendFloat(b, float64(float32(x)/100), 'f', 2, 32)
		}
	case kindFloat32:
		b = strconv.AppendFloat(b, float64(*(*float32)(at)), 'f', 3, 64)
	case kindFloat64:
		b = strconv.AppendFloat(b, *(*float64)(at), 'f', 3, 64)
	case kindHex16U64:
		b = appendHexPad(b, *(*uint64)(at), 16)
	case kindHex16U32:
		b = appendHexPad(b, uint64(*(*uint32)(at)), 16)
	case kindUUID:
		u := (*[16]byte)(at)
		b = hex.AppendEncode(b, u[:4])
		b = append(b, '-')
		b = hex.AppendEncode(b, u[4:6])
		b = append(b, '-')
		b = hex.AppendEncode(b, u[6:8])
		b = append(b, '-')
		b = hex.AppendEncode(b, u[8:10])
		b = append(b, '-')
		b = hex.AppendEncode(b, u[10:])
	case kindAppStatus:
		b = appendAppStatus(b, *(*uint32)(at))
	case kindDirection:
		switch *(*uint32)(at) {
		case 0:
			b = append(b, "unknown"...)
		case 1:
			b = append(b, "received"...)
		case 2:
			b = append(b, "sent"...)
		default:
			b = append(b, "<bad value>"...)
		}
	}
	return b
}

// appendUint is strconv.AppendUint(b, v, 10) written in place: the
// digits go straight into b, two at a time from a table, where strconv
// formats into a buffer of its own and copies (a seventh of -j's and
// text's CPU went to formatting numbers).
func appendUint(b []byte, v uint64) []byte {
	if v < 10 {
		return append(b, byte('0'+v))
	}
	n := decimalLen(v)
	b = slices.Grow(b, n)
	b = b[:len(b)+n]
	i := len(b)
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	if v >= 10 {
		b[i-2], b[i-1] = digitPairs[v*2], digitPairs[v*2+1]
	} else {
		b[i-1] = byte('0' + v)
	}
	return b
}

const digitPairs = "0001020304050607080910111213141516171819" +
	"2021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859" +
	"6061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// decimalLen is the number of decimal digits of v (v ≥ 1).
func decimalLen(v uint64) int {
	n := (bits.Len64(v)*1233)>>12 + 1 // log10 from log2, at most one too many
	if v < pow10[n-1] {
		n--
	}
	return n
}

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}
