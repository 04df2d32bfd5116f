#!/usr/bin/env python3
"""Renders the shared test tracks with Python's Jinja2 to produce the
reference files the Go tests compare against (TestRender_matches_jinja2).

Run from track/testdata/jinja2 with python3 and jinja2 installed:

    python3 render_reference.py

It follows what Rally does when it loads a track: rally.collect calls are
inlined textually (sorted glob, joined with ",\\n", relative to the
collecting file), the result is rendered as one Jinja2 template whose
globals are the track parameters plus build_flavor, serverless_operator and
now, with the days_ago filter; index bodies are rendered the same way.
Every case in cases.json becomes <case>.json: {"track": ..., "bodies": {index: body}}.
"""
import glob
import json
import os
import re
from datetime import datetime, timezone

import jinja2

NOW = 1767225600.0  # 2026-01-01T00:00:00Z, the tests' fixedNow
TRACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rally-tracks")
COLLECT = re.compile(r'\{\{ +?rally\.collect\(parts="(.+?)"\) +?\}\}')

HELPERS = """
{%- macro collect(parts) -%}
{%- set comma = joiner() -%}
{%- for part in glob(parts) -%}{{ comma() }}{% include part %}{%- endfor -%}
{%- endmacro -%}
{%- macro exists_set_param(setting_name, value, default_value=None, comma=True) -%}
{%- if value is defined or default_value is not none -%}
{%- if comma %} , {% endif -%}
{%- if default_value is not none -%}
"{{ setting_name }}": {{ value | default(default_value) | tojson }}
{%- else -%}
"{{ setting_name }}": {{ value | tojson }}
{%- endif -%}
{%- endif -%}
{%- endmacro -%}
"""


def inline_collects(base, text):
    patterns = COLLECT.findall(text)
    if not patterns:
        return text
    expanded = {}
    for pattern in patterns:
        full = os.path.join(base, pattern)
        parts = []
        for name in sorted(glob.glob(full)):
            with open(name, encoding="utf-8") as f:
                parts.append(f.read())
        expanded[pattern] = inline_collects(os.path.dirname(full), ",\n".join(parts))
    return COLLECT.sub(lambda m: expanded[m.group(1)], text)


def days_ago(start, end, date_format="%d-%m-%Y"):
    def to_dt(v):
        if isinstance(v, float):
            return datetime.fromtimestamp(v, timezone.utc)
        return datetime.strptime(v, date_format).replace(tzinfo=timezone.utc)

    return (to_dt(end) - to_dt(start)).days


def render(path, params, build_flavor):
    base = os.path.dirname(path)
    with open(path, encoding="utf-8") as f:
        source = inline_collects(base, f.read())
    loader = jinja2.ChoiceLoader([jinja2.DictLoader({"rally.helpers": HELPERS}), jinja2.FileSystemLoader(base)])
    env = jinja2.Environment(loader=loader)
    env.globals.update(params)
    env.globals.update({"build_flavor": build_flavor, "serverless_operator": False, "now": NOW, "glob": lambda p: []})
    env.filters["days_ago"] = days_ago
    return env.from_string(source).render()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    for name, case in sorted(cases.items()):
        track_dir = os.path.join(TRACKS, case["track"])
        flavor = case.get("build_flavor", "default")
        track = json.loads(render(os.path.join(track_dir, "track.json"), case["params"], flavor))
        bodies = {}
        for idx in track.get("indices", []):
            if "body" in idx:
                bodies[idx["name"]] = json.loads(render(os.path.join(track_dir, idx["body"]), case["params"], flavor))
        with open(os.path.join(here, name + ".json"), "w", encoding="utf-8") as f:
            json.dump({"track": track, "bodies": bodies}, f, sort_keys=True, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
