"""The plan reader's YAML documents (cnimodel/plan/fastyaml.py) are PyYAML's safe load, value for value: held to
``yaml.load_all`` itself on every YAML file of the repository and on the corners of YAML a manifest may use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cnimodel.plan import fastyaml

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(p for p in ROOT.rglob("*.y*ml") if ".git" not in p.parts)
CORNERS = [
    "a: 1\nb: 0x1F\nc: true\nd: 1.5\ne: 2024-01-01\nf: ~\ng: [1, '2', null, .inf]\nh: '0x10'\n",
    "x: &a {k: v}\ny: *a\nz:\n  <<: *a\n  m: 3\n",
    "---\n---\nq: !!binary aGVsbG8=\n...\n",
    "'1': 2\n3: 4\nyes: no\n? !!str 5\n: 6\n",
    "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\nl: |\n  two\n  lines\n",
    "",
]


def _safe(text: str) -> list[object]:
    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


@pytest.mark.parametrize("text", CORNERS)
def test_corners_load_as_pyyaml_loads_them(text: str) -> None:
    got = list(fastyaml.load_all(text))
    assert got == _safe(text) and repr(got) == repr(_safe(text))


def test_an_alias_is_the_same_object() -> None:
    doc = next(fastyaml.load_all("x: &a [1]\ny: *a\n"))
    assert doc["x"] is doc["y"]


def test_every_yaml_file_of_the_repository() -> None:
    assert len(FILES) > 10
    for path in FILES:
        text = path.read_text()
        try:
            want = _safe(text)
        except yaml.YAMLError:
            with pytest.raises(yaml.YAMLError):
                list(fastyaml.load_all(text))
            continue
        assert list(fastyaml.load_all(text)) == want, path


@pytest.mark.parametrize("bad", ["? [1,2]\n: v\n", "a: [1\n", "a: b: c\n", "x: *nowhere\n"])
def test_bad_yaml_raises_yaml_errors_with_their_place(bad: str) -> None:
    with pytest.raises(yaml.YAMLError) as want:
        _safe(bad)
    with pytest.raises(yaml.YAMLError) as got:
        list(fastyaml.load_all(bad))
    assert str(got.value) == str(want.value)
