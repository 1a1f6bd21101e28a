"""A PEP 517 build backend for the eventstore package, standard library only.

pip builds a package in an isolated environment and installs the backend
that pyproject.toml names from the network; this backend needs nothing
(`requires = []`), so `pip install ./bindings/python` works offline.  It
writes one wheel: the package's Python files and the eventstore.so in
eventstore/lib (`make python` copies it there), tagged for this platform
since it carries a native library.
"""

import base64
import hashlib
import os
import sysconfig
import tomllib
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(HERE, "eventstore")
LIBRARY = os.path.join(PACKAGE, "lib", "eventstore.so")


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _tag():
    return "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}", f"Summary: {project['description']}",
             f"Requires-Python: {project['requires-python']}",
             f"License: {project['license']['text']}"]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {r}; extra == \"{extra}\"" for r in reqs]
    readme = os.path.join(HERE, project.get("readme", "README.md"))
    body = ""
    if os.path.isfile(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = "\n" + f.read()
    return "\n".join(lines) + "\n" + body


def _files():
    """(path in the wheel, path on disk) of the package."""
    if not os.path.isfile(LIBRARY):
        raise RuntimeError(f"{LIBRARY} is missing: run `make python` at the top of the "
                           f"eventstore checkout first (it builds and copies eventstore.so)")
    out = []
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            out.append((f"eventstore/{name}", os.path.join(PACKAGE, name)))
    out.append(("eventstore/lib/eventstore.so", LIBRARY))
    return out


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _dist_info(project):
    return f"{project['name']}-{project['version']}.dist-info"


def _dist_files(project):
    wheel = ("Wheel-Version: 1.0\nGenerator: eventstore_build\n"
             f"Root-Is-Purelib: false\nTag: {_tag()}\n")
    return {"METADATA": _metadata(project), "WHEEL": wheel, "top_level.txt": "eventstore\n"}


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    project = _project()
    info = os.path.join(metadata_directory, _dist_info(project))
    os.makedirs(info, exist_ok=True)
    for name, text in _dist_files(project).items():
        with open(os.path.join(info, name), "w", encoding="utf-8") as f:
            f.write(text)
    return _dist_info(project)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    name = f"{project['name']}-{project['version']}-{_tag()}.whl"
    info = _dist_info(project)
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as whl:
        for arcname, path in _files():
            with open(path, "rb") as f:
                data = f.read()
            zi = zipfile.ZipInfo(arcname, date_time=(2026, 1, 1, 0, 0, 0))
            zi.external_attr = (0o755 if arcname.endswith(".so") else 0o644) << 16
            whl.writestr(zi, data, zipfile.ZIP_DEFLATED)
            records.append(_record_line(arcname, data))
        for fname, text in _dist_files(project).items():
            arcname = f"{info}/{fname}"
            data = text.encode("utf-8")
            whl.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append(f"{info}/RECORD,,")
        whl.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    import tarfile
    project = _project()
    base = f"{project['name']}-{project['version']}"
    path = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata(project).encode("utf-8")
        info.size = len(data)
        import io
        tar.addfile(info, io.BytesIO(data))
        for rel in ("pyproject.toml", "README.md", "_build/eventstore_build.py"):
            if os.path.isfile(os.path.join(HERE, rel)):
                tar.add(os.path.join(HERE, rel), arcname=f"{base}/{rel}")
        for arcname, disk in _files():
            tar.add(disk, arcname=f"{base}/{arcname}")
    return base + ".tar.gz"
