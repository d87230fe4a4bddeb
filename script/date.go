package script

import (
	"strconv"
	"strings"
	"time"
)

// formatDate formats like Java's SimpleDateFormat, which sFlow-RT's
// formatDate(date, pattern) uses: letters repeat to set the width or form
// (yyyy/yy, MMMM/MMM/MM/M, dd, HH, hh, mm, ss, SSS, a, EEEE/EEE, z, Z, X),
// text in single quotes is literal, ” is a quote. Language and country
// arguments are accepted; names are English.
func formatDate(t time.Time, pattern string) string {
	var b strings.Builder
	num := func(v, width int) {
		s := strconv.Itoa(v)
		for i := len(s); i < width; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			// Quoted text, in which '' is a quote.
			for i++; i < len(pattern); i++ {
				if pattern[i] == '\'' {
					if i+1 < len(pattern) && pattern[i+1] == '\'' {
						i++
					} else {
						i++
						break
					}
				}
				b.WriteByte(pattern[i])
			}
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		i += n
		switch c {
		case 'y':
			if n == 2 {
				num(t.Year()%100, 2)
			} else {
				num(t.Year(), n)
			}
		case 'M':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				num(int(t.Month()), n)
			}
		case 'd':
			num(t.Day(), n)
		case 'D':
			num(t.YearDay(), n)
		case 'H':
			num(t.Hour(), n)
		case 'k':
			num((t.Hour()+23)%24+1, n)
		case 'h':
			num((t.Hour()+11)%12+1, n)
		case 'K':
			num(t.Hour()%12, n)
		case 'm':
			num(t.Minute(), n)
		case 's':
			num(t.Second(), n)
		case 'S':
			num(t.Nanosecond()/1e6, n)
		case 'a':
			b.WriteString(t.Format("PM"))
		case 'E':
			if n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'u':
			num((int(t.Weekday())+6)%7+1, n)
		case 'z':
			b.WriteString(t.Format("MST"))
		case 'Z':
			b.WriteString(t.Format("-0700"))
		case 'X':
			switch n {
			case 1:
				b.WriteString(t.Format("Z07"))
			case 2:
				b.WriteString(t.Format("Z0700"))
			default:
				b.WriteString(t.Format("Z07:00"))
			}
		default:
			b.WriteString(strings.Repeat(string(c), n))
		}
	}
	return b.String()
}
