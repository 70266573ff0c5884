"""Fixtures for the fetcher tests: deterministic files, archives and git
repositories, and a local HTTP server (127.0.0.1 only) that counts requests.

Used both by gen_expected.py (which asks nix-instantiate for the reference
results) and run_tests.py (which checks straylight against them), so both
see byte-identical inputs."""

import hashlib
import http.server
import io
import os
import subprocess
import tarfile
import threading
import zipfile

MTIME = 1600000000  # every archive entry's mtime (2020-09-13T12:26:40Z)
FILES = {
    "pkg-1.0/README": (b"hello from a tarball\n", 0o644),
    "pkg-1.0/bin/run": (b"#!/bin/sh\necho run\n", 0o755),
    "pkg-1.0/src/a.c": (b"int main(void) { return 0; }\n", 0o644),
}
SYMLINKS = {"pkg-1.0/link": "README"}
DIRS = ["pkg-1.0", "pkg-1.0/bin", "pkg-1.0/src"]


def _tar_bytes(compression):
    buf = io.BytesIO()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for d in DIRS:
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, MTIME
            t.addfile(ti)
        for name, (data, mode) in sorted(FILES.items()):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), mode, MTIME
            t.addfile(ti, io.BytesIO(data))
        for name, target in SYMLINKS.items():
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname, ti.mode, ti.mtime = tarfile.SYMTYPE, target, 0o777, MTIME
            t.addfile(ti)
    data = raw.getvalue()
    if compression == "gz":
        import gzip
        return gzip.compress(data, mtime=0)
    if compression == "xz":
        import lzma
        return lzma.compress(data)
    if compression == "bz2":
        import bz2
        return bz2.compress(data)
    buf.write(data)
    return buf.getvalue()


def _zip_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for d in DIRS:
            zi = zipfile.ZipInfo(d + "/", date_time=(2020, 9, 13, 12, 26, 40))
            zi.external_attr = (0o40755 << 16) | 0x10
            z.writestr(zi, b"")
        for name, (data, mode) in sorted(FILES.items()):
            zi = zipfile.ZipInfo(name, date_time=(2020, 9, 13, 12, 26, 40))
            zi.external_attr = (0o100000 | mode) << 16
            z.writestr(zi, data)
    return buf.getvalue()


def make_files(root):
    """The files the server serves, below root/www."""
    www = os.path.join(root, "www")
    os.makedirs(www, exist_ok=True)
    blobs = {
        "hello.txt": b"hello, fetchers\n",
        "data.bin": bytes(range(256)) * 64,
        "pkg.tar.gz": _tar_bytes("gz"),
        "pkg.tar.xz": _tar_bytes("xz"),
        "pkg.tar.bz2": _tar_bytes("bz2"),
        "pkg.tar": _tar_bytes(None),
        "pkg.zip": _zip_bytes(),
        # gzip magic followed by garbage: a corrupt archive
        "corrupt.tar.gz": b"\x1f\x8b\x08\x00" + b"not really gzip" * 20,
        "notanarchive.tar.gz": b"plain text, no archive at all\n",
    }
    # zstd is not in Python's library: a committed copy of pkg.tar, made
    # with `zstd -19` (same entries, so the same tree as pkg.tar.gz)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pkg.tar.zst"), "rb") as f:
        blobs["pkg.tar.zst"] = f.read()
    for name, data in blobs.items():
        with open(os.path.join(www, name), "wb") as f:
            f.write(data)
    return www


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


def git(repo, *args, date=None):
    env = dict(os.environ)
    env.update({
        "GIT_AUTHOR_NAME": "Fetcher Test", "GIT_AUTHOR_EMAIL": "fetch@example.invalid",
        "GIT_COMMITTER_NAME": "Fetcher Test", "GIT_COMMITTER_EMAIL": "fetch@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": repo, "GIT_CONFIG_GLOBAL": "/dev/null",
    })
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(["git", "-C", repo, *args], env=env, check=True, capture_output=True,
                          timeout=60).stdout.decode().strip()


