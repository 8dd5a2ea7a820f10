"""Archive layer micro-benchmark: CPU per exchange of `ExchangeArchive.archive` (digests, records, gzip,
catalog rows) and of the CDXJ index a crawl writes at its end, over 2,000 generated ~33 KB HTML pages,
no network: `python -m bench.archive`.

Run it from two checkouts (PYTHONPATH=CHECKOUT) to compare versions of archive/; it prints one line.
"""

from __future__ import annotations

import inspect
import random
import shutil
import tempfile
import time

from archive.capture import Exchange, ExchangeArchive
from archive.cdxj import update_indexes

CHARS = "年报政府信息公开工作度告abcdefghij0123456789 "


def main(exchanges: int = 2000) -> float:
    """Archive `exchanges` generated pages; returns CPU ms per exchange (and prints it)."""
    rng = random.Random(1)
    bodies = [("<html><body>" + "".join(rng.choice(CHARS) for _ in range(20000)) + "</body></html>").encode()
              for _ in range(50)]
    work = tempfile.mkdtemp(prefix="nianbao-bench-archive-")
    # the catalog batching of the crawl's defaults, where this version of archive/ has it
    batching = {"batch_rows": 500, "batch_seconds": 1.0} \
        if "batch_rows" in inspect.signature(ExchangeArchive).parameters else {}
    archive = ExchangeArchive(work, "bench", 1 << 30, {"software": "bench"}, **batching)
    start = time.process_time()
    try:
        for i in range(exchanges):
            archive.archive(Exchange(
                url=f"http://example.test/p/{i}.html", method="GET", request_headers=[("Host", "example.test")],
                request_body=b"", status=200, reason="OK",
                response_headers=[("Content-Type", "text/html; charset=utf-8")],
                body=bodies[i % len(bodies)] + str(i).encode(), portal_id="p"))
        archive.close()
        update_indexes(work)  # what the capture middleware does when the crawl closes
        cpu = time.process_time() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per = 1000 * cpu / exchanges
    print(f"{exchanges} exchanges of ~{len(bodies[0]) // 1024} KB: {cpu:.2f} CPU s, {per:.2f} CPU ms per exchange")
    return per


if __name__ == "__main__":
    main()
