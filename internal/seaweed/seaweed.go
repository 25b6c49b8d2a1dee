// Package seaweed starts a real S3 server, SeaweedFS, on loopback for
// tests. The binary is built once by scripts/seaweedfs.sh into a cache
// outside the repository and reused by later runs.
//
// It is a test helper: it reads the environment (HOME, XDG_CACHE_HOME,
// KEYHOLE_CACHE), runs a subprocess and fails the test on error.
package seaweed

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Credentials are the access key and secret that tests send. The server
// runs without identities, so it accepts any; the SDK still needs some.
const (
	AccessKey = "keyhole-test"
	SecretKey = "keyhole-test-secret"
	Region    = "us-east-1"
)

// Env returns the environment variables that point an AWS SDK at the
// test credentials (and stop it from asking an instance metadata service).
func Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// SetEnv sets Env in the current process; call it from TestMain, before
// any test runs (t.Setenv cannot be used with parallel tests).
func SetEnv() {
	for _, kv := range Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the weed binary, building it on first use
// (several minutes on 2 cores, once per machine).
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			binErr = err
			return
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "seaweedfs.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			binErr = fmt.Errorf("scripts/seaweedfs.sh: %v", err)
			return
		}
		binPath = strings.TrimSpace(string(out))
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "seaweedfs.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("seaweed: scripts/seaweedfs.sh not found above the test's folder")
		}
		dir = parent
	}
}

// Server is a running SeaweedFS (master, volume, filer and S3 gateway in
// one process), every port on 127.0.0.1.
type Server struct {
	bin    string
	dir    string
	ports  [4]int // master, volume, filer, s3
	logf   *os.File
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	auth   bool // the server checks signatures (StartAuth)
}

// Start starts a server with its data in a temporary folder and stops it
// when the test ends. It has no identities: it accepts any signature.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartAuth starts a server as Start does, whose one identity is
// AccessKey with SecretKey: it refuses a request that is not signed with
// them, as a production store does.
func StartAuth(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, auth bool) *Server {
	t.Helper()
	s := &Server{bin: Binary(t), dir: t.TempDir(), auth: auth}
	ports, err := freePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	copy(s.ports[:], ports)
	if s.logf, err = os.Create(filepath.Join(s.dir, "weed.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		s.logf.Close()
	})
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// Built returns the path of the weed binary when scripts/seaweedfs.sh has
// built it already, and an error saying it is not built otherwise. Unlike
// Binary it never starts the build of several minutes: the bench suite
// skips its object-storage scenario instead.
func Built() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "seaweedfs.sh"), "-n").Output()
	if err != nil {
		return "", fmt.Errorf("seaweed: weed not built (scripts/seaweedfs.sh builds it once, in minutes)")
	}
	return strings.TrimSpace(string(out)), nil
}

// Launch starts a server from the binary bin with its data under dir, for
// a program that is not a test (the bench suite). Close stops it.
func Launch(bin, dir string) (*Server, error) {
	s := &Server{bin: bin, dir: dir}
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	copy(s.ports[:], ports)
	if s.logf, err = os.Create(filepath.Join(dir, "weed.log")); err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops a server started by Launch and closes its log.
func (s *Server) Close() {
	s.Stop()
	s.logf.Close()
}

// MakeBucket creates a bucket as CreateBucket does, outside a test: it
// returns the error instead of failing one.
func (s *Server) MakeBucket(name string) error { return s.createBucket(name) }

// Endpoint is the S3 endpoint, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.ports[3]) }

// URL returns the gocloud.dev/blob URL of a bucket, with extra query
// parameters appended ("prefix=variants/").
func (s *Server) URL(bucket string, extra ...string) string {
	u := "s3://" + bucket + "?endpoint=" + s.Endpoint() + "&region=" + Region + "&use_path_style=true"
	for _, e := range extra {
		u += "&" + e
	}
	return u
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := filepath.Join(s.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	p := s.ports
	cmd := exec.Command(s.bin, "server",
		"-dir="+data,
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+strconv.Itoa(p[0]),
		// Every bucket is a collection with volumes of its own: room for
		// many small (sparse) volumes.
		"-master.volumeSizeLimitMB=16",
		"-volume.port="+strconv.Itoa(p[1]),
		"-volume.max=400",
		"-filer", "-filer.port="+strconv.Itoa(p[2]),
		"-s3", "-s3.port="+strconv.Itoa(p[3]),
	)
	cmd.Stdout, cmd.Stderr = s.logf, s.logf
	// With AWS_ACCESS_KEY_ID set, SeaweedFS makes it an admin identity and
	// turns authentication on; the tests want a server without identities
	// (any signature accepted), whatever the test process's environment.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if s.auth {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey)
	}
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	exited := make(chan struct{})
	s.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	return s.waitReady(exited)
}

// waitReady waits until the S3 gateway can create and list a bucket.
func (s *Server) waitReady(exited chan struct{}) error {
	deadline := time.Now().Add(90 * time.Second)
	probe := "keyhole-ready-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("seaweed: the server exited while starting; log tail:\n%s", s.logTail())
		default:
		}
		if last = s.createBucket(probe); last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("seaweed: the server did not answer S3 requests within 90s (last: %v); log tail:\n%s", last, s.logTail())
}

// logTail returns the end of the server's log, for a failing test.
func (s *Server) logTail() string {
	data, _ := os.ReadFile(s.logf.Name())
	return string(data[max(0, len(data)-3000):])
}

// CreateBucket creates a bucket (PUT /name, signed when the server checks
// signatures).
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.createBucket(name)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("seaweed: create bucket %s: %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// emptySHA256 is the hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func (s *Server) createBucket(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, s.Endpoint()+"/"+name, nil)
	if s.auth {
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		creds := aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "s3", Region, time.Now()); err != nil {
			return err
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	// 409: it exists already (a retry after a slow first answer).
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// Pause stops the server process (SIGSTOP): connections are accepted by
// the kernel but nothing answers, as with a store that hangs. It returns
// once every thread of the process has stopped (a signal takes effect on
// a thread only when the scheduler next runs it, so on a busy machine a
// request sent right after kill could otherwise still be answered), or
// after 10 s.
func (s *Server) Pause() {
	s.signal(syscall.SIGSTOP)
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if allStopped(cmd.Process.Pid) {
			return
		}
	}
}

// allStopped reports whether every thread of process pid is in the
// stopped state (T in /proc/PID/task/TID/stat).
func allStopped(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "stat"))
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may hold spaces, so the state is
		// the first field after the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		syscall.Kill(-s.cmd.Process.Pid, sig)
	}
}

// Stop kills the server and waits for it to exit; its data stays, and
// Restart brings it back on the same ports.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// Restart starts a stopped server again with the same data and ports.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// freePorts returns n loopback ports chosen by the OS, each below 55535
// with port+10000 free too (SeaweedFS binds it for gRPC).
func freePorts(n int) ([]int, error) {
	var (
		ports []int
		held  []net.Listener
	)
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for tries := 0; len(ports) < n && tries < 200; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		if p >= 55535 {
			continue
		}
		g, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		held = append(held, g)
		ports = append(ports, p)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("seaweed: no %d free loopback port pairs", n)
	}
	return ports, nil
}
