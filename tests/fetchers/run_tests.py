#!/usr/bin/env python3
"""Fetcher builtins against a local HTTP server and local git repositories.

    run_tests.py FETCH_EVAL EXPECTED_JSON

Results are compared with expected.json (what nix-instantiate printed for
the same inputs, see gen_expected.py); errors, the store's contents after a
failure, the download cache and the fetch log are checked directly. Only
127.0.0.1 is contacted; the server is always stopped."""
import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fxlib  # noqa: E402

FETCH_EVAL = os.path.abspath(sys.argv[1])
EXPECTED = json.load(open(sys.argv[2]))["cases"]
results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, "" if ok else "\n    " + detail.replace("\n", "\n    ")))


class Ctx:
    def __init__(self, root, srv, repo, revs, shas, www):
        self.root, self.srv, self.repo, self.revs, self.shas, self.www = root, srv, repo, revs, shas, www
        self.store = os.path.join(root, "store")
        self.cache = os.path.join(root, "cache")

    def run(self, expr, cache=None, store=None, args=(), env=None):
        e = dict(os.environ)
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
            e.pop(k, None)
        e.update({"XDG_CACHE_HOME": cache or self.cache, "STRAYLIGHT_DOWNLOAD_ATTEMPTS": "1",
                  "TMPDIR": os.path.join(self.root, "tmp")})
        e.update(env or {})
        expr = fxlib.substitute(expr, self.srv.port, self.repo, self.revs, self.shas)
        p = subprocess.run([FETCH_EVAL, *args, "local:" + (store or self.store), expr], env=e,
                           capture_output=True, timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def narinfos(self, store=None):
        return sorted(glob.glob(os.path.join(store or self.store, "*.narinfo")))

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.srv.port, path)


def sri(digest):
    return "sha256-" + base64.b64encode(digest).decode()


def test_reference_cases(c):
    for name, tmpl in sorted(fxlib.CASES.items()):
        args = ("--features", "fetch-tree") if "fetchTree" in tmpl else ()
        rc, out, err = c.run(tmpl, args=args)
        check("nix:" + name, rc == 0 and out == EXPECTED[name],
              "rc=%d\nwant %s got  %s%s" % (rc, EXPECTED[name], out, err))


def test_tarball_last_modified(c):
    # Current Nix reports the newest entry's mtime for tarballs (2.8 did not).
    rc, out, err = c.run('(builtins.fetchTree { type = "tarball"; url = "http://127.0.0.1:{P}/files/pkg.tar.gz"; })'
                         '.lastModified', args=("--features", "fetch-tree"))
    check("tarball-lastModified", rc == 0 and out == "%d\n" % fxlib.MTIME, out + err)


def test_url_forms(c):
    ft = ("--features", "fetch-tree")
    rc, out, err = c.run('(builtins.fetchTree "http://127.0.0.1:{P}/files/pkg.tar.gz").outPath', args=ft)
    check("fetchTree-url-tarball", rc == 0 and out == EXPECTED["fetchTarball-gz"], out + err)
    rc, out, err = c.run('(builtins.fetchTree "git+file://{REPO}?ref=feature").rev', args=ft)
    check("fetchTree-url-git", rc == 0 and out == '"%s"\n' % c.revs["feature"], out + err)
    rc, out, err = c.run('(builtins.fetchTree "git+file://{REPO}?rev={REV_one}&shallow=1").revCount', args=ft)
    check("fetchTree-url-git-shallow", rc == 0 and out == "0\n", out + err)
    rc, out, err = c.run('(builtins.fetchTree "tarball+http://127.0.0.1:{P}/files/pkg.tar.xz").narHash', args=ft)
    check("fetchTree-url-tarball-prefix", rc == 0 and out == '"%s"\n' % EXPECTED_TREE_NAR_SRI[0], out + err)


