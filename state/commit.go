package state

import (
	"os"
	"sync"
	"time"
)

// Kind is one saved kind (flows, thresholds …). Changed is called after a
// change to it and returns once that change is on disk, so that a caller
// acknowledges only what a crash cannot lose.
//
// Saves of a kind are group commits, one at a time: the changes that
// arrive while a save is being written wait together, and the next save —
// one journal append and one fsync (journal.go) — covers them all. Each
// save reads the values it writes after every change it covers was
// applied, and saves are written in the order they read them, so what is
// on disk never goes back to an older state (issue 13: snapshots taken
// outside any order lost 3 of 16,157 acknowledged definitions at a kill
// -9). Concurrent writers cost one fsync per batch instead of one each.
type Kind struct {
	store    *Store
	name     string
	snapshot func() any               // every entry (name → definition), or the whole value
	entry    func(string) (any, bool) // one entry (nil: the kind is saved whole, never journaled)

	mu      sync.Mutex
	pending *batch // the changes the next save covers (nil: none)
	running bool   // a goroutine is saving; it takes pending when done
	status  KindStatus
	retry   *time.Timer // a failed save is tried again (nil: none planned)

	// The journal and sizes are the saving goroutine's (and Load's,
	// before any save).
	journal       *os.File // open for appending; nil: the next save writes a snapshot
	journalBytes  int64
	snapshotBytes int64
}

// batch is the changes one save covers; done is closed when it is written.
type batch struct {
	done    chan struct{}
	err     error
	names   map[string]struct{}
	all     bool // changes the caller could not name: write a snapshot
	changes int
}

// KindStatus is what the status endpoints show of a kind's saving.
type KindStatus struct {
	Saves     uint64 `json:"saves"`     // journal appends and snapshots written
	Snapshots uint64 `json:"snapshots"` // of which snapshots
	Changes   uint64 `json:"changes"`   // changes they covered
	Failed    uint64 `json:"failed"`    // saves that failed
	// Unsaved is true when the engine holds changes the disk does not
	// (the last save failed): a restart now would lose them.
	Unsaved   bool      `json:"unsaved"`
	LastError string    `json:"lastError,omitempty"`
	ErrorTime time.Time `json:"lastErrorTime,omitzero"`
}

// Kind returns the saved kind name. snapshot returns all of it, as a map
// of name → definition when entry is not nil; entry returns one
// definition (false: there is none), for the journal. Both are called on
// the saving goroutine, after the changes they save.
func (s *Store) Kind(name string, snapshot func() any, entry func(name string) (any, bool)) *Kind {
	return &Kind{store: s, name: name, snapshot: snapshot, entry: entry}
}

// Changed saves the entry name after a change the caller has already
// applied, and returns when what is on disk holds it (or a later state),
// or why it could not be written. On an error the change stays applied in
// memory and the kind is saved again after the store's Retry.
func (k *Kind) Changed(name string) error {
	k.mu.Lock()
	b := k.join(1)
	if b.names == nil {
		b.names = map[string]struct{}{}
	}
	b.names[name] = struct{}{}
	k.mu.Unlock()
	<-b.done
	return b.err
}

// ChangedAll is Changed for changes the caller cannot name: the save is a
// snapshot of the whole kind.
func (k *Kind) ChangedAll() error {
	b := k.joinAll()
	<-b.done
	return b.err
}

// SaveLater is ChangedAll without the wait, for callers that must not
// stall on the disk (a script's setFlow, which on a busy machine's fsync
// once took longer than script.timeout): the saver writes soon, and a
// failure is logged and retried as for any other change.
func (k *Kind) SaveLater() { k.joinAll() }

// joinAll adds a change that needs a snapshot to the pending batch.
func (k *Kind) joinAll() *batch {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.join(1)
	b.all = true
	return b
}

// join adds changes (0: a retry) to the pending batch, starting a saver if
// none runs. k.mu is held.
func (k *Kind) join(changes int) *batch {
	if k.pending == nil {
		k.pending = &batch{done: make(chan struct{})}
	}
	b := k.pending
	b.changes += changes
	if !k.running {
		k.running = true
		go k.drain()
	}
	return b
}

// drain writes batches until none is pending.
func (k *Kind) drain() {
	for {
		k.mu.Lock()
		b := k.pending
		k.pending = nil
		if b == nil {
			k.running = false
			k.mu.Unlock()
			return
		}
		k.mu.Unlock()
		// Every change of b was applied before it joined b, and b was
		// taken before the values are read: they hold them all.
		snapshot := k.needsSnapshot(b)
		if snapshot {
			b.err = k.compact()
		} else {
			b.err = k.appendRecords(b.names)
		}
		k.mu.Lock()
		k.account(b, snapshot)
		k.mu.Unlock()
		close(b.done)
	}
}

// account records a save's outcome and plans a retry after a failure. The
// log hears of the first failure of a run and of the save that ends it,
// not of every failed request in between (each has its own answer).
// k.mu is held.
func (k *Kind) account(b *batch, snapshot bool) {
	st := &k.status
	if b.err == nil {
		st.Saves++
		if snapshot {
			st.Snapshots++
		}
		st.Changes += uint64(b.changes)
		if st.Unsaved {
			k.store.log.Info("state saved again: nothing is lost at a restart", "kind", k.name, "dir", k.store.dir)
		}
		st.Unsaved = false
		return
	}
	if !st.Unsaved {
		k.store.log.Error("state not saved: the engine holds changes a restart would lose; make room or make the directory writable",
			"kind", k.name, "dir", k.store.dir, "err", b.err, "retry_in", k.store.Retry)
	}
	st.Failed++
	st.Unsaved = true
	st.LastError = b.err.Error()
	st.ErrorTime = time.Now().UTC()
	if k.retry == nil {
		k.retry = time.AfterFunc(k.store.Retry, func() {
			k.mu.Lock()
			k.retry = nil
			if k.status.Unsaved {
				k.join(0).all = true // the journal was closed: a snapshot
			}
			k.mu.Unlock()
		})
	}
}

// Status returns the kind's saving statistics.
func (k *Kind) Status() KindStatus {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.status
}
