"""The HTML report: one self-contained page (inlined CSS, JavaScript and data) that draws the cluster and
shows per-node facts, traces, reachability and findings, with no network access.

>>> data = collect(overview(cluster, runs))   # doctest: +SKIP (cnimodel.overview asks the engines)
>>> html = page(data)                      # doctest: +SKIP
"""

from cnimodel.render.html.data import collect
from cnimodel.render.html.page import page

__all__ = ["collect", "page"]
