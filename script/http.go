package script

import (
	"bytes"
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

var client = &http.Client{Timeout: 30 * time.Second}

type httpResult struct {
	Status  int               `json:"status"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers,omitempty"`
	URL     string            `json:"url"`
}

func doHTTP(url, method, contentType, body, user, password string, headers map[string]string) (httpResult, error) {
	if method == "" {
		method = "GET"
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(strings.ToUpper(method), url, rd)
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
	resp, err := client.Do(req)
	if ue, ok := err.(*neturl.Error); ok {
		err = ue.Err // the callers name the method and URL already
	}
	if err != nil {
		return httpResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return httpResult{}, err
	}
	h := map[string]string{}
	for k := range resp.Header {
		h[k] = resp.Header.Get(k)
	}
	return httpResult{Status: resp.StatusCode, Body: string(b), Headers: h, URL: url}, nil
}

// request is http2() and httpAsync()'s object.
type request struct {
	URL       string            `json:"url"`
	Operation string            `json:"operation"`
	Headers   map[string]string `json:"headers"`
	Body      any               `json:"body"`
	User      string            `json:"user"`
	Password  string            `json:"password"`
}

func (r request) bodyText() (string, string) {
	switch b := r.Body.(type) {
	case nil:
		return "", ""
	case string:
		return b, ""
	default:
		js, _ := json.Marshal(b)
		return string(js), "application/json"
	}
}

func bindHTTP(s *Script) {
	vm := s.vm
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
		r, err := doHTTP(url, method, ctype, body, user, pass, nil)
		if err != nil {
			throw(vm, "http %s %s: %v", strings.ToUpper(method), url, err)
		}
		if r.Status >= 400 {
			throw(vm, "http %s %s: status %d", strings.ToUpper(method), url, r.Status)
		}
		return vm.ToValue(r.Body)
	})
	// http2({url, operation, headers, body, user, password}) → {status,
	// body, headers}: status errors are returned, not thrown.
	s.set("http2", func(c goja.FunctionCall) goja.Value {
		var req request
		if err := json.Unmarshal(jsonOf(arg(c, 0)), &req); err != nil || req.URL == "" {
			throw(vm, "http2 needs an object with a url")
		}
		body, ctype := req.bodyText()
		r, err := doHTTP(req.URL, req.Operation, ctype, body, req.User, req.Password, req.Headers)
		if err != nil {
			throw(vm, "http2 %s: %v", req.URL, err)
		}
		return toJS(vm, r)
	})
	// httpAsync({url, operation, headers, body, success(res), error(res)}):
	// the request runs on its own goroutine; the callback runs on the
	// script's.
	s.set("httpAsync", func(c goja.FunctionCall) goja.Value {
		obj := arg(c, 0).ToObject(vm)
		var req request
		if err := json.Unmarshal(jsonOf(arg(c, 0)), &req); err != nil || req.URL == "" {
			throw(vm, "httpAsync needs an object with a url")
		}
		success, _ := goja.AssertFunction(obj.Get("success"))
		failure, _ := goja.AssertFunction(obj.Get("error"))
		go func() {
			body, ctype := req.bodyText()
			r, err := doHTTP(req.URL, req.Operation, ctype, body, req.User, req.Password, req.Headers)
			s.enqueue(jobCall, func(vm *goja.Runtime) error {
				cb := success
				if err != nil || r.Status >= 400 {
					cb = failure
					if err != nil {
						r = httpResult{Status: 0, Body: err.Error(), URL: req.URL}
					}
				}
				if cb == nil {
					return nil
				}
				_, cerr := cb(goja.Undefined(), toJS(vm, r))
				return cerr
			})
		}()
		return goja.Undefined()
	})
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
			}
			reply <- resp
			return nil
		}
		reply <- valueResponse(v, r.Format)
		return nil
	})
	if !ok {
		return Response{Status: http.StatusServiceUnavailable, ContentType: "text/plain", Body: []byte("the script is busy: its queue is full")}, nil
	}
	select {
	case resp := <-reply:
		return resp, nil
	case <-time.After(s.m.deps.CallTimeout + time.Second):
		return Response{Status: http.StatusGatewayTimeout, ContentType: "text/plain", Body: []byte("the script did not answer in time")}, nil
	}
}

func valueResponse(v goja.Value, format string) Response {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return Response{Status: http.StatusNoContent}
	}
	if s, ok := v.Export().(string); ok {
		ct := "text/plain; charset=utf-8"
		if format == "json" && json.Valid([]byte(s)) {
			ct = "application/json"
		}
		return Response{Status: 200, ContentType: ct, Body: []byte(s)}
	}
	// goja's own JSON keeps the object's property order, as
	// JSON.stringify would; exporting to a Go map would sort the keys.
	raw, err := json.Marshal(v)
	var b bytes.Buffer
	if err == nil {
		err = json.Indent(&b, raw, "", " ")
	}
	if err != nil {
		return Response{Status: 500, ContentType: "text/plain", Body: []byte("the handler's answer is not JSON: " + err.Error())}
	}
	return Response{Status: 200, ContentType: "application/json", Body: b.Bytes()}
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
