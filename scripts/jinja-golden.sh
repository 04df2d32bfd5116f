#!/usr/bin/env bash
# Writes the golden files that pin rally's Jinja2 rendering to Python's
# Jinja2 (the Go tests in track/jinja_golden_test.go compare rally's output
# with them byte for byte, without Python):
#
#   track/testdata/jinja/cases/NAME.j2      hand-written template (input)
#   track/testdata/jinja/cases/NAME.golden  what Jinja2 renders from it
#   track/testdata/jinja/cases/NAME.error   instead, when Jinja2 raises:
#                                           the exception (rally must fail too)
#   track/testdata/jinja/tracks.json        hand-written parameter sets (input)
#   track/testdata/jinja/tracks/CASE/FILE.golden
#                                           every file Rally renders for a track
#                                           (track.json and the index and
#                                           template bodies it names) with one
#                                           parameter set
#
# The tracks are track/testdata/rally-tracks (a copy of the shared
# rally-tracks checkout). Both sides render the way esrally's
# track/loader.py does: rally.collect(parts="...") inlined textually first,
# then one Jinja2 template with the rally.helpers macros, the track
# parameters as globals, and build_flavor, serverless_operator, now, glob
# and the days_ago, get_start_date and get_end_date filters (index and
# template bodies get only build_flavor and serverless_operator, as in
# Rally). now is fixed at 2026-01-01T00:00:00Z, the Go tests' fixedNow.
#
# To regenerate after changing an input (or Jinja2's pinned version):
#
#   bash scripts/jinja-golden.sh
#
# then run `go test ./track/` and commit the inputs with what the script
# wrote. The golden files are never edited by hand. Jinja2 is installed
# with pip into a virtualenv under $RALLY_JINJA_CACHE (default
# ~/.cache/rally-jinja), once per pinned version.
set -euo pipefail

JINJA2_VERSION=3.1.6
MARKUPSAFE_VERSION=3.0.3

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RALLY_JINJA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rally-jinja}
venv=$cache/jinja2-$JINJA2_VERSION
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('Jinja2') != '$JINJA2_VERSION' or m.version('MarkupSafe') != '$MARKUPSAFE_VERSION')" 2>/dev/null; then
  echo "jinja-golden: installing Jinja2 $JINJA2_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "Jinja2==$JINJA2_VERSION" "MarkupSafe==$MARKUPSAFE_VERSION"
fi

shared=$root/../shared/tracks/rally-tracks
if [ -d "$shared" ] && ! diff -rq --exclude=README.md "$shared" "$root/track/testdata/rally-tracks" >/dev/null; then
  echo "jinja-golden: warning: track/testdata/rally-tracks differs from $shared" >&2
fi

# TZ=UTC: Rally's get_start_date and get_end_date turn a timestamp into a
# date in the machine's local time zone (rally uses UTC).
TZ=UTC "$venv/bin/python" - "$root/track/testdata" <<'PY'
import glob
import json
import os
import re
import shutil
import sys
from datetime import datetime, timedelta, timezone

import jinja2

TESTDATA = sys.argv[1]
OUT = os.path.join(TESTDATA, "jinja")
TRACKS = os.path.join(TESTDATA, "rally-tracks")
NOW = 1767225600.0  # 2026-01-01T00:00:00Z, the Go tests' fixedNow

# ---- esrally/track/loader.py (TemplateSource, render_template, ...)

COLLECT_PARTS_RE = re.compile(r"{{\ +?rally\.collect\(parts=\"(.+?(?=\"))\"\)\ +?}}")

MACROS = [
    """
        {% macro collect(parts) -%}
            {% set comma = joiner() %}
            {% for part in glob(parts) %}
                {{ comma() }}
                {% include part %}
            {% endfor %}
        {%- endmacro %}
        """,
    """
        {% macro exists_set_param(setting_name, value, default_value=None, comma=True) -%}
            {% if value is defined or default_value is not none %}
                {% if comma %} , {% endif %}
                {% if default_value is not none %}
                  "{{ setting_name }}": {{ value | default(default_value) | tojson }}
                {% else %}
                  "{{ setting_name }}": {{ value | tojson }}
                {% endif %}
              {% endif %}
        {%- endmacro %}
        """,
]


def read_glob_files(pattern):
    source = []
    for fname in sorted(glob.glob(pattern)):
        with open(fname, mode="rt", encoding="utf-8") as fp:
            source.append(fp.read())
    return ",\n".join(source)


def replace_includes(base_path, track_fragment):
    match = COLLECT_PARTS_RE.findall(track_fragment)
    if not match:
        return track_fragment
    repl = {}
    for glob_pattern in match:
        full_glob_path = os.path.join(base_path, glob_pattern)
        sub_source = read_glob_files(full_glob_path)
        repl[glob_pattern] = replace_includes(os.path.dirname(full_glob_path), sub_source)
    return COLLECT_PARTS_RE.sub(lambda m: repl[m.groups()[0]], track_fragment)


