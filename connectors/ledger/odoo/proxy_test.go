package odoo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// proxy stands between the connector and the real Odoo 17 server and
// injects the faults a real server cannot be made to produce on demand: a
// request lost on the way, an answer lost after Odoo acted, a connection
// cut halfway through an answer, a 429/5xx from a front (nginx, Odoo.sh),
// a server-side exception such as a serialization failure. Everything else
// — every answer the connector reads — is the real server's. before hooks
// run a real action on the server just before a call reaches it (someone
// paying the invoice meanwhile, a lock date set between two payments), so
// that Odoo itself refuses the call. It also counts the calls, by
// "model.method" for execute_kw and "service.method" otherwise.
type proxy struct {
	t      *testing.T
	target string
	srv    *httptest.Server
	stop   chan struct{}

	mu    sync.Mutex
	calls map[string]int
	rules []*rule
}

type fault int

const (
	pass        fault = iota // forward (after the rule's before hook)
	loseRequest              // the connection drops before the request reaches Odoo
	loseAnswer               // Odoo acts; the connection drops before its answer
	cutAnswer                // Odoo acts; the connection drops halfway through the answer
	slowAnswer               // Odoo acts; its answer comes after the client gave up (timeout)
	frontStatus              // a front answers status (with Retry-After: 0); Odoo never sees the call
	serverFault              // Odoo's answer to an exception raised in the call (name, message); Odoo never acts
	replay                   // a recorded answer of the real server (file); Odoo never sees the call
)

func (f fault) String() string {
	return [...]string{"pass", "lose request", "lose answer", "cut answer", "slow answer", "front status", "server fault", "replay"}[f]
}

// rule applies to the nth call of call (1-based; 0: every call).
type rule struct {
	call    string
	nth     int
	before  func()
	fault   fault
	status  int
	name    string
	message string
	file    string // replay: testdata/recorded/<file>
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, calls: map[string]int{}, stop: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		close(p.stop)
		p.srv.Close()
	})
	return p
}

// on adds a rule.
func (p *proxy) on(r rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &r)
}

// count is the number of calls of call seen so far.
func (p *proxy) count(call string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[call]
}

// name reads the call of a JSON-RPC request body.
func callName(body []byte) (string, any) {
	var req struct {
		ID     any `json:"id"`
		Params struct {
			Service string            `json:"service"`
			Method  string            `json:"method"`
			Args    []json.RawMessage `json:"args"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "?", nil
	}
	if req.Params.Service == "object" && req.Params.Method == "execute_kw" && len(req.Params.Args) >= 5 {
		var model, method string
		_ = json.Unmarshal(req.Params.Args[3], &model)
		_ = json.Unmarshal(req.Params.Args[4], &method)
		return model + "." + method, req.ID
	}
	return req.Params.Service + "." + req.Params.Method, req.ID
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call, id := callName(body)
	p.mu.Lock()
	p.calls[call]++
	n := p.calls[call]
	var hit *rule
	for _, rl := range p.rules {
		if rl.call == call && (rl.nth == 0 || rl.nth == n) {
			hit = rl
			break
		}
	}
	p.mu.Unlock()
	if hit != nil && hit.before != nil {
		hit.before()
	}
	f := pass
	if hit != nil {
		f = hit.fault
	}
	switch f {
	case loseRequest:
		p.hangUp(w)
		return
	case replay:
		body, err := os.ReadFile(filepath.Join("testdata", "recorded", hit.file))
		if err != nil {
			p.t.Errorf("proxy: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	case frontStatus:
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(hit.status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", hit.status, http.StatusText(hit.status))
		return
	case serverFault:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(odooErrorAnswer(id, hit.name, hit.message))
		return
	}
	req, err := http.NewRequest(r.Method, p.target+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		p.t.Errorf("proxy: %v", err)
		return
	}
	req.Header = r.Header.Clone()
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	proxyStats.add(call, time.Since(t0))
	if err != nil {
		p.t.Errorf("proxy: forwarding %s: %v", call, err)
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch f {
	case slowAnswer:
		p.stall(r)
		return
	case loseAnswer:
		p.hangUp(w)
		return
	case cutAnswer:
		hj, ok := w.(http.Hijacker)
		if !ok {
			p.t.Errorf("proxy: cannot hijack")
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			p.t.Errorf("proxy: hijack: %v", err)
			return
		}
		writeHalf(buf, resp, answer)
		conn.Close()
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// writeHalf writes the status line and headers of a complete answer, then
// half of its body.
func writeHalf(buf *bufio.ReadWriter, resp *http.Response, answer []byte) {
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	fmt.Fprintf(buf, "Content-Type: %s\r\nContent-Length: %s\r\n\r\n", resp.Header.Get("Content-Type"), strconv.Itoa(len(answer)))
	_, _ = buf.Write(answer[:len(answer)/2])
	_ = buf.Flush()
}

// hangUp closes the connection without an answer.
func (p *proxy) hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		p.t.Errorf("proxy: hijack: %v", err)
		return
	}
	conn.Close()
}

// stall keeps the request until the client gives up.
func (p *proxy) stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.stop:
	case <-time.After(30 * time.Second):
	}
}

// odooErrorAnswer is the answer of Odoo 17's /jsonrpc to an exception
// raised in the call (the shape of every error answer of the real server:
// code 200, "Odoo Server Error", data with the exception's class name,
// message, arguments, context and its traceback).
func odooErrorAnswer(id any, name, message string) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{
		"code": 200, "message": "Odoo Server Error",
		"data": map[string]any{"name": name,
			"debug":     "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/http.py\", line 2191, in __call__\n    response = request._serve_nodb()\n" + name + ": " + message + "\n",
			"message":   message,
			"arguments": []string{message},
			"context":   map[string]any{}},
	}}
}

type stats struct {
	mu sync.Mutex
	d  map[string]time.Duration
	n  map[string]int
}

var proxyStats = &stats{d: map[string]time.Duration{}, n: map[string]int{}}

func (s *stats) add(call string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d[call] += d
	s.n[call]++
}
