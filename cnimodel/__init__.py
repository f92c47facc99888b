"""cnimodel: model Kubernetes container networking the way the real CNI plugins build it."""

__version__ = "0.1.0"
