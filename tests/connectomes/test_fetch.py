"""``fetch``: downloads over HTTP (from a loopback server the test runs) and imports,
checksum-verified, atomic: a failure never leaves a file in the cache."""
from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial

import pytest

import connectomes
from connectomes import download as fetch_mod
from connectomes.errors import ChecksumError, ConnectomeError
from connectomes.sources import WINDING2023, DatasetSpec
from larvasim.cli import main


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.startswith("/broken"):
            # promise 100 kB, send 10 kB, hang up
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 10_000)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def testset(monkeypatch, tmp_path):
    """A registered data set whose published checksum is that of a file we make."""
    payload = b"larvasim test payload\n" * 5000
    spec = DatasetSpec(name="testset", filename="data.bin", sha256=hashlib.sha256(payload).hexdigest(),
                       url="http://127.0.0.1:9/never-used", citation="test", doi="none", licence="none")
    monkeypatch.setitem(fetch_mod.FETCHABLE, "testset", spec)
    return spec, payload


def _cache_files(cache):
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def test_download_verified(server, testset, fresh_cache):
    root, base = server
    spec, payload = testset
    (root / "data.bin").write_bytes(payload)
    path = connectomes.fetch("testset", url=f"{base}/data.bin", progress=False)
    assert path == fresh_cache / "testset" / "data.bin"
    assert path.read_bytes() == payload
    assert _cache_files(fresh_cache) == ["testset/data.bin"]


def test_download_wrong_checksum_leaves_nothing(server, testset, fresh_cache):
    root, base = server
    spec, payload = testset
    (root / "data.bin").write_bytes(payload[:-1] + b"?")
    with pytest.raises(ChecksumError, match="does not match the published"):
        connectomes.fetch("testset", url=f"{base}/data.bin", progress=False)
    assert _cache_files(fresh_cache) == []


def test_broken_download_leaves_nothing(server, testset, fresh_cache):
    _, base = server
    with pytest.raises(ConnectomeError, match="could not download|broke off"):
        connectomes.fetch("testset", url=f"{base}/broken", progress=False)
    assert _cache_files(fresh_cache) == []


def test_http_error_is_clear(server, testset, fresh_cache):
    _, base = server
    with pytest.raises(ConnectomeError, match="could not download data.bin .*404.*--from PATH"):
        connectomes.fetch("testset", url=f"{base}/missing.bin", progress=False)
    assert _cache_files(fresh_cache) == []


def test_failed_refetch_keeps_good_copy(server, testset, fresh_cache, tmp_path):
    root, base = server
    spec, payload = testset
    (root / "data.bin").write_bytes(payload)
    good = connectomes.fetch("testset", url=f"{base}/data.bin", progress=False)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"garbage")
    with pytest.raises(ChecksumError):
        connectomes.fetch("testset", source=bad, progress=False)
    assert good.read_bytes() == payload
    assert _cache_files(fresh_cache) == ["testset/data.bin"]


def test_import_local_copy_via_cli(testset, fresh_cache, tmp_path, capsys):
    spec, payload = testset
    src = tmp_path / "copy.bin"
    src.write_bytes(payload)
    assert main(["fetch", "testset", "--from", str(src), "--quiet"]) == 0
    assert "verified and stored" in capsys.readouterr().out
    assert (fresh_cache / "testset" / "data.bin").read_bytes() == payload
    src.write_bytes(b"tampered")
    assert main(["fetch", "testset", "--from", str(src), "--quiet", "--force"]) == 2
    assert "does not match the published" in capsys.readouterr().err


@pytest.mark.realdata
def test_fetch_real_zip_over_http_then_load_from_cache(server, real_data_dir, fresh_cache, monkeypatch):
    root, base = server
    (root / WINDING2023.filename).write_bytes((real_data_dir / "winding2023" / WINDING2023.filename).read_bytes())
    path = connectomes.fetch("winding2023", url=f"{base}/{WINDING2023.filename}", progress=False)
    assert fetch_mod.sha256_file(path) == WINDING2023.sha256
    monkeypatch.delenv("LARVASIM_DATA", raising=False)
    c = connectomes.load("winding2023")
    assert c.provenance["found_via"] == "user cache" and c.n_neurons == 2952
