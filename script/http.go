package script

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// maxHTTPBody is the largest answer http(), http2() and httpAsync() read: a
// larger one is an error, not a truncated body.
const maxHTTPBody = 64 << 20

type httpResult struct {
	Status  int               `json:"status"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers,omitempty"`
	URL     string            `json:"url"`
}

// doHTTP makes one request; ctx bounds all of it, from the name lookup to
// the last byte of the answer.
func (m *Manager) doHTTP(ctx context.Context, url, method, contentType, body, user, password string, headers map[string]string) (httpResult, error) {
	if method == "" {
		method = "GET"
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	if strings.HasPrefix(url, "/") {
		if m.deps.Self == "" {
			return httpResult{}, fmt.Errorf("%q is a path, and this engine's own address is not known: give a whole URL", url)
		}
		url = m.deps.Self + url // a path on the engine itself, as apps call their neighbours
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), url, rd)
	if err != nil {
		return httpResult{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := m.client.Do(req)
	if ue, ok := err.(*neturl.Error); ok {
		err = ue.Err // the callers name the method and URL already
	}
	if err != nil {
		return httpResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	if err != nil {
		return httpResult{}, err
	}
	if len(b) > maxHTTPBody {
		return httpResult{}, fmt.Errorf("the answer is larger than %d MB", maxHTTPBody>>20)
	}
	h := map[string]string{}
	for k := range resp.Header {
		h[k] = resp.Header.Get(k)
	}
	return httpResult{Status: resp.StatusCode, Body: string(b), Headers: h, URL: url}, nil
}

// timedOut words a deadline for the script: which limit ended the wait.
func timedOut(ctx context.Context, err error, limit string) error {
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("no answer within %s", limit)
	}
	return err
}

// request is http2() and httpAsync()'s object: its fields read one by one
// (the object of httpAsync also holds the success and error functions,
// which have no JSON form).
type request struct {
	URL       string
	Operation string
	Headers   map[string]string
	Body      string
	Type      string // the body's Content-Type when it was an object (JSON)
	User      string
	Password  string
}

// requestOf reads a request object; what is wrong with it throws.
func (s *Script) requestOf(fn string, v goja.Value) request {
	vm := s.vm
	obj, ok := v.(*goja.Object)
	if !ok || !present(obj.Get("url")) {
		throw(vm, "%s needs an object with a url: {url, operation, headers, body, …}", fn)
	}
	r := request{URL: obj.Get("url").String(), Operation: optString(obj.Get("operation")),
		User: optString(obj.Get("user")), Password: optString(obj.Get("password"))}
	if h := obj.Get("headers"); present(h) {
		ho, ok := h.(*goja.Object)
		if !ok {
			throw(vm, "%s: headers must be an object of name → value", fn)
		}
		r.Headers = map[string]string{}
		for _, k := range ho.Keys() {
			r.Headers[k] = ho.Get(k).String()
		}
	}
	switch b := obj.Get("body"); {
	case !present(b):
	case isString(b):
		r.Body = b.String()
	default:
		r.Body, r.Type = string(s.jsonOf(b)), "application/json"
	}
	return r
}

func isString(v goja.Value) bool {
	_, ok := v.Export().(string)
	return ok
}

func bindHTTP(s *Script) {
	vm, m := s.vm, s.m
	// http(url[, method[, contentType, body][, user, password]]): the body
	// of the answer; a transport failure or an error status throws.
	s.set("http", func(c goja.FunctionCall) goja.Value {
		url, method := arg(c, 0).String(), "get"
		var ctype, body, user, pass string
		if present(arg(c, 1)) {
			method = arg(c, 1).String()
		}
		switch strings.ToLower(method) {
		case "put", "post", "delete", "patch":
			ctype, body = optString(arg(c, 2)), optString(arg(c, 3))
			user, pass = optString(arg(c, 4)), optString(arg(c, 5))
		default:
			user, pass = optString(arg(c, 2)), optString(arg(c, 3))
		}
		ctx, cancel := s.callContext(m.deps.HTTPTimeout)
		defer cancel()
		r, err := m.doHTTP(ctx, url, method, ctype, body, user, pass, nil)
		if err != nil {
			throw(vm, "http %s %s: %v", strings.ToUpper(method), url, timedOut(ctx, err, s.syncLimit()))
		}
		if r.Status >= 400 {
			throw(vm, "http %s %s: status %d", strings.ToUpper(method), url, r.Status)
		}
		return vm.ToValue(r.Body)
	})
	// http2({url, operation, headers, body, user, password}) → {status,
	// body, headers}: status errors are returned, not thrown.
	s.set("http2", func(c goja.FunctionCall) goja.Value {
		req := s.requestOf("http2", arg(c, 0))
		ctx, cancel := s.callContext(m.deps.HTTPTimeout)
		defer cancel()
		r, err := m.doHTTP(ctx, req.URL, req.Operation, req.Type, req.Body, req.User, req.Password, req.Headers)
		if err != nil {
			throw(vm, "http2 %s: %v", req.URL, timedOut(ctx, err, s.syncLimit()))
		}
		return toJS(vm, r)
	})
	bindHTTPAsync(s)
}

// syncLimit names what bounds a synchronous HTTP call.
func (s *Script) syncLimit() string {
	if d := s.m.deps; d.HTTPTimeout < d.CallTimeout {
		return fmt.Sprintf("%v (script.http.timeout)", d.HTTPTimeout)
	}
	return s.limitName(s.m.deps.HTTPTimeout)
}

// Request is an HTTP request for a script's setHttpHandler.
type Request struct {
	Method string
	Path   []string
	Format string // json or txt
	Query  map[string][]string
	Body   []byte
}

// Response is what a script answered.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// ErrNoHandler is returned for a script with no HTTP handler.
var ErrNoHandler = errors.New("the script has no HTTP handler (setHttpHandler)")

// Serve hands a request to a script's HTTP handler and waits (up to the
// call time limit) for its answer: a string or an object (JSON); a thrown
// 'not_found', 'bad_request' or 'forbidden' becomes that status.
func (s *Script) Serve(r Request) (Response, error) {
	s.handlersMu.RLock()
	h := s.handlers.http
	s.handlersMu.RUnlock()
	if h == nil {
		if msg := s.LoadError(); msg != "" {
			return Response{}, fmt.Errorf("%w: the script did not load: %s", ErrNoHandler, msg)
		}
		return Response{}, ErrNoHandler
	}
	s.stats.requestsReceived.Add(1)
	reply := make(chan Response, 1)
	ok := s.enqueue(jobRequest, func(vm *goja.Runtime) error {
		req := map[string]any{"method": r.Method, "path": r.Path, "format": r.Format, "query": r.Query}
		var body any
		if len(r.Body) > 0 {
			if err := json.Unmarshal(r.Body, &body); err != nil {
				body = string(r.Body)
				req["error"] = "body is not JSON: " + err.Error()
			}
		}
		req["body"] = body
		jsReq := toJS(vm, req)
		v, err := h(goja.Undefined(), jsReq)
		if err != nil {
			// throw 'not_found' and the like answer the request: not a script
			// error. A real one is recorded before the answer goes out, so
			// that /scripts/json shows it as soon as the caller has the 500.
			resp := errorResponse(err)
			if resp.Status >= 500 {
				s.fail(err)
				s.noteInterrupt(err)
			}
			reply <- resp
			return nil
		}
		resp, err := s.valueResponse(v, r.Format)
		if err != nil {
			s.fail(err)
			s.noteInterrupt(err)
			resp = errorResponse(err)
		}
		reply <- resp
		return nil
	})
	if !ok {
		return Response{Status: http.StatusServiceUnavailable, ContentType: "text/plain", Body: []byte("the script is busy: its queue is full")}, nil
	}
	select {
	case resp := <-reply:
		return resp, nil
	case <-s.done:
		return Response{Status: http.StatusServiceUnavailable, ContentType: "text/plain", Body: []byte("the script stopped")}, nil
	case <-time.After(s.m.deps.CallTimeout + time.Second):
		return Response{Status: http.StatusGatewayTimeout, ContentType: "text/plain", Body: []byte("the script did not answer in time")}, nil
	}
}

// valueResponse is a handler's answer: a string as it is, anything else
// as the script's JSON.stringify(v, null, 1) writes it (the object's own
// key order; the watchdog can stop a deep one). The error is an interrupt
// or a cycle.
func (s *Script) valueResponse(v goja.Value, format string) (Response, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return Response{Status: http.StatusNoContent}, nil
	}
	if str, ok := v.Export().(string); ok {
		ct := "text/plain; charset=utf-8"
		if format == "json" && json.Valid([]byte(str)) {
			ct = "application/json"
		}
		return Response{Status: 200, ContentType: ct, Body: []byte(str)}, nil
	}
	text, err := s.stringify(v, s.vm.ToValue(1))
	if err != nil {
		return Response{}, err
	}
	if !present(text) {
		return Response{Status: 500, ContentType: "text/plain", Body: []byte("the handler's answer has no JSON form (a function?)")}, nil
	}
	return Response{Status: 200, ContentType: "application/json", Body: []byte(text.String())}, nil
}

func errorResponse(err error) Response {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		switch fmt.Sprint(ex.Value().Export()) {
		case "not_found":
			return Response{Status: 404, ContentType: "text/plain", Body: []byte("not found")}
		case "bad_request":
			return Response{Status: 400, ContentType: "text/plain", Body: []byte("bad request")}
		case "forbidden":
			return Response{Status: 403, ContentType: "text/plain", Body: []byte("forbidden")}
		}
	}
	line, _ := describe(err)
	return Response{Status: 500, ContentType: "text/plain", Body: []byte("script error: " + line)}
}
