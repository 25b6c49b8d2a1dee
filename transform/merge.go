package transform

import (
	"maps"
	"slices"
)

// Layers are the parameter sources of one request (SPEC §3).
type Layers struct {
	// Strict is the profile name of a strict-profile protection ("" = none).
	// Its parameters win over everything; nothing can override them.
	Strict string
	// Secure are the token's args (see FromArgs). They may name a profile
	// in "profile"; that profile is as trusted as the args themselves.
	Secure map[string]string
	// Insecure are the query string's values (see FromQuery). They may name
	// a profile in "profile". Text and watermark options from either are
	// ignored.
	Insecure map[string]string
	// Default is the handler's default profile name ("" = none).
	Default string
	// Lock is the protection's lock: when true every insecure parameter,
	// the profile named in the query included, is ignored.
	Lock bool
}

// Merge applies the layers in precedence order, highest first:
//
//  1. the Strict profile;
//  2. the Secure args;
//  3. the profile named in the Secure args;
//  4. the Insecure values;
//  5. the profile named in the Insecure values;
//  6. the Default profile.
//
// A higher layer's value replaces a lower one's; an empty value replaces
// too, and means "not set" to Parse, so the token can switch off an option a
// profile sets.
//
// Insecure layers (4 and 5) may not add or change text or watermark options:
// those names are dropped. A profile named in the query counts as insecure
// because the client chose it; otherwise it could replace or weaken a
// default profile's watermark. With Lock every known insecure name is
// dropped, "profile" included. The dropped names are returned in ignored,
// sorted and each once, for the X-Keyhole-Ignored-Params header; a name
// that a higher layer sets anyway is still reported, since its insecure
// value was not used.
//
// Unknown names (utm_source, jwt) are left out of merged and never
// reported. Profiles are expanded, not referenced: merged has no "profile"
// entry, so Canonical(merged) changes when a profile's content changes and
// two profile names with the same content share variants. A "profile" entry
// inside a profile is ignored; profiles do not nest.
//
// A profile name (in any layer) missing from profiles is an error: a
// *Errors with one "profile" entry per unknown name, and nil results. Merge
// does not validate values; Parse the result.
func Merge(l Layers, profiles map[string]map[string]string) (merged map[string]string, ignored []string, err error) {
	var errs Errors
	profile := func(name string) map[string]string {
		if name == "" {
			return nil
		}
		p, ok := profiles[name]
		if !ok {
			errs.add("profile", name, "unknown profile")
		}
		return p
	}
	merged = make(map[string]string)
	dropped := make(map[string]bool)
	apply := func(layer map[string]string, insecure bool) {
		for name, v := range layer {
			d := lookup(name)
			switch {
			case d == nil || name == "profile":
			case insecure && (l.Lock || d.secureOnly()):
				dropped[name] = true
			default:
				merged[name] = v
			}
		}
	}

	apply(profile(l.Default), false)
	if name, ok := l.Insecure["profile"]; ok {
		if l.Lock {
			dropped["profile"] = true
		} else {
			apply(profile(name), true)
		}
	}
	apply(l.Insecure, true)
	apply(profile(l.Secure["profile"]), false)
	apply(l.Secure, false)
	apply(profile(l.Strict), false)

	if err := errs.err(); err != nil {
		return nil, nil, err
	}
	if len(dropped) > 0 {
		ignored = slices.Sorted(maps.Keys(dropped))
	}
	return merged, ignored, nil
}
