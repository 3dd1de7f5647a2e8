#!/usr/bin/env python3
"""Runs `meson install` of a build folder into a temporary DESTDIR and checks
that every file the build declares lands there, that the programs are in
bindir, and that the desktop file, metainfo, icons and GSettings schema sit
where GNOME looks for them, named after the application ID. Prints TAP.

Usage: check-install.py BUILD_DIR APP_ID MESON
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

PROGRAMS = ("simclr-train", "simclr-studio")


class Tap:
    def __init__(self):
        self.results = []

    def check(self, ok, what):
        self.results.append(("ok" if ok else "not ok", what))
        return ok

    def skip(self, what, why):
        self.results.append(("ok", f"{what} # SKIP {why}"))

    def finish(self):
        for i, (status, what) in enumerate(self.results, 1):
            print(f"{status} {i} - {what}")
        print(f"1..{len(self.results)}")
        return 0 if all(s == "ok" for s, _ in self.results) else 1


def introspect(meson, build, what):
    out = subprocess.run([meson, "introspect", what, build], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def check_desktop(tap, path, app_id, bindir, staged):
    keys = {}
    with open(staged(path), encoding="utf-8") as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                key, value = line.rstrip("\n").split("=", 1)
                keys.setdefault(key.strip(), value.strip())
    exec_line = keys.get("Exec", "")
    program = exec_line.split()[0] if exec_line else ""
    installed = os.path.join(bindir, os.path.basename(program))
    tap.check(program and os.access(staged(installed), os.X_OK),
              f"{path}: Exec={exec_line!r} names an installed program in {bindir}")
    tap.check(keys.get("Icon") == app_id, f"{path}: Icon={keys.get('Icon')!r} is {app_id}")


def check_metainfo(tap, path, app_id):
    root = ET.parse(path).getroot()
    tap.check(root.findtext("id") == app_id,
              f"{os.path.basename(path)}: <id> {root.findtext('id')!r} is {app_id}")
    launchable = root.find("launchable")
    if launchable is not None:
        tap.check(launchable.text == app_id + ".desktop",
                  f"{os.path.basename(path)}: launchable {launchable.text!r} is "
                  f"{app_id}.desktop")


def check_schema(tap, path, app_id):
    root = ET.parse(path).getroot()
    ids = [s.get("id") for s in root.findall("schema")]
    expected_path = "/" + app_id.replace(".", "/") + "/"
    tap.check(app_id in ids, f"{os.path.basename(path)}: declares schema {app_id} ({ids})")
    for s in root.findall("schema"):
        if s.get("id") == app_id:
            tap.check(s.get("path") == expected_path,
                      f"schema {app_id}: path {s.get('path')!r} is {expected_path}")


def check_places(tap, paths, app_id, datadir, bindir, staged):
    """Each installed data file of a known kind sits in GNOME's place."""
    icon = re.compile(re.escape(os.path.join(datadir, "icons", "hicolor")) +
                      r"/(scalable|symbolic|\d+x\d+)/apps/" + re.escape(app_id) +
                      r"(-symbolic)?\.(svg|png)$")
    places = {
        ".desktop": os.path.join(datadir, "applications", app_id + ".desktop"),
        ".metainfo.xml": os.path.join(datadir, "metainfo", app_id + ".metainfo.xml"),
        ".gschema.xml": os.path.join(datadir, "glib-2.0", "schemas", app_id + ".gschema.xml"),
    }
    for path in sorted(paths):
        for suffix, place in places.items():
            if path.endswith(suffix):
                tap.check(path == place, f"{path} is at {place}")
        if path.startswith(os.path.join(datadir, "icons") + "/"):
            tap.check(icon.match(path), f"{path} is a hicolor apps icon named {app_id}")
        if path.endswith(".desktop"):
            check_desktop(tap, path, app_id, bindir, staged)
        elif path.endswith(".metainfo.xml"):
            check_metainfo(tap, staged(path), app_id)
        elif path.endswith(".gschema.xml"):
            check_schema(tap, staged(path), app_id)


def main():
    build, app_id, meson = sys.argv[1:4]
    tap = Tap()
    options = {o["name"]: o["value"] for o in introspect(meson, build, "--buildoptions")}
    prefix = options["prefix"]
    bindir = os.path.join(prefix, options["bindir"])
    datadir = os.path.join(prefix, options["datadir"])
    declared = introspect(meson, build, "--installed")  # built or source path -> destination
    targets = {t["name"]: t for t in introspect(meson, build, "--targets")
               if t["type"] == "executable"}

    with tempfile.TemporaryDirectory(prefix="simclr-install-") as destdir:
        def staged(path):
            return destdir + path

        run = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                              "--destdir", destdir], capture_output=True, text=True)
        if not tap.check(run.returncode == 0,
                         f"meson install --destdir exits 0 ({run.stderr.strip()[-300:]})"):
            return tap.finish()

        for source, dest in sorted(declared.items(), key=lambda kv: kv[1]):
            tap.check(dest.startswith(prefix + "/"), f"{dest} is below the prefix {prefix}")
            tap.check(os.path.exists(staged(dest)),
                      f"{dest} installed (from {os.path.basename(source)})")

        for name in PROGRAMS:
            if name not in targets:
                tap.skip(f"{name} in {bindir}", f"{name} is not built in this configuration")
                continue
            path = os.path.join(bindir, name)
            tap.check(targets[name]["installed"] and os.access(staged(path), os.X_OK),
                      f"{name} installed as an executable {path}")

        check_places(tap, declared.values(), app_id, datadir, bindir, staged)

        if "simclr-studio" in targets:
            expected = [
                os.path.join(datadir, "applications", app_id + ".desktop"),
                os.path.join(datadir, "metainfo", app_id + ".metainfo.xml"),
                os.path.join(datadir, "icons", "hicolor", "scalable", "apps", app_id + ".svg"),
                os.path.join(datadir, "icons", "hicolor", "symbolic", "apps",
                             app_id + "-symbolic.svg"),
                os.path.join(datadir, "glib-2.0", "schemas", app_id + ".gschema.xml"),
            ]
            for path in expected:
                tap.check(os.path.isfile(staged(path)), f"the application's {path} installed")
        else:
            tap.skip("desktop file, metainfo, icons and schema",
                     "the GTK application is not built in this configuration")
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
