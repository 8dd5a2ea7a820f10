"""The one charset decoder: bytes a portal sent → text, the encoding used, and how it was decided.

The crawler (`crawler/charset.py`, on Scrapy responses), the parser's readers (`readers/html.py`,
`readers/text.py`) and the type sniffer (`parse/sniff.py`) all decode through `decode_bytes` or `sniff`,
so a page reads the same in the crawl as in the parser stage. Pure Python: no Scrapy import.

Order of evidence — the first that fits the bytes decides:

1. a byte-order mark (UTF-8, UTF-16, UTF-32, GB18030): it is part of the bytes, so it always wins;
2. the HTTP Content-Type ``charset``;
3. the document's own declaration: ``<meta charset>`` / ``<meta http-equiv … content="…charset=…">`` or
   ``<?xml … encoding="…"?>``, searched in the first `DECLARATION_BYTES`;
4. sniffing: UTF-8 if the bytes are valid UTF-8, else GB18030 or Big5-HKSCS by which of them reads as
   common Chinese, else charset-normalizer's guess; when nothing reads the bytes cleanly, the least bad
   declaration, else GB18030 (`fallback`), with the replacement characters counted.

Names are mapped as browsers do: GB2312, GBK, CP936 (and their aliases) are decoded as GB18030, their
superset — GB2312-labelled pages routinely hold GBK characters; Big5 as Big5-HKSCS; ISO-8859-1 and
ASCII as windows-1252. A declaration "fits" when it decodes the sample without more than
`MAX_BAD_SHARE` replacement characters; a declared Latin-1/windows-1252/ASCII on bytes that sniff as
UTF-8, GB18030 or Big5 with Chinese text is a CMS or server default, not the truth, and is overruled;
so is a legacy declaration on bytes that are valid UTF-8 with non-ASCII text. Every declaration that
names another charset than the one used is kept in `Decoded.overruled`, and `Decoded.notes()` says so
in words for the crawl log and the reader's warnings: a mislabelled page is never repaired silently.

Checking declarations and sniffing look at a sample of at most `SAMPLE_BYTES`, taken from the first
non-ASCII byte (ASCII reads alike in every candidate, and portal pages often open with long ASCII
scripts), so the cost of deciding does not grow with the document; only the final decode reads it all.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

# A page's own declaration is looked for this far into it (long <head>s of portal CMSs included).
DECLARATION_BYTES = 8192
# Deciding reads at most this many bytes from the first non-ASCII one.
SAMPLE_BYTES = 64 * 1024
# A declaration still fits with this share of undecodable characters (a stray bad byte in a real page).
MAX_BAD_SHARE = 0.001
# A sniffed candidate is accepted with at most this share (a page with a few corrupt bytes still reads).
MAX_SNIFF_BAD_SHARE = 0.01

# Label → the codec that decodes what pages so labelled actually hold.
_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030",
    "gb_2312-80": "gb18030", "gb_2312": "gb18030", "csgb2312": "gb18030", "chinese": "gb18030",
    "iso-ir-58": "gb18030", "euc-cn": "gb18030", "euc_cn": "gb18030", "x-euc-cn": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "cn-big5": "big5hkscs", "x-x-big5": "big5hkscs",
    "csbig5": "big5hkscs", "cp950": "big5hkscs",
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "l1": "cp1252",
    "ascii": "cp1252", "us-ascii": "cp1252", "windows-1252": "cp1252", "cp1252": "cp1252",
    "x-user-defined": "cp1252", "cp819": "cp1252", "ibm819": "cp1252",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8",
}
# Codec names (after codecs.lookup) that are decoded as a superset.
_CODEC_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "iso8859-1": "cp1252",
                    "ascii": "cp1252", "latin-1": "cp1252"}
_LATIN = {"cp1252"}
_WIDE = {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (b"\x84\x31\x95\x33", "gb18030"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s;"',]+)""", re.IGNORECASE)
# Any meta tag carrying charset=…: <meta charset>, http-equiv in any spelling (real pages write
# `httpequiv="ContentType"` or leave it unquoted), with or without quotes.
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
# Servers emit the declaration after blank lines left by their templates.
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9_\-:.]+)["']""", re.IGNORECASE)
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# The commonest characters of Chinese prose, simplified and traditional. Big5 bytes read as GB18030
# (or GB bytes read as Big5) decode cleanly but into rare characters: the share of these tells them apart.
_COMMON = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而"
    "方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好"
    "应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向"
    "道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特"
    "件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府"
    "信息依申请报告工作情况市县镇局委办政务复议诉讼收费件数项"
    "這為個來們時於對會發動過說產種後學經進電裡現實兩體機當從業應開還與關數問條沒結資邊級圖統較組見計別論運農"
    "幾區強決戰則處據報費務議訟縣辦請書"
)


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, with the evidence for the encoding used."""

    text: str
    encoding: str  # the Python codec used
    decided_by: str  # "bom" | "http" | "meta" | "xml" | "sniffed" | "fallback"
    declared: dict[str, str] = field(default_factory=dict)  # source → label as written (http, meta, xml)
    overruled: tuple[str, ...] = ()  # declarations naming another charset, as "source label"
    replacements: int = 0  # characters the bytes could not give (U+FFFD introduced by decoding)
    truncated: bool = False  # the bytes end inside a multi-byte character

    @property
    def mislabelled(self) -> bool:
        """True when a declaration named another charset than the one the bytes were decoded with."""
        return bool(self.overruled)

    def notes(self) -> list[str]:
        """What a reader of the crawl log or the reader's warnings should know, in words."""
        notes = [f"declared charset {label} ({source}) does not fit the bytes; decoded as {self.encoding}"
                 f" ({self.decided_by})" for source, label in (o.split(" ", 1) for o in self.overruled)]
        if self.decided_by in ("sniffed", "fallback") and self.encoding != "utf-8" and not self.overruled:
            notes.append(f"no charset declared; decoded as {self.encoding} ({self.decided_by})")
        if self.replacements:
            notes.append(f"{self.replacements} undecodable byte sequence(s) replaced with U+FFFD"
                         + (", the last one cut at the end of the bytes" if self.truncated else ""))
        return notes

    def as_dict(self) -> dict:
        """The decision without the text (for logs and records)."""
        return {"encoding": self.encoding, "decided_by": self.decided_by, "declared": dict(self.declared),
                "overruled": list(self.overruled), "replacements": self.replacements,
                "truncated": self.truncated}