def test_proxy(c):
    # The server doubles as an HTTP proxy; the host name is never resolved.
    proxy = "http://127.0.0.1:%d" % c.srv.port
    u = "http://fetch-proxy-test.invalid/files/hello.txt"
    rc, out, err = c.run('builtins.fetchurl "%s"' % u, env={"http_proxy": proxy},
                         cache=os.path.join(c.root, "cache-proxy"))
    check("http_proxy-honoured", rc == 0 and out == EXPECTED["fetchurl-plain"] and u in c.srv.proxied, out + err)
    n = len(c.srv.proxied)
    rc, out, err = c.run('builtins.fetchurl "http://127.0.0.1:{P}/files/data.bin"',
                         env={"http_proxy": "http://127.0.0.1:%d" % fxlib.closed_port(), "no_proxy": "127.0.0.1"},
                         cache=os.path.join(c.root, "cache-proxy"))
    check("no_proxy-honoured", rc == 0 and out == EXPECTED["fetchurl-binary"] and len(c.srv.proxied) == n, out + err)


def test_errors(c):
    before = c.narinfos()
    hello = fxlib.sha256_of(os.path.join(c.www, "hello.txt"))
    url = c.url("/files/hello.txt")
    rc, out, err = c.run('builtins.fetchurl { url = "%s"; sha256 = "sha256-%s"; }' % (url, "A" * 43 + "="),
                         cache=os.path.join(c.root, "cache-mismatch"))
    want = ["error: hash mismatch in file downloaded from '%s':" % url,
            "specified: sha256:" + "0" * 52,
            "got:       sha256:" + fxlib.nix32(hello)]
    lines = [ln.strip() for ln in err.splitlines()]
    check("fetchurl-hash-mismatch", rc == 1 and all(w in lines for w in want) and c.narinfos() == before,
          "rc=%d %s" % (rc, err))
    left = glob.glob(os.path.join(c.root, "cache-mismatch", "straylight", "fetch", "*", "*"))
    check("fetchurl-hash-mismatch-no-cache-entry", left == [], repr(left))

    rc, out, err = c.run('builtins.fetchTarball { url = "%s"; sha256 = "%s"; }'
                         % (c.url("/files/pkg.tar.xz"), fxlib.nix32(hashlib.sha256(b"x").digest())))
    check("fetchTarball-hash-mismatch",
          rc == 1 and "hash mismatch in file downloaded from '%s'" % c.url("/files/pkg.tar.xz") in err
          and c.narinfos() == before, "rc=%d %s" % (rc, err))

    rc, out, err = c.run('builtins.fetchurl "%s"' % c.url("/files/missing"))
    check("http-404", rc == 1 and "unable to download '%s': HTTP error 404 ('Not Found')"
          % c.url("/files/missing") in err, err)

    n0 = c.srv.count()
    rc, out, err = c.run('builtins.fetchurl "%s"' % c.url("/error/503"), env={"STRAYLIGHT_DOWNLOAD_ATTEMPTS": "2"})
    check("http-503-retried", rc == 1 and c.srv.count() - n0 == 2 and "HTTP error 503" in err
          and "server says no" in err, "requests=%d %s" % (c.srv.count() - n0, err))

    port = fxlib.closed_port()
    u = "http://127.0.0.1:%d/files/hello.txt" % port
    rc, out, err = c.run('builtins.fetchurl "%s"' % u)
    check("unreachable", rc == 1 and "unable to download '%s': Couldn't connect to server (7)" % u in err, err)

    rc, out, err = c.run('builtins.fetchurl "%s"' % c.url("/truncated"))
    check("truncated", rc == 1 and "unable to download '%s'" % c.url("/truncated") in err
          and "partial file" in err, err)

    rc, out, err = c.run('builtins.fetchurl "%s"' % c.url("/stall"), env={"STRAYLIGHT_STALLED_DOWNLOAD_TIMEOUT": "1"})
    check("stalled", rc == 1 and "unable to download '%s': Timeout was reached (28)" % c.url("/stall") in err, err)

    for name in ("corrupt.tar.gz", "notanarchive.tar.gz"):
        rc, out, err = c.run('builtins.fetchTarball "%s"' % c.url("/files/" + name))
        check("bad-archive:" + name, rc == 1 and "unable to unpack the tarball downloaded from '%s'"
              % c.url("/files/" + name) in err and c.narinfos() == before, err)

    rc, out, err = c.run('builtins.fetchGit { url = {REPO}; rev = "{REV_feature}"; }')
    check("git-rev-not-on-ref", rc == 1 and "Cannot find Git revision '%s' in ref 'HEAD'" % c.revs["feature"] in err,
          err)
    rc, out, err = c.run('builtins.fetchGit { url = {REPO}; ref = "nope"; }')
    check("git-missing-ref", rc == 1 and "'nope'" in err, err)
    rc, out, err = c.run('builtins.fetchGit "%s"' % c.www)
    check("git-not-a-repo", rc == 1 and "is not a git repository" in err, err)

    dirty = os.path.join(c.root, "dirty")
    rc, out, err = c.run('let r = builtins.fetchGit "%s"; in [ r.dirtyRev r.dirtyShortRev ]' % dirty)
    check("git-dirty-current-nix-attrs", rc == 0 and out == '[ "%s-dirty" "%s-dirty" ]\n'
          % (c.revs["three"], c.revs["three"][:7]) and "warning: Git tree '%s' is dirty" % dirty in err, out + err)
    rc, out, err = c.run('builtins.fetchGit { url = "%s"; rev = "{REV_three}"; }' % dirty)
    check("git-dirty-with-rev", rc == 0 and out == EXPECTED["fetchGit-head"], out + err)

    n0 = c.srv.count()
    rc, out, err = c.run('builtins.fetchurl "%s"' % c.url("/files/hello.txt?x=1&y=2"))
    check("invalid-name", rc == 1 and "invalid store path name when fetching URL '%s'" % c.url("/files/hello.txt?x=1&y=2")
          in err and "Please pass an attribute set with 'url' and 'name' attributes to 'fetchurl'" in err
          and c.srv.count() == n0, err)
    ft = ("--features", "fetch-tree")
    rc, out, err = c.run('builtins.fetchTree { type = "file"; url = "file:///x"; owner = -1; }', args=ft)
    check("fetchTree-negative", rc == 1 and "negative value given for 'fetchTree' argument 'owner': -1" in err, err)
    rc, out, err = c.run('builtins.fetchTree "file:./rel.tar.gz"', args=ft)
    check("fetchTree-relative-file", rc == 1 and "tarball 'file:./rel.tar.gz' must use an absolute path. The 'file' "
          "scheme does not support relative paths." in err, err)
    rc, out, err = c.run('builtins.fetchurl { url = "%s"; name = "~x~"; }' % url)
    check("name-illegal-character", rc == 1 and "name '~x~' contains illegal character '~'. Please change the value "
          "for the 'name' attribute passed to 'fetchurl'" in err, err)
    rc, out, err = c.run('builtins.fetchurl "%s"' % url, args=("--pure",))
    check("pure-needs-hash", rc == 1 and "in pure evaluation mode, 'fetchurl' requires a 'sha256' argument" in err, err)
    rc, out, err = c.run('builtins.fetchMercurial "%s"' % url)
    check("fetchMercurial-unsupported", rc == 1 and "not supported" in err, err)
    rc, out, err = c.run('builtins.fetchTree { type = "file"; url = "%s"; }' % url)
    check("fetchTree-needs-feature", rc == 1 and "experimental Nix feature 'fetch-tree' is disabled" in err, err)
    rc, out, err = c.run('builtins.fetchurl { url = "%s"; foo = 1; }' % url)
    check("unsupported-argument", rc == 1 and "unsupported argument 'foo' to 'fetchurl'" in err, err)


