"""The results table: markdown (bench/results/latest.md) from the JSON a run of bench.run produced."""

from __future__ import annotations


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mb(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.1f} MB"


def _memory_note(mem: dict) -> str:
    if mem.get("complete"):
        return ""
    if mem.get("scrapy_finish_reason") == "closespider_timeout":
        return " (stopped at the window)"
    return f" (the crawl ended: {mem.get('scrapy_finish_reason')})"


def goals(results: dict) -> list[dict]:
    """Each target of the project with its figure and whether this run met it (None: not measured)."""
    out = []
    crawl = results.get("crawl") or {}
    ratio = {r["latency_ms"]: r for r in crawl.get("ratios", [])}
    r0, r100 = ratio.get(0.0, {}), ratio.get(100.0, {})

    def add(goal: str, figure, met, note: str = "") -> None:
        out.append({"goal": goal, "figure": figure, "met": met, "note": note})

    cost = results.get("cost") or {}
    summary, margin = cost.get("summary") or {}, cost.get("marginal") or {}

    def median_ratio(figures: dict, a: str, b: str) -> float | None:
        if a in figures and b in figures and figures[b].get("median"):
            return figures[a]["median"] / figures[b]["median"]
        return None

    # the repeated CPU-cost crawls, when this run has them, else the single crawl's ratio
    whole, at_margin = median_ratio(summary, "nianbao", "scrapy"), median_ratio(margin, "nianbao", "scrapy")
    v = whole if whole is not None else r0.get("cpu_per_page_vs_scrapy")
    figure = None if v is None else f"{(v - 1) * 100:+.0f} %"
    if figure and at_margin is not None:
        figure += f" (whole crawl, median); {(at_margin - 1) * 100:+.0f} % at the margin"
    add("WARC capture costs ≤ 10 % more CPU per page than plain Scrapy (0 ms)", figure,
        None if v is None else v <= 1.10)
    v = r100.get("pages_per_s_vs_wget")
    add("At 100 ms latency, ≥ 5× wget's pages/s (per-host politeness kept)",
        None if v is None else f"{v:.1f}×", None if v is None else v >= 5)
    whole, at_margin = median_ratio(summary, "nianbao", "wget"), median_ratio(margin, "nianbao", "wget")
    floor = median_ratio(summary, "floor8", "wget")
    v = whole if whole is not None else r0.get("cpu_per_page_vs_wget")
    figure = None if v is None else f"{v:.1f}×"
    if figure and at_margin is not None:
        figure += f" (whole crawl, median); {at_margin:.1f}× at the margin"
    note = "" if floor is None else f"plain Scrapy alone: {floor:.1f}×"
    add("At 0 ms latency, CPU per page within 2× of wget", figure, None if v is None else v <= 2, note)
    mem = results.get("memory") or {}
    if mem.get("peak_rss_mb") is not None:
        tree = mem.get("peak_tree_rss_mb") or mem["peak_rss_mb"]
        add("Peak RSS < 400 MB over the 50,000-page crawl (crawler and its child processes)",
            f"{tree:.0f} MB in all; crawler process {mem['peak_rss_mb']:.0f} MB ({_fmt(mem.get('pages'))} pages)",
            tree < 400)
        add("RSS flat after warm-up", f"{mem.get('steady_growth_mb')} MB growth after warm-up", mem.get("flat"))
    else:
        add("Peak RSS < 400 MB over the 50,000-page crawl, flat after warm-up", None, None)
    targets = {"html": 200, "pdf": 10, "docx": 100}
    for row in (results.get("parse") or {}).get("types", []):
        if row["type"] in targets:
            v = row.get("nianbao_reports_per_s_core")
            add(f"Parse {row['type'].upper()} ≥ {targets[row['type']]} reports/s/core", _fmt(v),
                None if v is None else v >= targets[row["type"]])
    for row in (results.get("parse") or {}).get("types", []):
        right, total = row.get("nianbao_nonblank_right"), row.get("nianbao_nonblank_total")
        found, btotal = row.get("baseline_found"), row.get("baseline_total")
        if right is None or not total:
            continue
        ours = right / total
        if found is None or not btotal:
            add(f"Parse {row['type']} at least as accurate as the baseline", f"{ours:.1%} (no baseline)", None)
        else:
            theirs = found / btotal
            add(f"Parse {row['type']} at least as accurate as the baseline", f"{ours:.1%} vs {theirs:.1%}",
                ours >= theirs)
    return out