def make_repo(root):
    """A git repository with three commits on main and one on 'feature'.
    Returns (path, {name: rev})."""
    repo = os.path.join(root, "repo")
    os.makedirs(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "core.autocrlf", "false")

    def write(rel, data, mode=0o644):
        p = os.path.join(repo, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(data)
        os.chmod(p, mode)

    revs = {}
    write("README", "first\n")
    write("bin/tool", "#!/bin/sh\necho tool\n", 0o755)
    os.symlink("README", os.path.join(repo, "link"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one", date="2021-01-01T00:00:00Z")
    revs["one"] = git(repo, "rev-parse", "HEAD")
    write("README", "second\n")
    write("src/main.c", "int main(void) { return 2; }\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "two", date="2021-02-01T00:00:00Z")
    revs["two"] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    write("feature.txt", "feature\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature", date="2021-03-01T00:00:00Z")
    revs["feature"] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    write("README", "third\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "three", date="2021-04-01T00:00:00Z")
    revs["three"] = git(repo, "rev-parse", "HEAD")
    # fetchTree { type = "path"; } reports the newest mtime below the path
    for rel in ("bin/tool", "bin"):
        os.utime(os.path.join(repo, rel), (MTIME, MTIME))
    return repo, revs


def make_dirty_repo(root, repo):
    """A copy of repo with a modified tracked file, a new staged file and an
    untracked one: Nix fetches the tracked files as they are on disk."""
    import shutil
    dirty = os.path.join(root, "dirty")
    shutil.copytree(repo, dirty, symlinks=True)
    with open(os.path.join(dirty, "README"), "w") as f:
        f.write("changed, not committed\n")
    with open(os.path.join(dirty, "staged.txt"), "w") as f:
        f.write("staged\n")
    with open(os.path.join(dirty, "untracked.txt"), "w") as f:
        f.write("not in the index\n")
    git(dirty, "add", "staged.txt")
    return dirty


class Server:
    """http.server on 127.0.0.1, an ephemeral port, in a thread.

    /files/NAME        the file, with an ETag; If-None-Match gives 304
    /redirect/NAME     302 to /files/NAME (twice: /redirect2/ -> /redirect/)
    /truncated         announces 1000 bytes, sends 10, closes
    /stall             announces 1000 bytes, sends 5, then nothing
    /error/CODE        that status with a short body
    anything else      404 (http.server's own page)"""

    def __init__(self, www):
        self.www = www
        self.requests = []   # (method, path, status)
        self.proxied = []    # absolute URLs asked of us as a proxy
        self.stop = threading.Event()   # releases stalled responses
        self.lock = threading.Lock()
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def record(self, status):
                with srv.lock:
                    srv.requests.append((self.command, self.path, status))

            def do_GET(self):
                p = self.path.split("?", 1)[0]
                if p.startswith("http://"):
                    # a proxy request ("GET http://host/path"): serve it
                    # ourselves, so nothing else is ever contacted
                    with srv.lock:
                        srv.proxied.append(self.path)
                    p = "/" + p.split("/", 3)[3]
                if p.startswith("/files/"):
                    fp = os.path.join(srv.www, os.path.basename(p[len("/files/"):]))
                    if not os.path.isfile(fp):
                        self.record(404)
                        return self.send_error(404)
                    with open(fp, "rb") as f:
                        data = f.read()
                    etag = '"' + hashlib.sha1(data).hexdigest() + '"'
                    if self.headers.get("If-None-Match") == etag:
                        self.record(304)
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.record(200)
                    self.send_response(200)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif p.startswith("/redirect/") or p.startswith("/redirect2/"):
                    self.record(302)
                    self.send_response(302)
                    nxt = "/files/" if p.startswith("/redirect/") else "/redirect/"
                    self.send_header("Location", nxt + p.split("/", 2)[2])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif p == "/truncated":
                    self.record(200)
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"0123456789")
                    self.wfile.flush()
                    self.close_connection = True
                elif p == "/stall":
                    self.record(200)
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"01234")
                    self.wfile.flush()
                    srv.stop.wait(30)
                    self.close_connection = True
                elif p.startswith("/error/"):
                    code = int(p[len("/error/"):])
                    self.record(code)
                    body = b"server says no\n"
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.record(404)
                    self.send_error(404)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    def count(self):
        with self.lock:
            return len(self.requests)


def closed_port():
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# The cases both sides evaluate. {P} is the server's port, {REPO} the
# repository, {REV_x} its revisions. Results are compared as printed.
CASES = {
    "fetchurl-plain": 'builtins.fetchurl "http://127.0.0.1:{P}/files/hello.txt"',
    "fetchurl-binary": 'builtins.fetchurl { url = "http://127.0.0.1:{P}/files/data.bin"; }',
    "fetchurl-named": 'builtins.fetchurl { url = "http://127.0.0.1:{P}/files/hello.txt"; name = "greeting"; }',
    "fetchurl-sha256": 'builtins.fetchurl { url = "http://127.0.0.1:{P}/files/hello.txt"; sha256 = "{SHA_hello.txt}"; }',
    "fetchurl-query-named": 'builtins.fetchurl { url = "http://127.0.0.1:{P}/files/hello.txt?x=1"; name = "hello"; }',
    "fetchurl-redirect": 'builtins.fetchurl "http://127.0.0.1:{P}/redirect2/hello.txt"',
    "fetchTarball-gz": 'builtins.fetchTarball "http://127.0.0.1:{P}/files/pkg.tar.gz"',
    "fetchTarball-xz": 'builtins.fetchTarball { url = "http://127.0.0.1:{P}/files/pkg.tar.xz"; }',
    "fetchTarball-bz2": 'builtins.fetchTarball { url = "http://127.0.0.1:{P}/files/pkg.tar.bz2"; name = "pkg"; }',
    "fetchTarball-tar": 'builtins.fetchTarball "http://127.0.0.1:{P}/files/pkg.tar"',
    "fetchTarball-zst": 'builtins.fetchTarball "http://127.0.0.1:{P}/files/pkg.tar.zst"',
    "fetchTarball-zip": 'builtins.fetchTarball "http://127.0.0.1:{P}/files/pkg.zip"',
    "fetchTree-tarball": 'let r = builtins.fetchTree { type = "tarball"; url = "http://127.0.0.1:{P}/files/pkg.tar.gz"; }; '
                         'in [ r.outPath r.narHash ]',
    "fetchGit-head": 'builtins.fetchGit {REPO}',
    "fetchGit-file-url": 'builtins.fetchGit "file://{REPO}"',
    "fetchGit-rev": 'builtins.fetchGit { url = {REPO}; rev = "{REV_one}"; }',
    "fetchGit-ref": 'builtins.fetchGit { url = "{REPO}"; ref = "feature"; }',
    "fetchGit-ref-rev": 'builtins.fetchGit { url = {REPO}; ref = "main"; rev = "{REV_two}"; }',
    "fetchGit-allrefs": 'builtins.fetchGit { url = {REPO}; rev = "{REV_feature}"; allRefs = true; }',
    "fetchGit-name": 'builtins.fetchGit { url = {REPO}; name = "checkout"; }',
    "fetchGit-dirty": 'let r = builtins.fetchGit {DIRTY}; in '
                      '[ r.outPath r.narHash r.rev r.shortRev r.revCount r.lastModified r.lastModifiedDate ]',
    "fetchGit-shallow": 'builtins.fetchGit { url = {REPO}; shallow = true; }',
    "fetchGit-submodules-none": 'builtins.fetchGit { url = {REPO}; submodules = true; rev = "{REV_two}"; }',
    "fetchTree-path": 'builtins.fetchTree { type = "path"; path = "{REPO}/bin"; }',
    "fetchTree-git": 'builtins.fetchTree { type = "git"; url = "file://{REPO}"; rev = "{REV_two}"; }',
}


def substitute(expr, port, repo, revs, shas):
    s = expr.replace("{P}", str(port)).replace("{REPO}", repo).replace("{DIRTY}", os.path.join(os.path.dirname(repo),
                                                                                                "dirty"))
    for k, v in revs.items():
        s = s.replace("{REV_%s}" % k, v)
    for k, v in shas.items():
        s = s.replace("{SHA_%s}" % k, v)
    return s


def nix32(digest):
    """Nix's base-32 (for sha256 arguments written the way users write them)."""
    chars = "0123456789abcdfghijklmnpqrsvwxyz"
    n = len(digest)
    out_len = (n * 8 - 1) // 5 + 1
    out = []
    for i in range(out_len - 1, -1, -1):
        b = i * 5
        j, k = b // 8, b % 8
        c = digest[j] >> k
        if j + 1 < n:
            c |= digest[j + 1] << (8 - k)
        out.append(chars[c & 0x1f])
    return "".join(out)
