// Package handler serves files behind expiring signed URLs.
//
// New returns an http.Handler that any Go program mounts (usually under
// http.StripPrefix). For each GET or HEAD request it cleans the path,
// finds the protection with the longest matching prefix, authorises the
// request (an HS256 token for "jwt" protections, HTTP Basic credentials
// for "basic" ones), and then serves the original file with
// http.ServeContent, or a transformed variant when image parameters apply.
//
// Every request gets exactly one token.Result. It decides the status, is
// sent in the X-Keyhole-Auth-Result header and is counted in
// keyhole_auth_results_total{protection,result}. Error bodies carry only
// fixed texts: never a secret, a file system path or Go error text.
//
// # One request's path through the files
//
//	handler.go   ServeHTTP: the live configuration (lifecycle.go),
//	             method, token.CleanPath (internal/pathrule), longest-prefix protection,
//	             query parsing
//	auth.go      authorize: referrer, then a token (token/verify, with
//	             the protection's audience rule), Basic credentials
//	             (bcrypt behind a gate) or a strict profile → one
//	             token.Result; refusals end here
//	serve.go     serveFile: the authorised request's parameters, headers
//	             and the choice between original and variant
//	params.go    params: merge of profile, token args and query under the
//	             protection's locks → a resolution (cached)
//	files.go     open/stat through Config.Files (opencache.go keeps hot
//	             originals open); originals via http.ServeContent with the
//	             sandbox CSP for active types; source and watermark reads
//	variant.go   variant cache (cache.go), the shared store (store.go),
//	             flights that stop when their last client leaves, slots,
//	             the engine call
//	outcome.go   the closed table of outcomes after authorisation: status,
//	             text, reject reason, Retry-After and log level
//	logs.go      rate-limited log lines of refusals and failures
//	metrics.go   the Prometheus collectors
//	config.go    Config, Protection and their validation
//	lifecycle.go Close and Reload
//	signing.go   the optional signing endpoint (NewSigning)
//	redact.go    tokens kept out of request logs
package handler
