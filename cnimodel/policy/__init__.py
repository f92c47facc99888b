"""Policy reachability: Kubernetes NetworkPolicy, Calico v3 (tiers, order, Pass, profiles) and
AdminNetworkPolicy/BaselineAdminNetworkPolicy, evaluated on equivalence classes of pods.

>>> from cnimodel.plan import load_plan
>>> r = Reachability.from_plan(load_plan(["plan.yaml"]))          # doctest: +SKIP
>>> r.connection(*r.resolve("x/a"), *r.resolve("y/b")).conns.text()  # doctest: +SKIP
'TCP 80'
"""

from cnimodel.policy.analysis import Connection, Peer, Reachability
from cnimodel.policy.connset import ConnSet
from cnimodel.policy.labelselector import parse_label_selector
from cnimodel.policy.selectors import SelectorError, parse_calico

__all__ = ["ConnSet", "Connection", "Peer", "Reachability", "SelectorError", "parse_calico",
           "parse_label_selector"]
