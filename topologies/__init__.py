"""Example plans people can read and copy, installed as ``cnimodel.topologies`` (cnimodel.examples finds them)."""
