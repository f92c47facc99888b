"""Renderers: they turn answers into text, JSON, ip-route lines, HNS JSON and DOT. They never compute."""
