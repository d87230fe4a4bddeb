package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// The Docker Engine API, when its socket is there (the seeds' --volume
// /var/run/docker.sock): containers get the names Docker gives them, and
// the agent follows Docker's event stream, so a container that starts is
// reported at once and one that stops is gone at once, instead of at the
// next walk of the cgroup tree. Without the socket the walk alone names
// containers by their short ID. Podman's Docker-compatible service
// (podman system service) answers the same API.

// DockerSocket is where the Docker Engine API is looked for, unless
// DOCKER_HOST names a unix:// socket (Podman's, say).
var DockerSocket = "/var/run/docker.sock"

// dockerSocket is the Engine API's socket, "" when there is none.
func dockerSocket() string {
	sock := DockerSocket
	if h, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://"); ok {
		sock = h
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return ""
	}
	return sock
}

// dockerWatch keeps the containers' names from the Engine API.
type dockerWatch struct {
	sock   string
	log    *slog.Logger
	client http.Client
	stream http.Client // no timeout: the event stream stays open

	mu    sync.Mutex
	names map[string]string // container ID → name
	live  bool              // the event stream is up: names are current
	// ended holds the containers that stopped or died since the agent last
	// looked, with the state of their last sample (virt_cpu's state:
	// shutoff for stop, shutdown for die, as hsflowd reports them).
	ended map[string]uint32
	// changed is signalled (without blocking) when a container started or
	// stopped, for the agent to report containers now.
	changed chan struct{}
}

func newDockerWatch(sock string, log *slog.Logger) *dockerWatch {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}
	return &dockerWatch{sock: sock, log: log, changed: make(chan struct{}, 1), ended: map[string]uint32{},
		client: http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: dial}},
		stream: http.Client{Transport: &http.Transport{DialContext: dial}}}
}

// Names returns the containers' names: the event stream's when it is up,
// else asked now (nil without a daemon).
func (w *dockerWatch) Names() map[string]string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	live, names := w.live, w.names
	w.mu.Unlock()
	if live {
		return names
	}
	names, _ = w.list()
	return names
}

// list asks for the running containers.
func (w *dockerWatch) list() (map[string]string, error) {
	resp, err := w.client.Get("http://docker/containers/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list []struct {
		ID    string `json:"Id"`
		Names []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range list {
		if len(c.Names) > 0 {
			out[c.ID] = strings.TrimPrefix(c.Names[0], "/")
		}
	}
	return out, nil
}

// run follows the event stream until ctx ends; when the daemon is away it
// tries again every 10 s (the names are then asked at each polling).
func (w *dockerWatch) run(ctx context.Context) {
	down := false
	for ctx.Err() == nil {
		err := w.follow(ctx)
		w.mu.Lock()
		w.live = false
		w.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if !down {
			w.log.Warn("Docker event stream lost; containers are found by walking the cgroup tree until it is back", "socket", w.sock, "err", err)
			down = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
		if _, err := os.Stat(w.sock); err == nil && down {
			w.log.Info("trying the Docker event stream again", "socket", w.sock)
		}
	}
}

// Live says whether the event stream is up.
func (w *dockerWatch) Live() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.live
}

// Ended returns the containers that stopped since the last call, each
// with the state its last sample says.
func (w *dockerWatch) Ended() map[string]uint32 {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.ended) == 0 {
		return nil
	}
	e := w.ended
	w.ended = map[string]uint32{}
	return e
}

// virt_cpu states (libvirt's virDomainState, as sFlow's host structures
// carry them).
const (
	virRunning  = 1
	virShutdown = 4 // the container's process ended (die)
	virShutoff  = 5 // stopped (stop)
)

// follow lists the containers, then reads events until the stream ends.
func (w *dockerWatch) follow(ctx context.Context) error {
	// Only the type is filtered on: Podman's Docker-compatible service (4.3)
	// matches "event" filters against its own event names ("died" where it
	// sends Docker's "die"), so event=die passes nothing there; the actions
	// are picked here.
	filters := url.QueryEscape(`{"type":["container"]}`)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://docker/events?filters="+filters, nil)
	resp, err := w.stream.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return &url.Error{Op: "GET", URL: "/events", Err: errStatus(resp.Status)}
	}
	// The stream is open before the list is read: no start falls between.
	names, err := w.list()
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.names, w.live = names, true
	w.mu.Unlock()
	w.log.Info("following Docker's events", "socket", w.sock, "containers", len(names))
	w.signal()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct {
			Type, Action string
			Actor        struct {
				ID         string
				Attributes map[string]string
			}
		}
		if err := dec.Decode(&ev); err != nil {
			return err
		}
		if ev.Type != "" && ev.Type != "container" || ev.Actor.ID == "" {
			continue
		}
		name := ev.Actor.Attributes["name"]
		w.mu.Lock()
		names := w.names
		changed := true
		// Docker sends start, restart, unpause, rename (its name attribute
		// is the new name), stop, die, destroy; Podman the same and remove.
		switch ev.Action {
		case "start", "restart", "unpause", "rename":
			if name != "" && names[ev.Actor.ID] != name {
				names = maps.Clone(names) // readers keep the map they were given
				names[ev.Actor.ID] = name
			}
			delete(w.ended, ev.Actor.ID)
		case "stop":
			w.ended[ev.Actor.ID] = virShutoff
		case "die":
			if w.ended[ev.Actor.ID] == 0 {
				w.ended[ev.Actor.ID] = virShutdown
			}
		case "destroy", "remove":
			if _, ok := names[ev.Actor.ID]; ok {
				names = maps.Clone(names)
				delete(names, ev.Actor.ID)
			}
			changed = false
		default:
			changed = false
		}
		w.names = names
		w.mu.Unlock()
		if changed {
			w.signal()
		}
	}
}

func (w *dockerWatch) signal() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

type errStatus string

func (e errStatus) Error() string { return "answered " + string(e) }