def test_cache(c):
    cache = os.path.join(c.root, "cache-reuse")
    store = os.path.join(c.root, "store-cache")
    log = os.path.join(c.root, "log.json")
    hello = fxlib.sha256_of(os.path.join(c.www, "hello.txt"))
    n0 = c.srv.count()
    rc1, out1, err1 = c.run('builtins.fetchurl "http://127.0.0.1:{P}/redirect/hello.txt"', cache=cache, store=store,
                            args=("--log", log))
    n1 = c.srv.count()
    entries = json.load(open(log)) if rc1 == 0 else []
    check("log-first-fetch", rc1 == 0 and n1 - n0 == 2 and len(entries) == 1
          and entries[0]["url"] == c.url("/redirect/hello.txt")
          and entries[0]["finalUrl"] == c.url("/files/hello.txt")
          and entries[0]["sha256"] == sri(hello) and entries[0]["size"] == 16 and not entries[0]["fromCache"],
          "requests=%d %s %s" % (n1 - n0, entries, err1))
    rc2, out2, err2 = c.run('builtins.fetchurl "http://127.0.0.1:{P}/redirect/hello.txt"', cache=cache,
                            store=store, args=("--log", log))
    n2 = c.srv.count()
    entries = json.load(open(log)) if rc2 == 0 else []
    check("cache-reuse-no-request", rc2 == 0 and out2 == out1 and n2 == n1 and len(entries) == 1
          and entries[0]["fromCache"], "requests=%d %s %s" % (n2 - n1, entries, err2))

    rc3, out3, err3 = c.run('builtins.fetchTarball "http://127.0.0.1:{P}/files/pkg.tar.gz"', cache=cache, store=store)
    n3 = c.srv.count()
    rc4, out4, err4 = c.run('builtins.fetchTarball "http://127.0.0.1:{P}/files/pkg.tar.gz"', cache=cache, store=store)
    check("tarball-cache-reuse", rc3 == 0 and out3 == EXPECTED["fetchTarball-gz"] and out4 == out3
          and n3 - n2 == 1 and c.srv.count() == n3, "%s %s %s" % (out4, err3, err4))

    # Expired (TTL 0): revalidated with the ETag; the server answers 304.
    n4 = c.srv.count()
    rc5, out5, err5 = c.run('builtins.fetchurl "http://127.0.0.1:{P}/files/hello.txt"', cache=cache, store=store,
                            env={"STRAYLIGHT_TARBALL_TTL": "0"})
    rc6, out6, err6 = c.run('builtins.fetchurl "http://127.0.0.1:{P}/files/hello.txt"', cache=cache, store=store,
                            env={"STRAYLIGHT_TARBALL_TTL": "0"})
    tail = [r[2] for r in c.srv.requests[n4:]]
    check("etag-revalidation", rc5 == 0 and rc6 == 0 and out6 == EXPECTED["fetchurl-plain"] and tail == [200, 304],
          "statuses=%s %s" % (tail, err6))

    # Locked and already in the store: no request at all, even with an empty cache.
    n5 = c.srv.count()
    rc7, out7, err7 = c.run(fxlib.CASES["fetchurl-sha256"], cache=os.path.join(c.root, "cache-empty"), store=store)
    check("locked-in-store-no-request", rc7 == 0 and out7 == EXPECTED["fetchurl-sha256"] and c.srv.count() == n5,
          "requests=%d %s" % (c.srv.count() - n5, err7))
    rc8, out8, err8 = c.run('builtins.fetchTarball { url = "http://127.0.0.1:{P}/files/pkg.tar.gz"; sha256 = "%s"; }'
                            % ("sha256-" + EXPECTED_TREE_NAR[0]), cache=os.path.join(c.root, "cache-empty2"), store=store)
    check("locked-tarball-in-store-no-request", rc8 == 0 and out8 == EXPECTED["fetchTarball-gz"]
          and c.srv.count() == n5, "requests=%d %s" % (c.srv.count() - n5, err8))


EXPECTED_TREE_NAR = []
EXPECTED_TREE_NAR_SRI = []


def main():
    tree = EXPECTED["fetchTree-tarball"].split('"')
    EXPECTED_TREE_NAR.append(tree[3][len("sha256-"):])
    EXPECTED_TREE_NAR_SRI.append(tree[3])
    root = tempfile.mkdtemp(prefix="straylight-fetchers-")
    try:
        os.makedirs(os.path.join(root, "tmp"))
        www = fxlib.make_files(root)
        repo, revs = fxlib.make_repo(root)
        fxlib.make_dirty_repo(root, repo)
        shas = {n: fxlib.nix32(fxlib.sha256_of(os.path.join(www, n))) for n in os.listdir(www)}
        with fxlib.Server(www) as srv:
            c = Ctx(root, srv, repo, revs, shas, www)
            test_reference_cases(c)
            test_tarball_last_modified(c)
            test_url_forms(c)
            test_proxy(c)
            test_errors(c)
            test_cache(c)
        leftovers = os.listdir(os.path.join(root, "tmp"))
        check("no-temporary-leftovers", leftovers == [], repr(leftovers))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    failed = [n for n, ok in results if not ok]
    print("%d/%d passed" % (len(results) - len(failed), len(results)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
