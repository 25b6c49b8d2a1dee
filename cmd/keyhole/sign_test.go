package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSignUsesTheConfigsRules: keyhole sign checks what it signs with the
// config's limits and watermark folders, as the server it signs for
// will, not with the defaults.
func TestSignUsesTheConfigsRules(t *testing.T) {
	_, name := writeConfig(t, testConfig+`
limits:
  max_output_width: 500
watermarks: [/wm/]
`)
	sign := func(extra ...string) (string, error) {
		var out, errb bytes.Buffer
		args := append([]string{"sign", "-config", name, "-key", "main", "-path", "/private/a.txt", "-base", "http://img.test"}, extra...)
		err := run(context.Background(), args, &out, &errb)
		return out.String(), err
	}
	tests := []struct {
		name  string
		extra []string
		want  string // "" for success, else in the error
	}{
		{"within the config's width", []string{"-args", `{"w":500}`}, ""},
		{"over the config's width (the default allows it)", []string{"-args", `{"w":600}`}, "-args: invalid parameters"},
		{"query over the config's width", []string{"-query", "w=600"}, "-query: invalid parameters"},
		{"watermark in the folder", []string{"-args", `{"watermark":"/wm/logo.png"}`}, ""},
		{"watermark outside the folders", []string{"-args", `{"watermark":"/private/a.jpg"}`}, "not in an allowed watermark folder"},
		{"text in the query", []string{"-query", "text=hi"}, "token only"},
		{"path with a colon", []string{"-path", "/private/a:b.txt"}, "-path: path contains a colon"},
		{"audience elsewhere", []string{"-aud", "/other/"}, "-aud: the audience does not open the path"},
		{"9 KB secure parameter", []string{"-args", `{"x":"` + strings.Repeat("a", 9<<10) + `"}`}, "longer than 8192 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sign(tc.extra...)
			switch {
			case tc.want == "" && (err != nil || !strings.HasPrefix(out, "http://img.test/private/")):
				t.Errorf("sign: %q, %v", out, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("sign: error %v, want %q", err, tc.want)
			}
		})
	}
}