def codec_for(label: str | bytes | None) -> str | None:
    """The Python codec that decodes text labelled `label` (GB2312/GBK → gb18030 …); None when unknown."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    name = label.strip().strip("\"'").lower()
    if name in _SUPERSETS:
        return _SUPERSETS[name]
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return _CODEC_SUPERSETS.get(codec, codec)


def same_codec(a: str | None, b: str | None) -> bool:
    """True when two labels decode alike (gbk and gb2312 both read as gb18030)."""
    return codec_for(a) is not None and codec_for(a) == codec_for(b)


def header_charset(content_type: str | bytes | None) -> str | None:
    """The charset label of a Content-Type header value, as written."""
    if not content_type:
        return None
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def declared_charset(data: bytes) -> tuple[str, str] | None:
    """The document's own declaration as (source, label): an XML declaration or a meta tag."""
    head = data[:DECLARATION_BYTES]
    match = _XML_ENCODING.match(head)
    if match:
        return "xml", match.group(1).decode("ascii")
    match = _META_CHARSET.search(head)
    if match:
        return "meta", match.group(1).decode("ascii")
    return None


def _bom(data: bytes) -> tuple[str, int] | None:
    for mark, codec in _BOMS:
        if data.startswith(mark):
            return codec, len(mark)
    return None


