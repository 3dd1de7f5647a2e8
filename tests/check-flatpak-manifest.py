#!/usr/bin/env python3
"""Parses the Flatpak manifest with `flatpak-builder --show-manifest`, any
warning (an unknown key) made fatal, and checks what the app needs from it:
the ID and command, the sandbox permissions, the BLAS and oneDNN modules
built from pinned archives, and the app's meson options. Offline. Prints TAP.

Usage: check-flatpak-manifest.py MANIFEST APP_ID MESON_OPTIONS_FILE
"""
import json
import os
import re
import shutil
import subprocess
import sys

FINISH_ARGS = (
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
    "--share=network",
    "--filesystem=xdg-download:ro",
)


def main():
    manifest, app_id, options_file = sys.argv[1:4]
    tool = shutil.which("flatpak-builder")
    if tool is None:
        print("1..0 # SKIP flatpak-builder is not installed (tools/install-deps installs it)")
        return 0

    results = []

    def check(ok, what):
        results.append((bool(ok), what))
        return bool(ok)

    env = dict(os.environ, G_DEBUG="fatal-warnings")
    run = subprocess.run([tool, "--show-manifest", manifest], env=env,
                         capture_output=True, text=True)
    if check(run.returncode == 0, "flatpak-builder --show-manifest accepts it with warnings "
             f"fatal (exit {run.returncode}: {run.stderr.strip()[-300:]})"):
        m = json.loads(run.stdout)
        check(m.get("id") == app_id, f"id {m.get('id')!r} is {app_id}")
        check(m.get("command") == "simclr-studio", f"command {m.get('command')!r}")
        check(m.get("runtime") == "org.gnome.Platform" and m.get("sdk") == "org.gnome.Sdk",
              "GNOME runtime and SDK")
        args = m.get("finish-args", [])
        for arg in FINISH_ARGS:
            check(arg in args, f"finish-args hold {arg}")
        check(not any(a in ("--filesystem=home", "--filesystem=host") for a in args),
              "no access to the whole home folder or host")

        modules = [mod for mod in m.get("modules", []) if isinstance(mod, dict)]
        names = [mod.get("name") for mod in modules]
        check(names[-1:] == ["simclr-studio"], f"the app is the last module ({names})")
        for dep in ("openblas", "onednn"):
            check(dep in names[:-1], f"{dep} is built before the app")
        for mod in modules:
            for src in mod.get("sources", []):
                if not isinstance(src, dict) or src.get("type") != "archive":
                    continue
                check(src.get("url", "").startswith("https://"),
                      f"{mod['name']}: {src.get('url')} is fetched over https")
                check(re.fullmatch(r"[0-9a-f]{64}", src.get("sha256", "")),
                      f"{mod['name']}: sha256 pinned")

        app = modules[-1]
        check(app.get("buildsystem") == "meson", "the app builds with meson")
        source_dirs = [s.get("path") for s in app.get("sources", []) if s.get("type") == "dir"]
        root = os.path.join(os.path.dirname(os.path.abspath(manifest)), *source_dirs[:1])
        check(source_dirs and os.path.isfile(os.path.join(root, "meson.build")),
              f"the app's source folder {source_dirs} holds meson.build")
        with open(options_file, encoding="utf-8") as f:
            declared = set(re.findall(r"option\(\s*'([^']+)'", f.read()))
        opts = app.get("config-opts", [])
        for opt in opts:
            name = opt[2:].split("=", 1)[0] if opt.startswith("-D") else None
            check(name in declared, f"config-opt {opt} is an option of meson_options.txt")
        check("-Dcuda=disabled" in opts and "-Dgui=enabled" in opts,
              "CPU backend with the GUI")

    for i, (ok, what) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
    print(f"1..{len(results)}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
