"""Tags per supported language, the outline fallback, and classification of files not to parse."""

from __future__ import annotations

import pytest

from harness_ls.context.languages import available, language_for
from harness_ls.context.tags import extract

FIXTURES = {
    "m.py": (
        "class Store:\n    def put(self, key):\n        return helper(key)\n\ndef helper(x):\n    return x\n",
        {"Store", "put", "helper"},
    ),
    "m.js": (
        "class Cart { add(item) { return total(item); } }\nfunction total(x) { return x; }\nconst make = () => 1;\n",
        {"Cart", "add", "total"},
    ),
    "m.ts": (
        "interface Shape { area(): number }\nexport function perimeter(s: Shape): number { return 0 }\nclass Square implements Shape { area() { return 1 } }\n",
        {"Shape", "perimeter", "Square"},
    ),
    "m.tsx": ("export function Button(props: Props) { return <div/> }\n", {"Button"}),
    "m.go": (
        "package m\n\ntype Server struct{}\n\nfunc (s *Server) Serve() error { return nil }\n\nfunc NewServer() *Server { return &Server{} }\n",
        {"Server", "Serve", "NewServer"},
    ),
    "m.rs": (
        "pub struct Parser {}\nimpl Parser {\n    pub fn parse(&self) -> u32 { 0 }\n}\npub trait Visitor { fn visit(&self); }\nfn main() {}\n",
        {"Parser", "parse", "Visitor", "main"},
    ),
    "M.java": (
        "public class Registry {\n  public void register(String n) {}\n  interface Listener { void onEvent(); }\n}\n",
        {"Registry", "register", "Listener"},
    ),
    "m.c": (
        "struct point { int x; };\nint add(int a, int b) { return a + b; }\ntypedef int score_t;\n",
        {"point", "add", "score_t"},
    ),
    "m.cpp": (
        "class Engine {\n public:\n  void start();\n};\nint compute(int x) { return x; }\n",
        {"Engine", "compute"},
    ),
    "m.rb": (
        "module Billing\n  class Invoice\n    def total\n      1\n    end\n  end\nend\n",
        {"Billing", "Invoice", "total"},
    ),
}


def test_all_promised_grammars_load_offline():
    assert set(available()) >= {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "ruby",
    }


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_definitions_are_tagged_per_language(name):
    source, expected = FIXTURES[name]
    tags = extract(name, source.encode())
    assert tags.lang == language_for(name)
    assert not tags.outline and not tags.skip
    names = {d[0] for d in tags.defs}
    assert expected <= names, names
    for d in tags.defs:  # line numbers are 1-based and the signature is that line's text
        assert 1 <= d[1] <= d[2]
        assert d[4] and d[4].split()[0] in source.splitlines()[d[1] - 1]


def test_references_exclude_own_definitions_and_keywords():
    tags = extract("a.py", b"from b import Store\n\ndef run():\n    return Store().put(1)\n")
    assert tags.refs.get("Store") == 2
    assert "run" not in tags.refs and "return" not in tags.refs


def test_outline_fallback_for_markdown_and_unknown_languages():
    md = extract("docs/guide.md", b"# Guide\n\ntext\n\n## Install\n")
    assert md.outline and [d[0] for d in md.defs] == ["Guide", "Install"]
    kt = extract("App.kt", b"class App {\n  fun launch() {}\n}\n")
    assert kt.outline and {d[0] for d in kt.defs} == {"App", "launch"}


def test_binary_minified_and_invalid_utf8_are_classified_not_parsed():
    assert extract("x.py", b"abc\x00def").skip == "binary"
    assert extract("app.js", b"var a=1;" * 2000).skip == "minified"
    assert extract("lib.min.js", b"function a(){}\n").skip == "minified"
    bad = extract("latin.py", "def caf\xe9():\n    pass\n".encode("latin-1"))
    assert bad.lossy and not bad.skip