def render_template(template_source, template_vars=None, template_internal_vars=None, loader=None):
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.DictLoader({"rally.helpers": "".join(MACROS)}), jinja2.BaseLoader(), loader])
    )
    if template_vars:
        for k, v in template_vars.items():
            env.globals[k] = v
    if template_internal_vars:
        for macro_type in template_internal_vars:
            for key, value in template_internal_vars[macro_type].items():
                getattr(env, macro_type)[key] = value
    return env.from_string(template_source).render()


# esrally/time.py, quirks included: get_start_date and get_end_date pass
# default_tz where date_format belongs, so a timestamp becomes local time.
def _to_datetime(val, date_format=None, default_tz=None):
    if isinstance(val, datetime):
        return val
    elif isinstance(val, float):
        return datetime.fromtimestamp(val, default_tz)
    elif isinstance(val, str):
        ret = datetime.strptime(val, date_format)
        if ret.tzinfo is None:
            ret = ret.replace(tzinfo=default_tz)
        return ret
    raise TypeError("Cannot convert unrecognized type '%s' with value '%s' to datetime." % (type(val), str(val)))


def days_ago(start_date, end_date, date_format="%d-%m-%Y", default_tz=timezone.utc):
    return (_to_datetime(end_date, date_format, default_tz) - _to_datetime(start_date, date_format, default_tz)).days


def get_start_date(the_date, date_format="%Y-%m-%d", default_tz=timezone.utc):
    return _to_datetime(the_date, default_tz).strftime(date_format)


def get_end_date(start_date, duration_days=1, date_format="%Y-%m-%d", default_tz=timezone.utc):
    return (_to_datetime(start_date, default_tz) + timedelta(days=duration_days)).strftime(date_format)


def internal_vars(base_path, build_flavor, serverless_operator):
    # default_internal_template_vars; Rally's glob is unsorted (file system
    # order), sorted here as rally's is.
    def relative_glob(f):
        return sorted(os.path.relpath(p, base_path) for p in glob.glob(os.path.join(base_path, f)))

    return {
        "globals": {"build_flavor": build_flavor, "serverless_operator": serverless_operator, "now": NOW, "glob": relative_glob},
        "filters": {"days_ago": days_ago, "get_start_date": get_start_date, "get_end_date": get_end_date},
    }


def render_template_from_file(path, params, build_flavor="default", serverless_operator=False):
    base_path = os.path.dirname(path)
    source, _, _ = jinja2.FileSystemLoader(base_path).get_source(jinja2.Environment(), os.path.basename(path))
    return render_template(
        loader=jinja2.FileSystemLoader(base_path),
        template_source=replace_includes(base_path, source),
        template_vars=params,
        template_internal_vars=internal_vars(base_path, build_flavor, serverless_operator),
    )


def render_body(track_dir, body_file, params, build_flavor="default", serverless_operator=False):
    # TrackSpecificationReader._create_index and _load_template.
    with open(os.path.join(track_dir, body_file), "rt", encoding="utf-8") as f:
        contents = replace_includes(track_dir, f.read())
    return render_template(
        template_source=contents,
        template_vars=params,
        template_internal_vars={"globals": {"build_flavor": build_flavor, "serverless_operator": serverless_operator}},
    )


def bodies(track):
    """The files Rally renders besides track.json, in the track's order."""
    files = [idx["body"] for idx in track.get("indices", []) if idx.get("body")]
    for key in ("templates", "composable-templates", "component-templates"):
        files += [tpl["template"] for tpl in track.get(key, [])]
    return list(dict.fromkeys(files))


# ---- writing the golden files

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def remove_generated(directory, suffixes):
    for dirpath, _, names in os.walk(directory):
        for name in names:
            if name.endswith(suffixes):
                os.remove(os.path.join(dirpath, name))


cases = os.path.join(OUT, "cases")
remove_generated(cases, (".golden", ".error"))
count = 0
for path in sorted(glob.glob(os.path.join(cases, "*.j2"))):
    stem = path[: -len(".j2")]
    try:
        write(stem + ".golden", render_template_from_file(path, {}))
    except Exception as e:  # pinned as "rally fails too"
        write(stem + ".error", f"{type(e).__name__}: {e}\n")
    count += 1
print(f"jinja-golden: {count} cases")

with open(os.path.join(OUT, "tracks.json"), encoding="utf-8") as f:
    param_sets = json.load(f)
tracks_out = os.path.join(OUT, "tracks")
remove_generated(tracks_out, (".golden",))
for name, case in param_sets.items():
    track_dir = os.path.join(TRACKS, case["track"])
    flavor = case.get("build_flavor", "default")
    params = case.get("params", {})
    rendered = render_template_from_file(os.path.join(track_dir, "track.json"), params, flavor)
    write(os.path.join(tracks_out, name, "track.json.golden"), rendered)
    files = bodies(json.loads(rendered))
    for body in files:
        write(os.path.join(tracks_out, name, body + ".golden"), render_body(track_dir, body, params, flavor))
    print(f"jinja-golden: {name}: track.json and {len(files)} bodies")
for stale in sorted(set(os.listdir(tracks_out)) - set(param_sets)):
    shutil.rmtree(os.path.join(tracks_out, stale))
PY
