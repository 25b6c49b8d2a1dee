package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat. It is
// USER_HZ, 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime returns the user+system CPU time that process pid has used.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("proc: bad stat line")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, errors.New("proc: short stat line")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("proc: bad utime/stime")
	}
	return time.Duration(ut+st) * clockTick, nil
}

// peakRSS returns VmHWM, the peak resident set size of process pid, in
// bytes.
func peakRSS(pid int) (int64, error) { return statusBytes(pid, "VmHWM") }

// statusBytes returns a field of /proc/pid/status given in kB (VmHWM,
// RssAnon, RssFile, RssShmem), in bytes.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("proc: no " + field)
}

// anonBytes is the resident memory of process pid that is not a file's
// pages: RssAnon and RssShmem (memfd and other shared memory).
func anonBytes(pid int) (int64, error) {
	a, err := statusBytes(pid, "RssAnon")
	if err != nil {
		return 0, err
	}
	s, err := statusBytes(pid, "RssShmem")
	return a + s, err
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux 4.0 and later), so
// the next peakRSS covers only what follows.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// child is a server process started by the suite.
type child struct {
	name string
	cmd  *exec.Cmd
	addr string         // host:port it listens on
	in   io.WriteCloser // closing it tells the child to exit
	done chan struct{}  // closed when the child has exited
	err  error          // its exit status, once done is closed
	tree bool           // CPU and RSS include its child processes (nginx workers)
}

// pids returns the process and, for a tree, its direct children.
func (c *child) pids() []int {
	pid := c.Pid()
	if !c.tree {
		return []int{pid}
	}
	return append([]int{pid}, childPids(pid)...)
}

// CPU is the user+system CPU time the server has used (every process of a
// tree; a worker that exited is not counted).
func (c *child) CPU() (time.Duration, error) {
	var sum time.Duration
	for i, pid := range c.pids() {
		t, err := cpuTime(pid)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue // a worker that just exited
		}
		sum += t
	}
	return sum, nil
}

// PeakRSS is VmHWM of the server, summed over a tree's processes (which
// counts pages they share once per process: an upper bound).
func (c *child) PeakRSS() (int64, error) {
	var sum int64
	for i, pid := range c.pids() {
		n, err := peakRSS(pid)
		if err != nil && i == 0 {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// ResetPeakRSS resets VmHWM of every process of the server, best effort.
func (c *child) ResetPeakRSS() {
	for _, pid := range c.pids() {
		resetPeakRSS(pid)
	}
}

// childPids returns the processes whose parent is pid, from /proc.
func childPids(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", id))
		if err != nil {
			continue
		}
		if ppid, ok := parseStatPPID(string(b)); ok && ppid == pid {
			out = append(out, id)
		}
	}
	return out
}

// parseStatPPID reads the parent pid (field 4) from a /proc/<pid>/stat
// line.
func parseStatPPID(stat string) (int, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// wait starts the goroutine that reaps the child.
func (c *child) wait() {
	c.done = make(chan struct{})
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
}

// died reports how the child ended, if it has, for error messages.
func (c *child) died() string {
	select {
	case <-c.done:
		return fmt.Sprintf(" (%s exited: %v)", c.name, c.err)
	default:
		return ""
	}
}

// Base is the server's URL prefix.
func (c *child) Base() string { return "http://" + c.addr }

// Pid is the process id, for /proc.
func (c *child) Pid() int { return c.cmd.Process.Pid }

// startChild starts cmd, waits up to 30 s for it to print "ADDR host:port"
// on stdout and returns it. For an imgproxy child, addr is given and the
// child is probed instead (see waitHTTP).
func startChild(name string, cmd *exec.Cmd) (*child, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	c := &child{name: name, cmd: cmd, in: in}
	c.wait()
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				got <- a
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case c.addr = <-got:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s: exited before listening: %v", name, c.err)
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s: did not start within 30 s", name)
	}
}

// stop ends the child: stdin closes (the suite's servers exit on EOF) and
// SIGTERM is sent (imgproxy), then SIGKILL after 2 s.
func (c *child) stop() {
	c.in.Close()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}
