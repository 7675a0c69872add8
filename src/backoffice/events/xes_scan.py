"""The scan: XES read the way writers lay it out, with array operations over the raw bytes.

It reads `<string key="..." value="..."/>` elements (double quotes, no comments or prefixes
inside the log) a block at a time, while libxml2 checks in a second thread that the document
is well-formed. Anything else raises `NeedsFullParser`, and the reader starts again with the
full parser (`xes_parse`).
"""

from __future__ import annotations

import queue
import re
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.errors import LogFileError
from backoffice.events import arrow_numpy
from backoffice.events.raw import ProgressCallback
from backoffice.events.xes_columns import CODES, EVENT, ID, OTHER, STRING, TRACE, Found, Values
from backoffice.events.xes_parse import classify, parse_stream, xml_parser

_PAD = bytes(16)  # lets the scan read 8-byte windows past the last tag
_OPEN, _CLOSE, _EMPTY = 1, 2, 3  # <a>, </a>, <a/>


class NeedsFullParser(Exception):
    """The scan met XML it does not read; the full parser will."""



class _Cancelled(Exception):
    """The reader stopped listening; the checking thread ends quietly."""


class _NoEvents:
    """A parser target without callbacks: libxml2 checks the document in C, GIL released."""

    def close(self) -> None:
        return None


def scan(path: Path, handle, size: int, progress: ProgressCallback | None) -> Found:
    """Scan the blocks as they come while a thread checks the same text with libxml2."""
    channel: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                channel.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Cancelled

    def check() -> None:
        try:
            parse_stream(path, handle, size, xml_parser(_NoEvents()), lambda *block: put(block))
            put(None)
        except _Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread to raise
            try:
                put(exc)
            except _Cancelled:
                pass

    def next_item() -> object:
        item = channel.get()
        if isinstance(item, BaseException):
            raise item
        return item

    checker = threading.Thread(target=check, name="xes-check", daemon=True)
    checker.start()
    scanner = Scanner()
    try:
        try:
            while (item := next_item()) is not None:
                text, done = item  # type: ignore[misc]
                scanner.feed(text)
                if progress is not None:
                    progress(done, size)
            return scanner.finish()
        except (NeedsFullParser, LogFileError):
            raise
        except Exception:
            # Text the scan could not follow is usually malformed: let the check say where.
            while next_item() is not None:
                pass
            raise
    finally:
        stop.set()
        checker.join()


