// httpserver serves HTTP on the listening socket it is handed as fd 3: by wasirun's
// `--listen ADDR` under GOOS=wasip1, or by the launcher of runner/benches/http.rs natively (the
// same source builds for both).
//
//	/           "hello\n"
//	/ticks      how many times a goroutine's 10ms time.Ticker has fired since start
//	/uptime-ms  the milliseconds since start
//
// A ticks count far below uptime-ms/10 means the timer goroutine was starved: the runtime sat
// blocked on one socket instead of polling every fd and timer together.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	start := time.Now()
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver: fd 3 is not a listener:", err)
		os.Exit(1)
	}

	var ticks atomic.Int64
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		for range t.C {
			ticks.Add(1)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("hello\n"))
	})
	mux.HandleFunc("/ticks", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", ticks.Load())
	})
	mux.HandleFunc("/uptime-ms", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", time.Since(start).Milliseconds())
	})

	fmt.Fprintln(os.Stderr, "httpserver: serving on", ln.Addr())
	err = http.Serve(ln, mux)
	fmt.Fprintln(os.Stderr, "httpserver:", err)
	os.Exit(1)
}