def _sample(data: bytes, codec: str | None = None) -> tuple[bytes, bool]:
    """The bytes deciding looks at, and whether they stop before the end of `data`."""
    if codec in _WIDE or b"\x00" in data[:1024]:  # UTF-16/32 without a BOM: keep the code units aligned
        return data[:SAMPLE_BYTES], len(data) > SAMPLE_BYTES
    match = _NON_ASCII.search(data)
    if match is None:
        return b"", False
    # ASCII bytes are whole characters in every candidate, so the first non-ASCII byte starts one
    start = match.start()
    return data[start:start + SAMPLE_BYTES], start + SAMPLE_BYTES < len(data)


def _trial(sample: bytes, codec: str, cut: bool) -> tuple[str, int]:
    """`sample` decoded with replacement, and how many characters it could not give.

    A character split by the end of the sample (a cut, or a document that stops mid-character) is not
    counted: it says nothing about whether the codec fits."""
    if cut:
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        text = decoder.decode(sample, final=False)
        return text, _replacements(text, sample, codec)
    text = sample.decode(codec, errors="replace")
    bad = _replacements(text, sample, codec)
    if bad and text.endswith("\ufffd") and _incomplete_tail(sample, codec):
        bad -= 1
    return text, bad


def _incomplete_tail(data: bytes, codec: str) -> bool:
    """True when `data` ends with the start of a multi-byte character and nothing more of it."""
    for size in range(1, 4):
        if len(data) < size:
            break
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        try:
            if decoder.decode(data[-size:], final=False) == "":
                return True
        except UnicodeDecodeError:
            continue
    return False


def _replacements(text: str, data: bytes, codec: str) -> int:
    count = text.count("\ufffd")
    if count:
        try:
            count -= data.count("\ufffd".encode(codec))  # U+FFFD the document itself carries
        except (UnicodeEncodeError, LookupError):
            pass
    return max(count, 0)


def _fits(text: str, bad: int, share: float = MAX_BAD_SHARE) -> bool:
    return bad <= len(text) * share


def _chinese_score(text: str) -> float:
    """The share of the text's CJK characters that are common ones (0 when it has none)."""
    cjk = _CJK.findall(text)
    return sum(ch in _COMMON for ch in cjk) / len(cjk) if cjk else 0.0


def sniff(data: bytes) -> str | None:
    """The codec the bytes themselves suggest (no declaration consulted); None when none reads them.

    UTF-8 when they are valid UTF-8 (ASCII included); otherwise the one of GB18030 and Big5-HKSCS
    that decodes them and reads as common Chinese; otherwise charset-normalizer's guess."""
    sample, cut = _sample(data)
    if not sample:
        return "utf-8"
    text, bad = _trial(sample, "utf-8", cut)
    if bad == 0:
        return "utf-8"
    candidates = []
    # NUL bytes in text are UTF-16 code units (text without a BOM); GB18030 would read them as NULs
    wide = ("utf-16-le", "utf-16-be") if b"\x00" in sample else ()
    for codec in ("gb18030", "big5hkscs", *wide):
        text, bad = _trial(sample, codec, cut)
        if text and _fits(text, bad, MAX_SNIFF_BAD_SHARE):
            score = _chinese_score(text) - text.count("\x00") / len(text)
            candidates.append((score, bad == 0, -bad, codec))
    if candidates:
        return max(candidates)[3]
    return _normalizer_guess(sample)


def _normalizer_guess(sample: bytes) -> str | None:
    import charset_normalizer  # imported only when the cheap candidates fail

    best = charset_normalizer.from_bytes(sample).best()
    return codec_for(best.encoding) if best is not None else None


def _latin_overruled(data: bytes) -> str | None:
    """The codec that beats a Latin declaration: bytes that sniff as a Chinese encoding holding CJK."""
    sample, cut = _sample(data)
    if not sample:
        return None
    codec = sniff(data)
    if codec not in ("utf-8", "gb18030", "big5hkscs"):
        return None
    text, bad = _trial(sample, codec, cut)
    return codec if _CJK.search(text) and _fits(text, bad, MAX_SNIFF_BAD_SHARE) else None