class Scanner:
    """Follow the XES structure through blocks of text with array operations."""

    def __init__(self) -> None:
        self.carry = b""
        self.root: str | None = None
        self.depth = 0
        self.outer = OTHER  # the last element opened at depth 1 (a trace, or log metadata)
        self.inner = OTHER  # the last element opened at depth 2 (an event, or a nested attribute)
        self.traces = 0
        self.events = 0
        self.event_traces: list[np.ndarray] = []
        self.parts: dict[str, list[Values]] = {"event": [], "trace": []}

    def feed(self, text: bytes) -> None:
        buffer = self.carry + text + _PAD
        end = len(buffer) - len(_PAD)
        start = 0
        if self.root is None:
            start = self._prolog(buffer, end, final=False)
            if start is None:
                self.carry = buffer[:end]
                return
        cut = buffer.rfind(b"<", start, end)  # the last tag may be incomplete: keep it for later
        if cut > start:
            self._segment(buffer, start, cut)
        else:
            cut = start
        self.carry = buffer[cut:end]

    def finish(self) -> Found:
        buffer = self.carry + _PAD
        end = len(buffer) - len(_PAD)
        start = 0
        if self.root is None:
            start = self._prolog(buffer, end, final=True)
        if start < end:
            self._segment(buffer, start, end)

        def joined(kind: str):
            parts = self.parts[kind]
            if not parts:
                empty = pa.nulls(0, pa.string())
                return np.empty(0, np.int64), np.empty(0, np.int8), empty, empty
            return (np.concatenate([part[0] for part in parts]), np.concatenate([part[1] for part in parts]),
                    pa.concat_arrays([part[2] for part in parts]).cast(pa.string()),
                    pa.concat_arrays([part[3] for part in parts]).cast(pa.string()))
        event_traces = np.concatenate(self.event_traces) if self.event_traces else np.empty(0, np.int64)
        return Found(root=self.root, traces=self.traces, event_traces=event_traces,
                      event_attributes=joined("event"), trace_attributes=joined("trace"))

    def _prolog(self, buffer: bytes, end: int, *, final: bool) -> int | None:
        """Skip the XML declaration and comments, read the root tag; None until it is whole."""
        if buffer.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\0" in buffer[:min(4, end)]:
            raise NeedsFullParser  # UTF-16
        position = 3 if buffer.startswith(b"\xef\xbb\xbf") else 0
        while True:
            position = _SPACE.match(buffer, position).end()
            if end - position < 9 and not final:
                return None
            if buffer.startswith(b"<?", position):
                close = buffer.find(b"?>", position, end)
                if close < 0:
                    break
                encoding = _ENCODING.search(buffer, position, close)
                if encoding and encoding.group(1).lower().replace(b"-", b"") != b"utf8":
                    raise NeedsFullParser
                position = close + 2
            elif buffer.startswith(b"<!--", position):
                close = buffer.find(b"-->", position, end)
                if close < 0:
                    break
                position = close + 3
            elif buffer.startswith(b"<", position) and not buffer.startswith(b"<!", position):
                tag = _TAG.match(buffer, position, end)
                if tag is None:
                    break
                name = tag.group(1)
                if b":" in name:
                    raise NeedsFullParser
                self.root = name.decode("utf-8", "replace")
                self.depth = 0 if tag.group(3) else 1
                return tag.end()
            else:
                raise NeedsFullParser  # a DTD, or text before the root: leave it to libxml2
        if final:
            raise NeedsFullParser
        return None

    def _segment(self, buffer: bytes, start: int, stop: int) -> None:
        """Scan complete tags in buffer[start:stop]."""
        raw = np.frombuffer(buffer, dtype=np.uint8)
        windows = np.ndarray((len(buffer) - 8,), dtype="<u8", buffer=buffer, strides=(1,))
        tags = start + np.flatnonzero(raw[start:stop] == 0x3C)
        if not len(tags):
            return
        after = raw[tags + 1]
        if ((after == 0x21) | (after == 0x3F)).any():
            raise NeedsFullParser  # a comment, CDATA or processing instruction inside the log
        quotes = start + np.flatnonzero(raw[start:stop] == 0x22)
        kind, code, spans = _tokens(raw, windows, tags, quotes)
        odd = {}  # tag number -> (key, value) for tags read by the regular expression
        for number in np.flatnonzero(kind == 0):
            kind[number], code[number], key, value = _odd_tag(buffer, int(tags[number]))
            if key is not None:
                odd[int(number)] = (key, value)

        opens = kind == _OPEN
        change = opens.astype(np.int64) - (kind == _CLOSE)
        depth = self.depth + np.cumsum(change) - change
        outer = _last(opens & (depth == 1), code, self.outer)
        inner = _last(opens & (depth == 2), code, self.inner)
        present = kind != _CLOSE
        trace_starts = present & (code == TRACE) & (depth == 1)
        event_starts = present & (code == EVENT) & (depth == 2) & (outer == TRACE)
        trace_number = self.traces - 1 + np.cumsum(trace_starts)
        event_number = self.events - 1 + np.cumsum(event_starts)
        valued = present & (code >= STRING) & (code <= ID) & (outer == TRACE)
        self.event_traces.append(trace_number[event_starts])
        for which, chosen, number in (("event", valued & (depth == 3) & (inner == EVENT), event_number),
                                      ("trace", valued & (depth == 2), trace_number)):
            picked = np.flatnonzero(chosen)
            if len(picked):
                keys, values = _texts(buffer, spans[:, picked], picked, odd)
                self.parts[which].append((number[picked], code[picked].astype(np.int8), keys, values))

        self.depth = int(depth[-1] + change[-1])
        self.outer, self.inner = int(outer[-1]), int(inner[-1])
        self.traces += int(trace_starts.sum())
        self.events += int(event_starts.sum())


