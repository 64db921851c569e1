"""W3C Pronunciation Lexicon Specification 1.0 files (https://www.w3.org/TR/pronunciation-lexicon/).

Dia2 reads text, not phonemes, so only a lexeme's ``<alias>`` (a respelling) can be used: each
``<grapheme>`` of a lexeme becomes an entry spoken as its preferred alias (``prefer="true"``), or
else its first. A lexeme with only ``<phoneme>`` pronunciations is reported, never dropped
silently. Written lexemes have one grapheme and one alias; PLS has no place for a note or for
case-sensitivity, so those are not written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import InvalidLexiconEntry, InvalidLexiconFile
from core.lexicon.lexicon import Lexicon, first_of_each
from core.lexicon.safe_xml import RefusedXml, XmlElement, parse_xml

NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def read(data: bytes, file: str) -> tuple[Lexicon, list[str]]:
    try:
        root = parse_xml(data)
    except RefusedXml as error:
        raise InvalidLexiconFile(file, str(error)) from None
    if root.name != "lexicon" or root.namespace not in (NAMESPACE, ""):
        raise InvalidLexiconFile(file, f"it is not a W3C PLS lexicon: its root element is <{root.name}>, "
                                       "not <lexicon>.")
    if root.attributes.get("version", "1.0") != "1.0":
        raise InvalidLexiconFile(file, f'it is PLS version {root.attributes["version"]}; Dia Studio reads '
                                       "PLS 1.0.")
    unusable: list[str] = []
    placed: list[tuple[str, LexiconEntry]] = []
    for lexeme in root.named("lexeme"):
        graphemes = lexeme.named("grapheme")
        if not graphemes:
            raise InvalidLexiconFile(file, f"line {lexeme.line}: a <lexeme> has no <grapheme>, the word it is for.")
        aliases = lexeme.named("alias")
        if not aliases:
            words = ", ".join(f'"{_text(grapheme)}"' for grapheme in graphemes)
            has = ("only phonetic pronunciations (<phoneme>), which Dia2 cannot read" if lexeme.named("phoneme")
                   else "no pronunciation")
            unusable.append(f"line {lexeme.line}: {words} has {has}; give it an <alias> (how it is said in "
                            "letters) to use it.")
            continue
        alias = next((alias for alias in aliases if alias.attributes.get("prefer") == "true"), aliases[0])
        placed += [(f"line {grapheme.line}", _entry(grapheme, alias, file)) for grapheme in graphemes]
    lexicon, left_out = first_of_each(placed)
    return lexicon, unusable + left_out


def write(lexicon: Lexicon) -> bytes:
    # the namespace as a plain attribute: ElementTree would give the elements a prefix of its own
    root = ElementTree.Element("lexicon", {"version": "1.0", "xmlns": NAMESPACE, "alphabet": "ipa", _XML_LANG: "en"})
    for entry in lexicon.entries:
        lexeme = ElementTree.SubElement(root, "lexeme")
        ElementTree.SubElement(lexeme, "grapheme").text = entry.written
        ElementTree.SubElement(lexeme, "alias").text = entry.spoken
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _entry(grapheme: XmlElement, alias: XmlElement, file: str) -> LexiconEntry:
    try:
        return LexiconEntry(_text(grapheme), _text(alias))
    except InvalidLexiconEntry as error:
        raise InvalidLexiconFile(file, f"line {grapheme.line}: {error}") from None


def _text(element: XmlElement) -> str:
    return " ".join(element.text.split())  # an indented file breaks a long alias over lines
