package api

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Certificate is the server's TLS certificate and key from two PEM files
// (http.tls.cert, http.tls.key), read again when either changes (looked
// at once a second at most, at a handshake) or on Reload (SIGHUP): a
// renewed certificate is served without a restart, and one that cannot
// be read leaves the previous one in use.
type Certificate struct {
	cert, key string
	log       *slog.Logger

	mu      sync.Mutex
	cur     *tls.Certificate
	stamps  [2]fileStamp
	checked time.Time
}

// LoadCertificate reads the pair; an error says which file and why.
func LoadCertificate(cert, key string, log *slog.Logger) (*Certificate, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &Certificate{cert: cert, key: key, log: log}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again.
func (c *Certificate) Reload() error {
	cs, err := stampOf(c.cert)
	if err != nil {
		return fmt.Errorf("http.tls.cert: %w", err)
	}
	ks, err := stampOf(c.key)
	if err != nil {
		return fmt.Errorf("http.tls.key: %w", err)
	}
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("http.tls.cert %s and http.tls.key %s: %w", c.cert, c.key, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("http.tls.cert %s: %w", c.cert, err)
	}
	pair.Leaf = leaf
	if time.Now().After(leaf.NotAfter) {
		c.log.Warn("the TLS certificate has expired: clients will refuse it", "file", c.cert, "not_after", leaf.NotAfter)
	}
	c.mu.Lock()
	c.cur, c.stamps, c.checked = &pair, [2]fileStamp{cs, ks}, time.Now()
	c.mu.Unlock()
	c.log.Info("TLS certificate", "file", c.cert, "subject", leaf.Subject.String(), "names", leaf.DNSNames,
		"addresses", fmt.Sprint(leaf.IPAddresses), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "serial", leaf.SerialNumber.String())
	return nil
}

// GetCertificate is the tls.Config hook.
func (c *Certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	check := time.Since(c.checked) >= time.Second
	if check {
		c.checked = time.Now()
	}
	old := c.stamps
	c.mu.Unlock()
	if check {
		cs, err1 := stampOf(c.cert)
		ks, err2 := stampOf(c.key)
		if err1 == nil && err2 == nil && (!cs.same(old[0]) || !ks.same(old[1])) {
			if err := c.Reload(); err != nil {
				c.log.Error("the TLS certificate changed and cannot be read: the previous one is served", "err", err)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur, nil
}

// Config is a server tls.Config serving this certificate: TLS 1.2 or
// later, HTTP/2 and HTTP/1.1.
func (c *Certificate) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate, NextProtos: []string{"h2", "http/1.1"}}
}
