"""A JSON-RPC client on a unix socket — OVSDB's protocol (RFC 7047) and OVS's unixctl — for the control-plane
harness, and the harness's error."""

from __future__ import annotations

import codecs
import contextlib
import json
import socket
from pathlib import Path
from typing import Any

from cnimodel.plan.errors import Error


class HarnessError(Error):
    """The OVN control plane could not be started or refused a request."""


class JsonRpc:
    """A JSON-RPC client on a unix socket (OVSDB's protocol, RFC 7047, and OVS's unixctl): one call at a time,
    answering the server's ``echo`` probes."""

    def __init__(self, path: Path, timeout: float = 120.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self._buf = ""
        self._dec = json.JSONDecoder()
        self._utf8 = codecs.getincrementaldecoder("utf-8")()  # a chunk may end inside a character
        self._id = 0

    def call(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        self.sock.sendall(json.dumps({"method": method, "params": params, "id": self._id}).encode())
        while True:
            msg = self._next()
            if msg.get("method") == "echo":
                self.sock.sendall(json.dumps({"result": msg.get("params"), "error": None,
                                              "id": msg.get("id")}).encode())
                continue
            if msg.get("id") != self._id:
                continue
            if msg.get("error"):
                raise HarnessError(f"{method} failed: {msg['error']}")
            return msg.get("result")

    def _next(self) -> dict[str, Any]:
        complete = bool(self._buf.strip())
        while True:
            text = self._buf.lstrip()
            # a message ends with "}": try to decode only then (a large reply arrives in many chunks)
            if complete and text.endswith("}"):
                try:
                    obj, end = self._dec.raw_decode(text)
                    self._buf = text[end:]
                    return obj
                except ValueError:
                    pass
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise HarnessError("the server closed the connection")
            self._buf += self._utf8.decode(chunk)
            complete = True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


__all__ = ["HarnessError", "JsonRpc"]
