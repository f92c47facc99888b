"""The HTML report: one self-contained page (inlined CSS, JavaScript and data) that draws the cluster and
shows per-node facts, traces, reachability and findings, with no network access.

>>> data = collect(cluster, runs)          # doctest: +SKIP
>>> html = page(data)                      # doctest: +SKIP
"""

from cnimodel.render.html.data import Options, TraceRun, collect
from cnimodel.render.html.page import page

__all__ = ["Options", "TraceRun", "collect", "page"]
