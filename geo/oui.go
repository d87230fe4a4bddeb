package geo

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// OUI maps the first three bytes of MAC addresses to vendors.
type OUI struct {
	names map[[3]byte]string
}

// DebianOUI is where Debian's ieee-data package puts the IEEE list.
const DebianOUI = "/usr/share/ieee-data/oui.txt"

// OpenOUI reads an IEEE oui.txt ("00-00-0C   (hex)		Cisco Systems, Inc")
// or a plain "000000<tab>name" list.
func OpenOUI(path string) (*OUI, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("OUI list %s: %w", path, err)
	}
	defer f.Close()
	o, err := ReadOUI(f)
	if err != nil {
		return nil, fmt.Errorf("OUI list %s: %w", path, err)
	}
	return o, nil
}

// ReadOUI parses an OUI list.
func ReadOUI(r io.Reader) (*OUI, error) {
	o := &OUI{names: map[[3]byte]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var prefix, name string
		if i := strings.Index(line, "(hex)"); i > 0 {
			prefix, name = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+5:])
		} else if f := strings.Fields(line); len(f) >= 2 && len(f[0]) == 6 {
			prefix, name = f[0], strings.TrimSpace(line[len(f[0]):])
		} else {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(prefix, "-", ""))
		if err != nil || len(b) != 3 {
			continue
		}
		o.names[[3]byte(b)] = name
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(o.names) == 0 {
		return nil, fmt.Errorf("no OUI entries found")
	}
	return o, nil
}

// Len returns the number of vendors.
func (o *OUI) Len() int { return len(o.names) }

// Lookup returns the vendor of a MAC address given as 12 hex digits.
func (o *OUI) Lookup(mac []byte) (string, bool) {
	if o == nil || len(mac) < 6 {
		return "", false
	}
	var p [3]byte
	if _, err := hex.Decode(p[:], mac[:6]); err != nil {
		return "", false
	}
	name, ok := o.names[p]
	return name, ok
}
