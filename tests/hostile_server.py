"""A hostile portal on 127.0.0.1 for the fault suite: one 年报 column whose reports attack the crawler.

Beside two ordinary reports (an HTML report page and a PDF attachment, taken from the sample portals'
generated site with their ground truth) the column lists:

| year | case | what the server does |
|---|---|---|
| 2021 | gzip bomb page | a report page sent with `Content-Encoding: gzip`, 2 MB on the wire, 2 GB decoded; ETag, 304 |
| 2022 | zip bomb attachment | a DOCX whose word/document.xml inflates to 150 MB of paragraphs (200 KB sent) |
| 2015 | zip bomb attachment | a plain .zip whose one member inflates to 1 GB of zeros |
| 2023 | 300 MB body | a PDF attachment of 300 MB (streamed, never held in memory) |
| 2018 | encrypted PDF | an RC4-encrypted PDF that needs a user password |
| 2017 | truncated body | the first half of a PDF, sent without Content-Length, then the connection closed |
| 2016 | NUL/CRLF name | an ordinary PDF report whose Content-Disposition name holds NUL, CR and LF |

Everything is generated at start, bounded (bodies streamed in 1 MB chunks), and served on a loopback
port only; `stop()` shuts the server down. `requests` records (method, path, If-None-Match) per request.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import threading
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from nianbao.sample_portals.server import SITE_DIR
from nianbao.sample_portals.truth import TRUTH_DIR

AGENCY = "某市测试局"
CHUNK = 1024 * 1024
BOMB_DECODED = 2 * 1024**3
BIG_BODY = 300 * 1024 * 1024
ZIP_BOMB_MEMBER = 1024**3
DOCX_PARAGRAPHS = 4_300_000
NASTY_NAME = "2016年\x00报告\r\nX-Injected: 1\r\n.pdf"


def _truth(name: str) -> dict:
    return json.loads((TRUTH_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _site_bytes(truth: dict, role: str) -> bytes:
    url = next(u for u in truth["urls"] if u["role"] == role)
    return (SITE_DIR / url["host"] / url["path"].lstrip("/")).read_bytes()


# ---------------------------------------------------------------------------------------- documents


def gzip_bomb(decoded: int = BOMB_DECODED) -> bytes:
    """A gzip member of `decoded` bytes (an HTML head, then zeros) at deflate's best ratio (~1:1000).

    Each 1 MB of zeros is compressed once after a full flush, which makes the compressed block the
    same wherever it stands; the stream repeats it instead of compressing 2 GB.
    """
    head = "<html><head><title>某市测试局2021年政府信息公开工作年度报告</title></head><body>".encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = b"\x00" * CHUNK
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert again == repeated  # the history does not reach across a full flush of identical input
    count = (decoded - len(head)) // CHUNK
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    size = len(head) + count * CHUNK
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # an empty final block
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first + repeated * count + tail
            + struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


def _zip_member_streamed(archive: zipfile.ZipFile, name: str, chunks) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        for chunk in chunks:
            member.write(chunk)


def docx_bomb(paragraphs: int = DOCX_PARAGRAPHS) -> bytes:
    """A DOCX whose word/document.xml holds `paragraphs` empty-ish paragraphs (~35 bytes each)."""
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>'))
        paragraph = b"<w:p><w:r><w:t>0</w:t></w:r></w:p>"
        per_chunk = CHUNK // len(paragraph)

        def chunks():
            yield f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{ns}"><w:body>'.encode()
            left = paragraphs
            while left > 0:
                n = min(per_chunk, left)
                yield paragraph * n
                left -= n
            yield b"</w:body></w:document>"

        _zip_member_streamed(archive, "word/document.xml", chunks())
    return buffer.getvalue()


def zip_bomb(member: int = ZIP_BOMB_MEMBER) -> bytes:
    """A .zip whose one member inflates to `member` bytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _zip_member_streamed(archive, "2015年报告.pdf", (b"\x00" * CHUNK for _ in range(member // CHUNK)))
    return buffer.getvalue()


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF under the standard security handler (RC4 40-bit, R2) that needs a user password."""
    file_id = hashlib.md5(b"nianbao-hostile").digest()
    permissions = -44
    owner_key = hashlib.md5((owner_password + _PAD)[:32]).digest()[:5]
    o_entry = _rc4(owner_key, (user_password + _PAD)[:32])
    key = hashlib.md5((user_password + _PAD)[:32] + o_entry + struct.pack("<i", permissions) + file_id).digest()[:5]
    u_entry = _rc4(key, _PAD)

    def encrypt(num: int, data: bytes) -> bytes:
        object_key = hashlib.md5(key + struct.pack("<i", num)[:3] + b"\x00\x00").digest()[:10]
        return _rc4(object_key, data)

    content = encrypt(4, b"BT /F1 12 Tf 72 720 Td (2018 annual report) Tj ET")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + o_entry.hex().encode() + b"> /U <" + u_entry.hex().encode()
        + b"> /P %d >>" % permissions,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 6 0 R /ID [<" % (len(objects) + 1) + file_id.hex().encode()
            + b"> <" + file_id.hex().encode() + b">] >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


# ---------------------------------------------------------------------------------------- the site


def _page(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><div class="title"><h1>{title}</h1></div><div class="content">{body}</div></body></html>').encode()


def _detail(year: int, attachment: str, text: str) -> bytes:
    title = f"{AGENCY}{year}年政府信息公开工作年度报告"
    return _page(title, f'<p>发布时间：{year + 1}-01-20</p><p>详见附件。</p>'
                        f'<p>附件：<a href="{attachment}">{text}</a></p>')


class HostilePortal:
    """The hostile portal: `.start()` serves it, `.url` is its column, `.stop()` ends it.

    `cases` maps a case name to its report URL(s); `truth` holds the two ordinary reports' ground truth.
    """

    def __init__(self) -> None:
        self.html_truth = _truth("gbk-hgwjw-2019")
        self.pdf_truth = _truth("jsapp-qkqwjj-2020")
        self.named_truth = _truth("trs-hrbwjw-2024")
        html_report = _site_bytes(self.html_truth, "report_page")
        pdf_report = _site_bytes(self.pdf_truth, "attachment")
        named_pdf = _site_bytes(self.named_truth, "attachment")
        self.bomb = gzip_bomb()
        bomb_etag = '"bomb-' + hashlib.sha1(self.bomb).hexdigest()[:12] + '"'
        # name: (path, title on the list or None, response spec)
        self.routes: dict[str, dict] = {
            "/nb/2019.html": {"body": html_report, "type": "text/html; charset=gbk"},
            "/nb/2020.html": {"body": _detail(2020, "files/2020.pdf", "2020年报告.pdf"), "type": "text/html"},
            "/nb/files/2020.pdf": {"body": pdf_report, "type": "application/pdf", "etag": '"p2020"'},
            "/nb/2021.html": {"body": self.bomb, "type": "text/html; charset=utf-8", "gzip": True,
                              "etag": bomb_etag},
            "/nb/2022.html": {"body": _detail(2022, "files/2022.docx", "2022年报告.docx"), "type": "text/html"},
            "/nb/files/2022.docx": {"body": docx_bomb(), "etag": '"d2022"',
                                    "type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
            "/nb/2015.html": {"body": _detail(2015, "files/2015.zip", "2015年报告.zip"), "type": "text/html"},
            "/nb/files/2015.zip": {"body": zip_bomb(), "type": "application/zip", "etag": '"z2015"'},
            "/nb/2023.html": {"body": _detail(2023, "files/2023.pdf", "2023年报告.pdf"), "type": "text/html"},
            "/nb/files/2023.pdf": {"big": BIG_BODY, "type": "application/pdf"},
            "/nb/2018.html": {"body": _detail(2018, "files/2018.pdf", "2018年报告.pdf"), "type": "text/html"},
            "/nb/files/2018.pdf": {"body": encrypted_pdf(), "type": "application/pdf", "etag": '"e2018"'},
            "/nb/2017.html": {"body": _detail(2017, "files/2017.pdf", "2017年报告.pdf"), "type": "text/html"},
            "/nb/files/2017.pdf": {"body": pdf_report[: len(pdf_report) // 2], "type": "application/pdf",
                                   "close": True},
            "/nb/2016.html": {"body": _detail(2016, "files/download?id=2016", "2016年报告.pdf"), "type": "text/html"},
            "/nb/files/download": {"body": named_pdf, "type": "application/octet-stream", "etag": '"n2016"',
                                   "disposition": "attachment; filename*=UTF-8''" + quote(NASTY_NAME, safe="")},
        }
        titles = {year: f"{AGENCY}{year}年政府信息公开工作年度报告" for year in
                  (2023, 2022, 2021, 2020, 2019, 2018, 2017, 2016, 2015)}
        items = "".join(f'<li><a href="{year}.html" title="{title}">{title}</a><span>{year + 1}-01-20</span></li>'
                        for year, title in titles.items())
        self.routes["/nb/index.html"] = {"body": _page(f"{AGENCY}政府信息公开年报", f"<ul>{items}</ul>"),
                                         "type": "text/html"}
        self.requests: list[tuple[str, str, str | None]] = []
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/nb/index.html"

    def case_url(self, path: str) -> str:
        return f"{self.base}{path}"

    def write_registry(self, path: Path) -> Path:
        path.write_text("id,agency,url,allow_private\n"
                        f"hostile,{AGENCY},{self.url},true\n", encoding="utf-8")
        return path

    def start(self) -> HostilePortal:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
                path = self.path.split("?")[0]
                portal.requests.append(("GET", self.path, self.headers.get("If-None-Match")))
                if path == "/robots.txt":
                    return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                route = portal.routes.get(path)
                if route is None:
                    return self._send(404, b"not found", "text/plain")
                etag = route.get("etag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if "big" in route:
                    return self._send_big(route)
                extra = {}
                if route.get("gzip"):
                    extra["Content-Encoding"] = "gzip"
                if etag:
                    extra["ETag"] = etag
                if route.get("disposition"):
                    extra["Content-Disposition"] = route["disposition"]
                return self._send(200, route["body"], route["type"], extra, close=route.get("close", False))

            def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None,
                      close: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                if close:  # no length: the body ends where the connection does
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for start in range(0, len(body), CHUNK):
                        self.wfile.write(body[start:start + CHUNK])
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _send_big(self, route: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", route["type"])
                self.send_header("Content-Length", str(route["big"]))
                self.end_headers()
                block = b"%PDF-1.4\n" + b"0" * (CHUNK - 9)
                try:
                    sent = 0
                    while sent < route["big"]:
                        piece = block[: route["big"] - sent]
                        self.wfile.write(piece)
                        sent += len(piece)
                        block = b"0" * CHUNK
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> HostilePortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
