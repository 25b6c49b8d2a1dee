package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// findImgproxy returns the imgproxy binary to compare with: the -imgproxy
// flag, else imgproxy on PATH, else "". The suite never downloads or builds
// it.
func findImgproxy(flagPath string) (string, error) {
	if flagPath != "" {
		if _, err := os.Stat(flagPath); err != nil {
			return "", fmt.Errorf("-imgproxy %s: %v", flagPath, err)
		}
		return flagPath, nil
	}
	p, err := exec.LookPath("imgproxy")
	if err != nil {
		return "", nil
	}
	return p, nil
}

// startImgproxy starts imgproxy on a free loopback port, serving root
// through its local file system source (local:///name) with unsigned URLs
// (no IMGPROXY_KEY/SALT), workers concurrent transforms (as Keyhole's
// MaxConcurrent), quality 80 and a 50 MP source limit (Keyhole's default).
func startImgproxy(bin, root string, workers int) (*child, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"IMGPROXY_BIND="+addr,
		"IMGPROXY_LOCAL_FILESYSTEM_ROOT="+root,
		"IMGPROXY_WORKERS="+strconv.Itoa(workers),
		"IMGPROXY_CONCURRENCY="+strconv.Itoa(workers), // imgproxy before v3
		"IMGPROXY_QUALITY=80",
		"IMGPROXY_MAX_SRC_RESOLUTION=50",
		"IMGPROXY_LOG_LEVEL=error",
	)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("imgproxy: %v", err)
	}
	c := &child{name: "imgproxy", cmd: cmd, addr: addr, in: in}
	c.wait()
	client := http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := client.Get("http://" + addr + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return c, nil
			}
		}
	}
	c.stop()
	return nil, fmt.Errorf("imgproxy: no healthy answer on %s within 30 s", addr)
}
