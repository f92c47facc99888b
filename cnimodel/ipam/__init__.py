"""Address allocation: node pod CIDRs (kube-controller-manager's CidrSet) and pod IPs (host-local)."""

from cnimodel.ipam.cidrset import CidrSet
from cnimodel.ipam.engine import Allocation, NodeAllocation, PodAddress, allocate
from cnimodel.ipam.hostlocal import PodRange, host_local_range

__all__ = ["Allocation", "CidrSet", "NodeAllocation", "PodAddress", "PodRange", "allocate",
           "host_local_range"]