def _utf8_beats(data: bytes) -> bool:
    """True when the bytes hold non-ASCII text and are valid UTF-8 (legacy bytes almost never are)."""
    sample, cut = _sample(data)
    if not sample:
        return False
    _, bad = _trial(sample, "utf-8", cut)
    return bad == 0


@dataclass(frozen=True)
class Decision:
    """The codec for some bytes and the evidence for it (`decide`'s answer; no text decoded)."""

    encoding: str
    decided_by: str
    declared: dict[str, str]
    overruled: tuple[str, ...]
    bom_length: int = 0


def decide(data: bytes, content_type: str | bytes | None = None, *, markup: bool = True) -> Decision:
    """The codec for `data` and how it was decided, by the order of evidence above.

    `content_type` is the HTTP header's value; `markup` says to look for a meta/XML declaration (HTML,
    XML; not plain text). Reads at most `SAMPLE_BYTES` from the first non-ASCII byte."""
    declared: dict[str, str] = {}
    header = header_charset(content_type)
    if header:
        declared["http"] = header
    own = declared_charset(data) if markup else None
    if own:
        declared[own[0]] = own[1]

    def decision(codec: str, decided_by: str, bom_length: int = 0) -> Decision:
        overruled = tuple(f"{source} {label}" for source, label in declared.items()
                          if codec_for(label) != codec and not _equivalent_declaration(source, label, codec))
        return Decision(codec, decided_by, declared, overruled, bom_length)

    bom = _bom(data)
    if bom:
        return decision(bom[0], "bom", bom[1])
    best: tuple[int, str, str] | None = None  # the least bad of the declarations that did not fit
    for source, label in declared.items():
        codec = codec_for(label)
        if codec is None:
            continue  # an unknown label: left for the next evidence, and reported as overruled
        if source != "http" and codec in _WIDE:
            codec = "utf-8"  # a declaration readable as ASCII cannot be UTF-16/32 (as browsers rule)
        if codec in _LATIN:
            if _latin_overruled(data) is None:
                return decision(codec, source)
            continue
        sample, cut = _sample(data, codec)
        text, bad = _trial(sample, codec, cut)
        if bad and codec != "utf-8" and _utf8_beats(data):
            continue
        if _fits(text, bad):
            return decision(codec, source)
        if best is None or bad < best[0]:
            best = (bad, codec, source)
    codec = sniff(data)
    if codec is not None and best is not None:
        if codec == best[1]:  # the bytes agree with the declaration, corrupt parts and all
            return decision(best[1], best[2])
        sample, cut = _sample(data, codec)
        _, bad = _trial(sample, codec, cut)
        if best[0] < bad:  # the declaration, though poor, reads more of the page than any guess
            return decision(best[1], best[2])
    if codec is None:  # nothing reads the bytes cleanly: the page's own word, else the likeliest for a portal
        return decision(best[1], best[2]) if best else decision("gb18030", "fallback")
    return decision(codec, "sniffed")


def _equivalent_declaration(source: str, label: str, codec: str) -> bool:
    # a meta/XML utf-16 on bytes read as utf-8 is the browsers' rule, not a mislabel
    return source != "http" and codec == "utf-8" and codec_for(label) in _WIDE


def decode_bytes(data: bytes, content_type: str | bytes | None = None, *, markup: bool = True) -> Decoded:
    """Decode `data` (a page or text document) by the order of evidence above; never raises.

    `content_type` is the HTTP Content-Type value when known; `markup` enables the meta/XML
    declaration (False for plain text)."""
    decision = decide(data, content_type, markup=markup)
    body = data[decision.bom_length:]
    text = body.decode(decision.encoding, errors="replace")
    replacements = _replacements(text, body, decision.encoding)
    truncated = bool(replacements) and text.endswith("\ufffd") and _incomplete_tail(body, decision.encoding)
    return Decoded(text=text, encoding=decision.encoding, decided_by=decision.decided_by,
                   declared=decision.declared, overruled=decision.overruled, replacements=replacements,
                   truncated=truncated)
