// httpclient does one HTTP/1.1 GET /hello on the connected socket it is handed as fd 3 (by
// wasirun's `--dial ADDR`), through net/http's Client, and prints the status line and body:
//
//	status: 200 OK
//	body: ...
//
// The Transport's DialContext returns that connection once; a second dial is an error, so a
// client that tried to open another connection fails instead of hanging.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

func main() {
	conn, err := net.FileConn(os.NewFile(3, "conn"))
	if err != nil {
		fail("fd 3 is not a connection:", err)
	}

	var mu sync.Mutex
	client := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				defer mu.Unlock()
				if conn == nil {
					return nil, errors.New("the one connection was already used")
				}
				c := conn
				conn = nil
				return c, nil
			},
		},
	}

	// The host part of the URL only names the server: DialContext ignores it.
	resp, err := client.Get("http://wasirun-dial/hello")
	if err != nil {
		fail("GET /hello:", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fail("reading the body:", err)
	}
	fmt.Printf("status: %s\n", resp.Status)
	fmt.Printf("body: %s\n", body)
}

func fail(what string, err error) {
	fmt.Fprintln(os.Stderr, "httpclient:", what, err)
	os.Exit(1)
}
