// Command mkcapture writes a pcap of n datagrams by looping the UDP frames of
// one or more captures, so that sflowtool and flowrt decode can be timed on
// the same, large input. Timestamps advance 1 µs a frame from the first
// frame's time so that pcapTimestamp stays printable and increasing.
//
//	go run ./decode-vs-sflowtool/mkcapture.go -n 40000 -o /tmp/big.pcap a.pcap [b.pcap …]
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
)

type frame struct {
	data    []byte
	origLen uint32
}

func main() {
	n := flag.Int("n", 40000, "datagrams to write")
	out := flag.String("o", "", "output pcap")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkcapture -n N -o out.pcap in.pcap…")
		os.Exit(2)
	}
	var frames []frame
	var start time.Time
	for _, name := range flag.Args() {
		fs, t0, err := read(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkcapture:", err)
			os.Exit(1)
		}
		if start.IsZero() {
			start = t0
		}
		frames = append(frames, fs...)
	}
	if len(frames) == 0 {
		fmt.Fprintln(os.Stderr, "mkcapture: no Ethernet UDP frame in the inputs")
		os.Exit(1)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkcapture:", err)
		os.Exit(1)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := pcap.NewWriter(bw, pcap.LinkEthernet, 65536)
	if err == nil {
		for i := 0; i < *n && err == nil; i++ {
			fr := frames[i%len(frames)]
			err = w.WritePacket(start.Add(time.Duration(i)*time.Microsecond), fr.origLen, fr.data)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkcapture: writing", *out+":", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mkcapture: %s: %d datagrams, looping %d frames\n", *out, *n, len(frames))
}

// read returns the Ethernet frames of a capture that carry UDP (the only
// link type the output can hold), and the time of its first frame.
func read(name string) ([]frame, time.Time, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	var out []frame
	var t0 time.Time
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, t0, nil
		}
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%s: %w", name, err)
		}
		if t0.IsZero() {
			t0 = p.Time
		}
		if _, ok := pcap.DecodeUDP(p.LinkType, p.Data); !ok || p.LinkType != pcap.LinkEthernet {
			continue
		}
		out = append(out, frame{data: append([]byte(nil), p.Data...), origLen: p.OrigLen})
	}
}