def markdown(results: dict) -> str:
    """The whole results page."""
    m = results["machine"]
    lines = [
        "# nianbao benchmark results",
        "",
        f"Run {results['started']} → {results['finished']} with `{results['command']}`.",
        "",
        f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, {m['memory_gb']} GB RAM; {m['os']}; "
        f"Python {m['python']}; {m['wget']}; load average at start {m['load_average_at_start']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        "",
        "## Goals",
        "",
        "| goal | figure | met |",
        "|---|---|---|",
    ]
    for g in goals(results):
        met = {True: "**met**", False: "**not met**", None: "not measured"}[g["met"]]
        figure = _fmt(g["figure"]) + (f" ({g['note']})" if g.get("note") else "")
        lines.append(f"| {g['goal']} | {figure} | {met} |")
    carried = results.get("carried_from") or {}
    if carried:
        lines += ["", "Figures kept from earlier runs (this run left them out): "
                  + ", ".join(f"{name} ({when})" for name, when in carried.items()) + "."]
    crawl = results.get("crawl")
    if crawl:
        lines += [
            "",
            f"## Crawl + archive ({crawl['hosts']} portals × {crawl['items_per_host']} reports, "
            "one connection per portal, no delay)",
            "",
            "| tool | latency | pages | complete | wall s | pages/s | CPU s | CPU s / 1000 pages | peak RSS MB "
            "(process / with children) | bytes written | WARC bytes |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in crawl["runs"]:
            if "error" in r:
                lines.append(f"| {r['tool']} | {r['latency_ms']:g} ms | failed: {r['error']} |||||||||")
                continue
            complete = "yes" if r["complete"] else (f"window {r['window_s']:g} s" if r.get("window_s") else "no")
            lines.append(
                f"| {r['label']} | {r['latency_ms']:g} ms | {_fmt(r['pages'])} | {complete} | {_fmt(r['wall_s'])} | "
                f"{_fmt(r['pages_per_s'])} | {_fmt(r['cpu_s'])} | {_fmt(r['cpu_s_per_1000_pages'], 2)} | "
                f"{_fmt(r['peak_rss_mb'])} / {_fmt(r.get('peak_tree_rss_mb'))} | {_mb(r['bytes_written'])} | "
                f"{_mb(r['warc_bytes'])} |")
        lines += ["", "| latency | pages/s vs (b) | CPU/page vs (b) | pages/s vs (c) wget | CPU/page vs (c) wget | "
                  "peak RSS vs (c) |", "|---|---|---|---|---|---|"]
        for r in crawl["ratios"]:
            lines.append(f"| {r['latency_ms']:g} ms | {_fmt(r.get('pages_per_s_vs_scrapy'), 2)} | "
                         f"{_fmt(r.get('cpu_per_page_vs_scrapy'), 2)} | {_fmt(r.get('pages_per_s_vs_wget'), 2)} | "
                         f"{_fmt(r.get('cpu_per_page_vs_wget'), 2)} | {_fmt(r.get('rss_vs_wget'), 2)} |")
        lines += ["", "Pages are counted by the server (responses sent, robots.txt included). wget is sequential "
                  "(one connection for all portals, its only mode), Scrapy keeps one connection per portal. At "
                  "latency > 0 every tool runs for the same fixed window and rates are compared; at 0 ms a run "
                  "still going at the 0 ms window is stopped (\"complete\" says which). wget's bytes written "
                  "include its mirror copy of every file beside the WARC; nianbao's include the catalog and "
                  "CDXJ indexes."]
    cost = results.get("cost")
    if cost and "runs" in cost:
        from bench.crawl_cost import marginal_table, table

        lines += ["", f"## CPU per page, repeated ({cost['hosts']} portals, 0 ms, repeats: {cost['repeats']}, "
                  "the tools taking turns)", "", f"Whole crawls of {max(cost['pages']):,} pages, start-up included:",
                  "", table(cost["summary"])]
        if cost.get("marginal"):
            lines += ["", "At the margin (start-up left out):", "", marginal_table(cost["marginal"], cost["pages"])]
    elif cost:
        lines += ["", f"## CPU per page, repeated: failed: {cost.get('error')}"]
    cluster = results.get("cluster")
    if cluster and "runs" in cluster:
        from bench.distributed import markdown as cluster_markdown

        lines += ["", "## More than one machine (workers on one Redis frontier, all on this machine)", "",
                  cluster_markdown(cluster), "",
                  f"All workers share this machine's {cluster['cpus']} CPUs: beyond that many, workers compete "
                  "for the processor rather than wait on the portals' latency."]
    elif cluster:
        lines += ["", f"## More than one machine: failed: {cluster.get('error')}"]
    mem = results.get("memory")
    if mem:
        curve = ", ".join(f"{t:.0f}s:{mb:.0f}" for t, mb in mem.get("rss_curve", [])[:: max(1, len(mem.get("rss_curve", [])) // 15)])
        lines += [
            "", "## Memory over time (nianbao, full archive, 0 ms)", "",
            f"{_fmt(mem.get('pages'))} of {_fmt(mem.get('expected_pages'))} pages"
            f"{_memory_note(mem)} in {_fmt(mem.get('wall_s'))} s ({_fmt(mem.get('pages_per_s'))} pages/s); "
            f"peak RSS {_fmt(mem.get('peak_rss_mb'))} MB for the crawler process, "
            f"{_fmt(mem.get('peak_tree_rss_mb'))} MB with its child processes; after warm-up ({_fmt(mem.get('warm_up_end_s'))} s) RSS went "
            f"from {_fmt(mem.get('steady_start_mb'))} to {_fmt(mem.get('steady_end_mb'))} MB "
            f"(flat: {mem.get('flat')}).", "", f"RSS curve, crawler with child processes (s:MB): {curve}",
        ]
    parse = results.get("parse")
    if parse:
        lines += [
            "", f"## Parse (documents: {parse['documents_from']})", "",
            "| type | docs | nianbao reports/s/core | nianbao cells right (non-blank) | nianbao cells right (all) | "
            "baseline | baseline reports/s/core | baseline values found |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in parse["types"]:
            ours = (f"{r['nianbao_nonblank_right']}/{r['nianbao_nonblank_total']}"
                    if "nianbao_nonblank_right" in r else r.get("nianbao_error", "—"))
            allc = f"{r['nianbao_cells_right']}/{r['nianbao_cells_total']}" if "nianbao_cells_right" in r else "—"
            base = f"{r['baseline_found']}/{r['baseline_total']}" if "baseline_found" in r else "—"
            lines.append(f"| {r['type']} | {r['documents']} | {_fmt(r.get('nianbao_reports_per_s_core'), 2)} | {ours} | "
                         f"{allc} | {r.get('baseline', 'none')} | {_fmt(r.get('baseline_reports_per_s_core'), 2)} | "
                         f"{base} |")
        lines += ["", "The baseline is credited with a cell when its value appears anywhere in the tables it "
                  "extracted; nianbao only when the value sits under the right canonical key."]
    cat = results.get("catalog")
    if cat:
        sizes = cat["sizes"]
        lines += ["", "## Catalog (canned queries; median ms, raw SQL / through Datasette)", "",
                  "| query | " + " | ".join(f"{s['reports']:,} reports" for s in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        for label in sizes[0]["queries"]:
            cells = []
            for s in sizes:
                q = s["queries"].get(label, {})
                sql = _fmt(q.get("sql_ms")) if q.get("sql_ms") is not None else q.get("sql_error", "—")
                cells.append(f"{sql} / {_fmt(q.get('datasette_ms'))}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("| file size | " + " | ".join(f"{s['file_mb']:,.1f} MB ({s['cells']:,} cells)" for s in sizes) + " |")
        lines.append("| build (record API, cumulative) | " + " | ".join(f"{s['build_s']} s" for s in sizes) + " |")
    prof = results.get("profile")
    if prof:
        lines += ["", "## Profile hot spots (pyinstrument; shares of busy time, idle event-loop waits left out)"]
        for name, p in prof.items():
            if "error" in p:
                lines += ["", f"{name}: {p['error']}"]
                continue
            if "what_if" in p:
                lines += ["", f"**{name}** (the top crawl hot spot of the first profile, fixed since: before and after):", "",
                          "| crawl | pages | wall s | pages/s | CPU s / 1000 pages |", "|---|---|---|---|---|"]
                lines += [f"| {k} | {_fmt(v['pages'])} | {_fmt(v['wall_s'])} | {_fmt(v['pages_per_s'])} | "
                          f"{_fmt(v['cpu_s_per_1000_pages'], 2)} |" for k, v in p["what_if"].items()]
                continue
            lines += ["", f"**{name}** — busy {p.get('busy_s')} s of {p.get('wall_s')} s wall.", "",
                      "| project module (inclusive) | share |", "|---|---|"]
            lines += [f"| {x['module']} | {x['share']:.0%} |" for x in p.get("modules", [])[:8]]
            lines += ["", "| function (self time) | share | under (nearest project function) |", "|---|---|---|"]
            for x in p.get("functions", [])[:10]:
                callers = ", ".join(f"{c['caller']} {c['share']:.0%}" for c in x.get("project_callers", []))
                lines.append(f"| {x['function']} | {x['share']:.0%} | {callers} |")
    return "\n".join(lines) + "\n"
