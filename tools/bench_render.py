#!/usr/bin/env python3
"""Size and load time of the HTML report at scale: generated plans (tools/gen_plan.py) of N nodes and
30 pods per node, rendered with one trace, then opened in headless Chromium (Debian's /usr/bin/chromium
through its chromedriver).

    python tools/bench_render.py --nodes 500 5000

Per size it prints the seconds to load the plan and build the cluster, to collect the report's data, to
write the page; the file size; and, in the browser, the page's own time to drawn (``data-ready``: ms since
navigation started), the wall time of the load, and the time a click on a node takes to show its routes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (before cnimodel: this checkout's code)

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1440,900")


def _gen_plan() -> Any:
    spec = importlib.util.spec_from_file_location("gen_plan", ROOT / "tools" / "gen_plan.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(nodes: int, pods_per_node: int, work: Path, reach: bool) -> tuple[Path, dict[str, float]]:
    from cnimodel.cluster import Cluster
    from cnimodel.overview import Options, TraceRun, overview
    from cnimodel.plan import load_plan
    from cnimodel.render.html import collect, page
    from cnimodel.trace import trace

    plan = work / f"plan-{nodes}.json"
    docs = _gen_plan().generate(nodes, nodes * pods_per_node)
    flat = docs[:-1] + docs[-1]["items"] if docs[-1]["kind"] == "List" else docs  # pods come in a List
    plan.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": flat}))
    times: dict[str, float] = {}
    t = time.perf_counter()
    cluster = Cluster.build(load_plan([plan]))
    times["build"] = time.perf_counter() - t
    src, dst = "ns0000/pod000000", f"ns{(nodes - 1) % 50:04d}/pod{nodes - 1:06d}"
    t = time.perf_counter()
    runs = [TraceRun(src, dst, 80, trace(cluster, src, dst, port=80, both=True))]
    data = collect(overview(cluster, runs, Options(reach=reach, source=str(plan))))
    times["collect"] = time.perf_counter() - t
    t = time.perf_counter()
    out = work / f"report-{nodes}.html"
    out.write_text(page(data), encoding="utf-8")
    times["page"] = time.perf_counter() - t
    return out, times


def browse(html: Path, node: str) -> dict[str, float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='bench-render-')}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=opts)
    try:
        t = time.perf_counter()
        driver.get(html.as_uri())
        ready = None
        while ready is None and time.perf_counter() - t < 300:
            ready = driver.execute_script("return document.documentElement.getAttribute('data-ready')")
            time.sleep(0.02)
        wall = time.perf_counter() - t
        click = driver.execute_script(
            "var t = performance.now(); var id = arguments[0];"
            "var e = Array.from(document.querySelectorAll('[data-id]')).filter(function (x) {"
            " return x.getAttribute('data-id') === id; })[0];"
            "e.dispatchEvent(new MouseEvent('click', {bubbles: true}));"
            "return [performance.now() - t, document.querySelectorAll('#node-section tbody tr').length];",
            f"host:{node}")
        return {"ready_ms": float(ready or "nan"), "wall_s": wall, "click_ms": click[0], "rows": click[1]}
    finally:
        driver.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, nargs="+", default=[500, 5000])
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument("--no-reach", action="store_true", help="leave the reachability matrix out")
    ap.add_argument("--keep", type=Path, help="keep the plans and reports in this directory")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-render-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'nodes':>6} {'pods':>7} {'build s':>8} {'collect s':>9} {'page s':>7} {'size MB':>8} "
          f"{'ready ms':>9} {'load s':>7} {'click ms':>9} {'routes':>7}")
    for n in args.nodes:
        html, t = render(n, args.pods_per_node, work, not args.no_reach)
        b = browse(html, "node00000")
        print(f"{n:>6} {n * args.pods_per_node:>7} {t['build']:>8.1f} {t['collect']:>9.1f} {t['page']:>7.1f} "
              f"{html.stat().st_size / 1e6:>8.1f} {b['ready_ms']:>9.0f} {b['wall_s']:>7.1f} {b['click_ms']:>9.0f} "
              f"{b['rows']:>7}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
