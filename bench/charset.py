"""Charset decoding cost by page size: deciding (bounded sample) beside the full decode.

    python -m bench.charset [--sizes 0.01,1,10,50]

Prints, per size in MB and page kind, the milliseconds `nianbao.charset.decide` and `decode_bytes`
take; deciding should stay flat as pages grow, only the decode itself growing with the bytes.
"""

from __future__ import annotations

import argparse
import time

from nianbao.charset import decide, decode_bytes

_PARAGRAPH = "<p>本机关收到政府信息公开申请 12 件，予以公开 7 件，部分公开 3 件。镕</p>\n"


def _pages(megabytes: float) -> dict[str, tuple[bytes, str | None]]:
    body = _PARAGRAPH * max(1, int(megabytes * 1_000_000 / len(_PARAGRAPH.encode("gbk"))))
    head = '<html><head><meta charset="gb2312"><title>年度报告</title></head><body>'
    return {
        "GBK, meta gb2312": ((head + body).encode("gbk"), "text/html"),
        "GBK, Latin-1 header": (("<html><body>" + body).encode("gbk"), "text/html; charset=ISO-8859-1"),
        "GBK, undeclared": (("<html><body>" + body).encode("gbk"), None),
        "UTF-8, undeclared": (("<html><body>" + body).encode("utf-8"), None),
    }


def _ms(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> None:
    """Print the table of timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.01,1,10,50", help="page sizes in MB, comma-separated")
    args = parser.parse_args(argv)
    print(f"{'MB':>6}  {'page':<22} {'decide ms':>10} {'decode ms':>10}  encoding (decided by)")
    for size in (float(s) for s in args.sizes.split(",")):
        for name, (data, content_type) in _pages(size).items():
            decided = _ms(lambda: decide(data, content_type))  # noqa: B023 - called at once
            decoded = decode_bytes(data, content_type)
            full = _ms(lambda: decode_bytes(data, content_type))  # noqa: B023
            print(f"{len(data) / 1e6:6.2f}  {name:<22} {decided:10.1f} {full:10.1f}  "
                  f"{decoded.encoding} ({decoded.decided_by})")


if __name__ == "__main__":
    main()
