"""The full XES parser (lxml with a Python target) and the byte stream both parsers read.

The file is read in blocks and gzip members are inflated as they come (a damaged stream is
named as such, not as bad XML); libxml2 is fed block by block and never builds a tree. The
full parser reads any well-formed XES; the scan (`xes_scan`) hands it what it does not expect.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
from lxml import etree

from backoffice.errors import MalformedXml, TruncatedGzip
from backoffice.events.raw import ProgressCallback
from backoffice.events.xes_columns import CODES, EVENT, ID, OTHER, STRING, TRACE, Found

_BLOCK = 1 << 20  # bytes read from disk between progress calls
_INFLATE_LIMIT = 32 << 20  # most text one block may inflate to, so a gzip bomb stays in bounds
_FEED = 1 << 20  # libxml2 refuses huge single inputs without XML_PARSE_HUGE, which we keep off


def _blocks(path: Path, handle, size: int) -> Iterator[tuple[bytes, int]]:
    """Yield (XML text, bytes read from disk so far), inflating gzip members as they come."""
    data = handle.read(_BLOCK)
    done = len(data)
    if not data.startswith(b"\x1f\x8b"):
        while data:
            yield data, done
            data = handle.read(_BLOCK)
            done += len(data)
        return
    inflater = zlib.decompressobj(wbits=31)
    try:
        while True:
            if inflater.eof:
                # After a member: more members, zero padding (as gzip tolerates), or damage.
                data = data.lstrip(b"\0")
                if len(data) < 2 and done < size:
                    more = handle.read(_BLOCK)
                    done += len(more)
                    data += more
                    continue
                if not data:
                    return
                if not data.startswith(b"\x1f\x8b"):
                    raise TruncatedGzip(path, "unexpected bytes after the end of the compressed data")
                inflater = zlib.decompressobj(wbits=31)
            if not data:
                data = handle.read(_BLOCK)
                done += len(data)
                if not data:
                    raise TruncatedGzip(path, "the compressed data ends before the end of the gzip stream")
            text = inflater.decompress(data, _INFLATE_LIMIT)
            data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            if text:
                yield text, done
    except zlib.error as exc:
        raise TruncatedGzip(path, str(exc)) from exc


def parse_stream(path: Path, handle, size: int, parser: etree.XMLParser,
                  each_block: Callable[[bytes, int], None]) -> object:
    """Feed the whole file to a libxml2 parser, handing each block on once it has read it."""
    blocks = _blocks(path, handle, size)
    try:
        for text, done in blocks:
            for start in range(0, len(text), _FEED):
                parser.feed(text[start:start + _FEED])
            each_block(text, done)
        return parser.close()
    except etree.XMLSyntaxError as exc:
        # A damaged gzip stream often shows first as bad XML: read on to name the real cause.
        for _ in blocks:
            pass
        line, column = exc.position
        detail = re.sub(r", line \d+, column \d+$", "", exc.msg or "not well-formed")
        raise MalformedXml(path, line=line or None, column=column or None, detail=detail) from exc


def xml_parser(target: object) -> etree.XMLParser:
    # No external DTD or entity, no network: an event log needs none, and each is an attack.
    # Internal entities only ("internal"; False would hand a Python target "&#38;" for "&amp;").
    return etree.XMLParser(target=target, resolve_entities="internal", no_network=True, load_dtd=False)


class Collector:
    """An lxml parser target that keeps what the scan keeps, for any well-formed XES."""

    def __init__(self) -> None:
        self.stack: list[int] = []
        self.root: str | None = None
        self.traces = 0
        self.event_traces: list[int] = []
        self.found: dict[str, tuple[list[int], list[int], list[str], list[str]]] = {
            "event": ([], [], [], []), "trace": ([], [], [], [])}  # as in Values

    def start(self, tag: str, attrib) -> None:
        name = tag.rpartition("}")[2]
        depth = len(self.stack)
        code, key, value = classify(name, attrib)
        self.stack.append(code)
        if depth == 0:
            self.root = name
        elif depth == 1:
            self.traces += code == TRACE
        elif self.stack[1] != TRACE:
            return
        elif depth == 2 and code == EVENT:
            self.event_traces.append(self.traces - 1)
        elif key is not None and (depth == 2 or (depth == 3 and self.stack[2] == EVENT)):
            which = self.found["trace" if depth == 2 else "event"]
            which[0].append(self.traces - 1 if depth == 2 else len(self.event_traces) - 1)
            which[1].append(code)
            which[2].append(key)
            which[3].append(value)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def close(self) -> Found:
        def arrays(kind: str):
            row, code, key, value = self.found[kind]
            return (np.array(row, dtype=np.int64), np.array(code, dtype=np.int8),
                    pa.array(key, pa.string()), pa.array(value, pa.string()))
        return Found(root=self.root, traces=self.traces,
                      event_traces=np.array(self.event_traces, dtype=np.int64),
                      event_attributes=arrays("event"), trace_attributes=arrays("trace"))


def classify(name: str, attributes) -> tuple[int, str | None, str | None]:
    """Return an element's code, and its key and value when it is a valued XES attribute."""
    code = CODES.get(name, OTHER)
    if STRING <= code <= ID:
        key, value = attributes.get("key"), attributes.get("value")
        if key is None or value is None:
            return OTHER, None, None  # a list, or an attribute without a value: nothing to show
        return code, key, value
    return code, None, None


def parse_fully(path: Path, handle, size: int, progress: ProgressCallback | None) -> Found:
    def report(_text: bytes, done: int) -> None:
        if progress is not None:
            progress(done, size)
    return parse_stream(path, handle, size, xml_parser(Collector()), report)  # type: ignore[return-value]
