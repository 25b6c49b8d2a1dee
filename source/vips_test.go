package source_test

import "github.com/keyhole-dev/keyhole/transform/vips"

// libvips starts once per test binary (it cannot be restarted).
func setupVips()    { vips.Startup(vips.StartupConfig{}) }
func shutdownVips() { vips.Shutdown() }
