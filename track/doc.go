// Package track loads Rally-format tracks: it renders track.json (a Jinja2
// template, with Rally's "rally.helpers") with the track parameters, decodes
// it into a typed, validated Track, and reports operations that need a
// track.py (custom runners or parameter sources) by name.
//
// It must not talk to a cluster or run anything: the driver does that.
package track