_SPACE = re.compile(rb"\s*")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_TAG = re.compile(rb"""<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")
_ATTRIBUTE = re.compile(rb"""([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REFERENCE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _word(text: bytes) -> tuple[np.uint64, np.uint64]:
    """The little-endian 8-byte window that starts with text, and the mask of its bytes."""
    return (np.uint64(int.from_bytes(text.ljust(8, b"\0"), "little")),
            np.uint64((1 << (8 * len(text))) - 1))


# The tags the scan reads by their bytes after "<"; any other shape goes to _odd_tag.
_PLAIN = [(_word(text), kind, code) for text, kind, code in (
    (b"event>", _OPEN, EVENT), (b"event/>", _EMPTY, EVENT),
    (b"trace>", _OPEN, TRACE), (b"trace/>", _EMPTY, TRACE))]
_SLASH, _GT, _EMPTY_END, _SPACED_END = _word(b"/"), _word(b">"), _word(b"/>"), _word(b" />")
_VALUE_WORD = _word(b'" value=')
# Valued attributes start `<string key="`; their first two letters tell the type apart, so
# one table lookup picks the prefix each tag must have, and two masked words compare it.
_GUESS = np.zeros(1 << 16, dtype=np.int8)
_PREFIX_LENGTH = np.zeros(TRACE + 1, dtype=np.int64)
_PREFIX_WORDS = np.zeros((4, TRACE + 1), dtype=np.uint64)  # word, mask, next word, next mask
for _name, _code in CODES.items():
    if STRING <= _code <= ID:
        _prefix = f'{_name} key="'.encode()
        _GUESS[int.from_bytes(_prefix[:2], "little")] = _code
        _PREFIX_LENGTH[_code] = len(_prefix)
        _PREFIX_WORDS[:, _code] = (*_word(_prefix[:8]), *_word(_prefix[8:]))
_LOW_BYTES = np.array([(1 << (8 * count)) - 1 for count in range(9)], dtype=np.uint64)


def _tokens(raw: np.ndarray, windows: np.ndarray, tags: np.ndarray,
            quotes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classify each tag by its bytes: kind (0 when unread), code, and key/value spans."""
    kind = np.zeros(len(tags), dtype=np.int8)
    code = np.zeros(len(tags), dtype=np.int8)
    spans = np.zeros((4, len(tags)), dtype=np.int64)  # key start, key end, value start, value end
    head = windows[tags + 1]
    kind[(head & _SLASH[1]) == _SLASH[0]] = _CLOSE
    for (word, mask), tag_kind, tag_code in _PLAIN:
        chosen = (head & mask) == word
        kind[chosen], code[chosen] = tag_kind, tag_code

    guess = _GUESS[(head & np.uint64(0xFFFF)).astype(np.intp)]
    chosen = np.flatnonzero(guess)
    if not len(chosen) or len(quotes) < 3:
        return kind, code, spans
    guess = guess[chosen]
    words = _PREFIX_WORDS[:, guess]
    good = ((head[chosen] & words[1]) == words[0]) & ((windows[tags[chosen] + 9] & words[3]) == words[2])
    chosen, guess = chosen[good], guess[good]
    key_start = tags[chosen] + 1 + _PREFIX_LENGTH[guess]
    number = np.minimum(np.searchsorted(quotes, key_start), len(quotes) - 3)
    key_end = quotes[number]
    value_end = quotes[number + 2]
    # A double-quoted value holds no double quote, so the next quotes close key and value.
    good = (key_end >= key_start) & ((windows[key_end] & _VALUE_WORD[1]) == _VALUE_WORD[0])
    good &= (raw[key_end + 8] == 0x22) & (quotes[number + 1] == key_end + 8)
    tail = windows[value_end + 1]
    empty = ((tail & _EMPTY_END[1]) == _EMPTY_END[0]) | ((tail & _SPACED_END[1]) == _SPACED_END[0])
    good &= empty | ((tail & _GT[1]) == _GT[0])
    chosen = chosen[good]
    kind[chosen] = np.where(empty[good], _EMPTY, _OPEN)
    code[chosen] = guess[good]
    key_end = key_end[good]
    spans[0, chosen] = key_start[good]
    spans[1, chosen] = key_end
    spans[2, chosen] = key_end + 9
    spans[3, chosen] = value_end[good]
    return kind, code, spans


def _odd_tag(buffer: bytes, position: int) -> tuple[int, int, str | None, str | None]:
    """Read one tag of another shape with a regular expression: kind, code, key, value."""
    tag = _TAG.match(buffer, position)
    if tag is None or b":" in tag.group(1):
        raise NeedsFullParser
    attributes = {match.group(1).decode(): _attribute_text(match.group(2) if match.group(2) is not None
                                                           else match.group(3))
                  for match in _ATTRIBUTE.finditer(tag.group(2))}
    code, key, value = classify(tag.group(1).decode(), attributes)
    return (_EMPTY if tag.group(3) else _OPEN), code, key, value


def _attribute_text(raw: bytes) -> str:
    """Decode an attribute value as an XML parser does: line ends, whitespace, references."""
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").translate(_WHITESPACE).decode("utf-8")
    if "&" not in text:
        return text
    return _REFERENCE.sub(lambda ref: _NAMED.get(ref.group(1)) or chr(
        int(ref.group(1)[2:], 16) if ref.group(1)[1] == "x" else int(ref.group(1)[1:])), text)


_WHITESPACE = bytes.maketrans(b"\t\n", b"  ")


def _last(opened: np.ndarray, code: np.ndarray, before: int) -> np.ndarray:
    """For each tag, the code of the latest tag marked opened up to it (else before)."""
    latest = np.where(opened, np.arange(len(code)), -1)
    np.maximum.accumulate(latest, out=latest)
    return np.where(latest >= 0, code[latest], before)


def _texts(buffer: bytes, spans: np.ndarray, picked: np.ndarray,
           odd: dict[int, tuple[str, str]]) -> tuple[pa.Array, pa.Array]:
    """Build binary arrays of the keys and values, decoding the few that need it in Python."""
    keys = _views(buffer, spans[0], spans[1]).cast(pa.binary())
    values = _views(buffer, spans[2], spans[3]).cast(pa.binary())
    redo = _needs_decoding(keys) | _needs_decoding(values)
    if odd:
        numbers = np.fromiter(odd, dtype=np.int64)
        where = np.minimum(np.searchsorted(picked, numbers), len(picked) - 1)
        redo[where[picked[where] == numbers]] = True
    if not redo.any():
        return keys, values
    fixed: tuple[list[bytes], list[bytes]] = ([], [])
    for index in np.flatnonzero(redo):
        number = int(picked[index])
        key, value = odd[number] if number in odd else (
            _attribute_text(buffer[spans[0, index]:spans[1, index]]),
            _attribute_text(buffer[spans[2, index]:spans[3, index]]))
        fixed[0].append(key.encode())
        fixed[1].append(value.encode())
    mask = arrow_numpy.arrow(redo)
    return (pc.replace_with_mask(keys, mask, pa.array(fixed[0], pa.binary())),
            pc.replace_with_mask(values, mask, pa.array(fixed[1], pa.binary())))


def _needs_decoding(texts: pa.Array) -> np.ndarray:
    """Mark the texts holding a reference (&) or a raw tab or line end."""
    marked = np.zeros(len(texts), dtype=bool)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=len(texts) + 1)
    if texts.buffers()[2] is None or not offsets[-1]:
        return marked
    data = np.frombuffer(texts.buffers()[2], dtype=np.uint8, count=int(offsets[-1]))
    hits = np.flatnonzero((data == 0x26) | (data == 0x09) | (data == 0x0A) | (data == 0x0D))
    marked[np.searchsorted(offsets, hits, side="right") - 1] = True
    return marked


def _views(buffer: bytes, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """Make a binary_view array over buffer's bytes without copying them.

    A view is 16 bytes: the length, then up to 12 bytes inline, or for longer values the first
    4 bytes, the buffer number (0) and the offset (Arrow's columnar format, "view layout").
    """
    length = ends - starts
    windows = np.ndarray((len(buffer) - 8,), dtype="<u8", buffer=buffer, strides=(1,))
    views = np.empty((len(starts), 2), dtype=np.uint64)
    views[:, 0] = length.astype(np.uint64) | (
        (windows[starts] & _LOW_BYTES[np.minimum(length, 4)]) << np.uint64(32))
    inline = windows[starts + 4] & _LOW_BYTES[np.clip(length - 4, 0, 8)]
    views[:, 1] = np.where(length <= 12, inline, starts.astype(np.uint64) << np.uint64(32))
    return pa.Array.from_buffers(pa.binary_view(), len(starts), [None, pa.py_buffer(views), pa.py_buffer(buffer)])
