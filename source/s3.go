package source

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// idleConnsPerHost is how many idle connections to one S3 endpoint a
// Bucket keeps. The SDK's default is 10: a replica reading more objects
// at once than that dials a new connection for every read beyond them and
// closes it afterwards, which costs more CPU than the read.
const idleConnsPerHost = 256

// s3Mux opens s3:// URLs with s3Opener; blob.URLMux itself applies the
// generic prefix and key parameters.
var s3Mux = func() *blob.URLMux {
	m := new(blob.URLMux)
	m.RegisterBucket("s3", s3Opener{})
	return m
}()

// s3Opener opens an s3:// URL with the parameters gocloud.dev's s3blob
// URL opener takes (use_path_style or s3ForcePathStyle, disable_https,
// accelerate, ssetype, kmskeyid, and the AWS ones of
// gocloud.dev/aws.V2ConfigFromURLParams), but with an HTTP client whose
// idle pool holds idleConnsPerHost connections.
type s3Opener struct{}

// OpenBucketURL implements blob.BucketURLOpener.
func (s3Opener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	q := u.Query()
	var (
		s3opts []func(*s3.Options)
		bopts  s3blob.Options
	)
	flag := func(key string, set func(o *s3.Options, v bool)) error {
		raw := q.Get(key)
		if raw == "" {
			return nil
		}
		q.Del(key)
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%s is not a boolean", key)
		}
		s3opts = append(s3opts, func(o *s3.Options) { set(o, v) })
		return nil
	}
	// In s3blob's order, so that use_path_style and its old spelling
	// given together resolve the same way every time.
	for _, f := range []struct {
		key string
		set func(*s3.Options, bool)
	}{
		{"accelerate", func(o *s3.Options, v bool) { o.UseAccelerate = v }},
		{"disable_https", func(o *s3.Options, v bool) { o.EndpointOptions.DisableHTTPS = v }},
		{"use_path_style", func(o *s3.Options, v bool) { o.UsePathStyle = v }},
		{"s3ForcePathStyle", func(o *s3.Options, v bool) { o.UsePathStyle = v }},
	} {
		if err := flag(f.key, f.set); err != nil {
			return nil, err
		}
	}
	if raw := q.Get("ssetype"); raw != "" {
		q.Del("ssetype")
		ok := false
		for _, t := range types.ServerSideEncryptionAes256.Values() {
			if strings.EqualFold(string(t), raw) {
				bopts.EncryptionType, ok = t, true
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("ssetype is not one of %v", types.ServerSideEncryptionAes256.Values())
		}
	}
	if raw := q.Get("kmskeyid"); raw != "" {
		q.Del("kmskeyid")
		bopts.KMSEncryptionID = raw
	}
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 4 * idleConnsPerHost
		t.MaxIdleConnsPerHost = idleConnsPerHost
	})
	bopts.RequestChecksumCalculation = cfg.RequestChecksumCalculation
	return s3blob.OpenBucket(ctx, s3.NewFromConfig(cfg, s3opts...), u.Host, &bopts)
}
