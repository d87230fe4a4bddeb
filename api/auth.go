package api

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what an authenticated client may do.
type Role int

const (
	// ReadOnly clients may GET and HEAD.
	ReadOnly Role = iota + 1
	// ReadWrite clients may also PUT, POST and DELETE.
	ReadWrite
)

func (r Role) String() string {
	if r == ReadWrite {
		return "read-write"
	}
	return "read-only"
}

func parseRole(s string) (Role, error) {
	switch s {
	case "read-only", "ro":
		return ReadOnly, nil
	case "read-write", "rw":
		return ReadWrite, nil
	}
	return 0, fmt.Errorf("role %q is not read-only or read-write", s)
}

// MinTokenLength is the shortest bearer token accepted: a token is a
// password nobody types, so there is no reason for a guessable one.
const MinTokenLength = 16

type user struct {
	hash []byte // bcrypt
	role Role
}

// credentials are the users and tokens of one reading of the file and
// the property.
type credentials struct {
	users  map[string]user
	tokens map[[32]byte]Role // by the SHA-256 of the token: a lookup reveals nothing by its timing
}

// parseCredentials reads lines (or, for the property, comma-separated
// entries) of "user:bcrypt-hash:role" or "token:role"; # starts a comment.
func parseCredentials(c *credentials, text, source string, lines bool) error {
	sep := ","
	if lines {
		sep = "\n"
	}
	var errs []error
	for n, entry := range strings.Split(text, sep) {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		where := fmt.Sprintf("%s entry %d", source, n+1)
		if lines {
			where = fmt.Sprintf("%s:%d", source, n+1)
		}
		if err := c.add(entry); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	return errors.Join(errs...)
}

func (c *credentials) add(entry string) error {
	f := strings.Split(entry, ":")
	role, err := parseRole(f[len(f)-1])
	switch {
	case len(f) < 2 || len(f) > 3:
		return fmt.Errorf("is not user:bcrypt-hash:role nor token:role")
	case err != nil:
		return err
	case len(f) == 2:
		if len(f[0]) < MinTokenLength {
			return fmt.Errorf("a token of %d characters is too short: use at least %d (openssl rand -hex 32)", len(f[0]), MinTokenLength)
		}
		sum := sha256.Sum256([]byte(f[0]))
		if _, dup := c.tokens[sum]; dup {
			return fmt.Errorf("the token is given twice")
		}
		c.tokens[sum] = role
		return nil
	}
	name, hash := f[0], []byte(f[1])
	if name == "" {
		return fmt.Errorf("the user name is empty")
	}
	if _, err := bcrypt.Cost(hash); err != nil {
		return fmt.Errorf("the password of %s is not a bcrypt hash (%v): make one with flowrt passwd %s or htpasswd -nB %s", name, err, name, name)
	}
	if _, dup := c.users[name]; dup {
		return fmt.Errorf("user %s is given twice", name)
	}
	c.users[name] = user{hash: hash, role: role}
	return nil
}

// Auth checks requests against users (HTTP basic authentication, bcrypt
// password hashes) and bearer tokens, from a file (http.auth.file), read
// again when it changes or on SIGHUP, and from the http.auth property.
type Auth struct {
	file, inline string
	log          *slog.Logger
	creds        atomic.Pointer[credentials]

	mu      sync.Mutex
	stamp   fileStamp
	checked time.Time

	// A bcrypt comparison costs tens of milliseconds of CPU on purpose:
	// verified passwords are remembered (by a keyed hash) so that pages
	// polling twice a second cost nothing, and comparisons run one at a
	// time, so that wrong passwords sent in a loop take one core at most.
	cacheKey  [32]byte
	decoy     []byte // a hash checked for unknown users
	cacheMu   sync.Mutex
	cache     map[[32]byte]time.Time
	comparing chan struct{}

	failures   atomic.Int64
	lastLogged atomic.Int64
}

const (
	authCacheFor  = 10 * time.Minute
	authCacheSize = 4096
)

// NewAuth reads the credentials; file and inline may not both be empty.
func NewAuth(file, inline string, log *slog.Logger) (*Auth, error) {
	if log == nil {
		log = slog.Default()
	}
	a := &Auth{file: file, inline: inline, log: log, cache: map[[32]byte]time.Time{}, comparing: make(chan struct{}, 1)}
	rand.Read(a.cacheKey[:])
	a.decoy, _ = bcrypt.GenerateFromPassword(a.cacheKey[:16], bcrypt.DefaultCost)
	if err := a.Reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// Reload reads the file again. On an error the credentials in force stay.
func (a *Auth) Reload() error {
	c := &credentials{users: map[string]user{}, tokens: map[[32]byte]Role{}}
	if err := parseCredentials(c, a.inline, "property http.auth", false); err != nil {
		return err
	}
	var stamp fileStamp
	if a.file != "" {
		b, st, err := readStamped(a.file)
		if err != nil {
			return fmt.Errorf("http.auth.file: %w", err)
		}
		stamp = st
		if err := parseCredentials(c, string(b), a.file, true); err != nil {
			return err
		}
		if st.perm()&0o077 != 0 && len(c.tokens) > 0 {
			a.log.Warn("the authentication file holds tokens and others may read it: chmod 600 it", "file", a.file, "mode", st.perm())
		}
	}
	if len(c.users)+len(c.tokens) == 0 {
		return fmt.Errorf("http.auth.file %q and http.auth name no user or token: every request would be refused", a.file)
	}
	a.mu.Lock()
	a.stamp, a.checked = stamp, time.Now()
	a.mu.Unlock()
	a.creds.Store(c)
	a.cacheMu.Lock()
	clear(a.cache) // a changed password or removed user takes effect at once
	a.cacheMu.Unlock()
	a.log.Info("HTTP authentication", "users", len(c.users), "tokens", len(c.tokens), "file", a.file)
	return nil
}

// maybeReload reads the file again when it changed (looked at once a
// second at most): a renewed secret takes effect without a restart.
func (a *Auth) maybeReload() {
	if a.file == "" {
		return
	}
	a.mu.Lock()
	if time.Since(a.checked) < time.Second {
		a.mu.Unlock()
		return
	}
	a.checked = time.Now()
	old := a.stamp
	a.mu.Unlock()
	if st, err := stampOf(a.file); err == nil && st.same(old) {
		return
	}
	if err := a.Reload(); err != nil {
		a.log.Error("the authentication file changed and cannot be read: the previous users and tokens stay", "err", err)
	}
}

// authenticate says who sent r and with what role, or why not.
func (a *Auth) authenticate(r *http.Request) (string, Role, *Error) {
	a.maybeReload()
	c := a.creds.Load()
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch {
	case h == "":
		return "", 0, &Error{http.StatusUnauthorized, "authentication required: send Authorization: Bearer <token>, or a user and password (curl -u user)"}
	case strings.EqualFold(scheme, "Bearer"):
		if role, ok := c.tokens[sha256.Sum256([]byte(strings.TrimSpace(cred)))]; ok {
			return "token", role, nil
		}
		return "", 0, a.failed(r, "the bearer token is not known")
	case strings.EqualFold(scheme, "Basic"):
		name, password, ok := r.BasicAuth()
		if !ok {
			return "", 0, a.failed(r, "the basic credentials are not base64 user:password")
		}
		u, known := c.users[name]
		if !known {
			// As slow as a wrong password: the time of a refusal does
			// not tell which names exist.
			a.comparing <- struct{}{}
			bcrypt.CompareHashAndPassword(a.decoy, []byte(password))
			<-a.comparing
		} else if a.verify(name, password, u.hash) {
			return name, u.role, nil
		}
		return "", 0, a.failed(r, "the user or password is wrong")
	}
	return "", 0, a.failed(r, fmt.Sprintf("authorization scheme %q is not Bearer or Basic", scheme))
}

func (a *Auth) verify(name, password string, hash []byte) bool {
	h := sha256.New()
	h.Write(a.cacheKey[:])
	h.Write(hash) // a new hash for the user makes a new key
	h.Write([]byte{0})
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var key [32]byte
	h.Sum(key[:0])
	a.cacheMu.Lock()
	until, ok := a.cache[key]
	a.cacheMu.Unlock()
	if ok && time.Now().Before(until) {
		return true
	}
	a.comparing <- struct{}{}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	<-a.comparing
	if err != nil {
		return false
	}
	a.cacheMu.Lock()
	if len(a.cache) >= authCacheSize {
		clear(a.cache)
	}
	a.cache[key] = time.Now().Add(authCacheFor)
	a.cacheMu.Unlock()
	return true
}

// failed counts a refused credential and logs it, once every 10 s at
// most with the count since, so that a client guessing cannot fill the log.
func (a *Auth) failed(r *http.Request, why string) *Error {
	n := a.failures.Add(1)
	now := time.Now().UnixNano()
	if last := a.lastLogged.Load(); now-last > int64(10*time.Second) && a.lastLogged.CompareAndSwap(last, now) {
		a.log.Warn("HTTP authentication refused", "why", why, "from", r.RemoteAddr, "path", r.URL.Path, "refusals_so_far", n)
	}
	return &Error{http.StatusUnauthorized, why}
}

// Failures is the number of refused credentials since start.
func (a *Auth) Failures() int64 { return a.failures.Load() }

// fileStamp tells whether a file changed: a replaced file (a renewed
// certificate, a Kubernetes secret's new link) is another file or has
// another time or size.
type fileStamp struct{ fi os.FileInfo }

func (s fileStamp) same(o fileStamp) bool {
	return s.fi != nil && o.fi != nil && os.SameFile(s.fi, o.fi) && s.fi.ModTime().Equal(o.fi.ModTime()) &&
		s.fi.Size() == o.fi.Size() && s.fi.Mode() == o.fi.Mode()
}

func (s fileStamp) perm() os.FileMode { return s.fi.Mode().Perm() }

func stampOf(name string) (fileStamp, error) {
	fi, err := os.Stat(name)
	return fileStamp{fi}, err
}

func readStamped(name string) ([]byte, fileStamp, error) {
	st, err := stampOf(name)
	if err != nil {
		return nil, st, err
	}
	b, err := os.ReadFile(name)
	return b, st, err
}
