"""XML from elsewhere read safely: no DTD (so no entity to expand or fetch), each element with
the line it starts on, for messages that say where."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat


class RefusedXml(ValueError):
    """XML that is not well-formed, or holds a DTD; the message says what and where."""


@dataclass
class XmlElement:
    namespace: str  # "" when the element has none
    name: str
    attributes: dict[str, str]
    line: int
    children: list[XmlElement] = field(default_factory=list)
    text: str = ""  # the text directly inside, its children's left out

    def named(self, name: str) -> list[XmlElement]:
        """The children called ``name`` in this element's namespace."""
        return [child for child in self.children if (child.namespace, child.name) == (self.namespace, name)]


def parse_xml(data: bytes) -> XmlElement:
    """The root element of ``data``. A document type declaration is refused outright: its
    entities can expand without end ("billion laughs") or read other files."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    open_elements: list[XmlElement] = []
    roots: list[XmlElement] = []

    def refuse_doctype(*_) -> None:
        raise RefusedXml(f"line {parser.CurrentLineNumber}: it declares a document type (<!DOCTYPE …>), "
                         "which is refused for safety; remove it.")

    def start(qualified: str, attributes: dict[str, str]) -> None:
        namespace, _, name = qualified.rpartition("}")
        element = XmlElement(namespace, name, attributes, parser.CurrentLineNumber)
        (open_elements[-1].children if open_elements else roots).append(element)
        open_elements.append(element)

    def text(data: str) -> None:
        if open_elements:
            open_elements[-1].text += data

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda _: open_elements.pop()
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise RefusedXml(f"it is not well-formed XML (line {error.lineno}, column {error.offset + 1}: "
                         f"{expat.ErrorString(error.code)}).") from None
    return roots[0]
