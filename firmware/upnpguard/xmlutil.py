# Minimal strict XML for SOAP envelopes: no DTD, no entities beyond the five predefined
# ones, no processing instructions except the leading XML declaration. Anything else is
# XmlError, which the SOAP layer answers with HTTP 400. Bounded depth, element count,
# attribute count (in all) and attribute length.
from . import limits

_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class XmlError(Exception):
    pass


def escape(text):
    text = str(text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def unescape(text):
    """Decode only &lt; &gt; &amp; &quot; &apos; (billion-laughs and XXE need more)."""
    if "&" not in text:
        return text
    out = []
    pos = 0
    while True:
        amp = text.find("&", pos)
        if amp < 0:
            out.append(text[pos:])
            return "".join(out)
        semi = text.find(";", amp)
        if semi < 0 or semi - amp > 5:
            raise XmlError("bad reference")
        name = text[amp + 1 : semi]
        if name not in _ENTITIES:
            raise XmlError("entity not allowed")
        out.append(text[pos:amp])
        out.append(_ENTITIES[name])
        pos = semi + 1


class Element:
    def __init__(self, name, attrs):
        prefix, sep, local = name.partition(":")
        self.prefix = prefix if sep else ""
        self.local = local if sep else name
        self.attrs = attrs
        self.children = []
        self.text = ""
        self.ns = None  # its namespace URI, resolved by parse()


def _parse_attrs(text, room):
    """`name="value"` pairs; at most `room` of them, each at most SOAP_ATTRIBUTE_MAX long
    (checked before the name and value are copied). Walks `text` by index: slicing off
    what was read would copy the rest of a 4 KB tag once per attribute (on a fragmented
    64 KB heap, a MemoryError before the cap is reached)."""
    attrs = {}
    size = len(text)
    i = 0
    while True:
        while i < size and text[i].isspace():
            i += 1
        if i >= size:
            return attrs
        if len(attrs) >= room:
            raise XmlError("too many attributes")
        eq = text.find("=", i)
        if eq <= i:
            raise XmlError("bad attribute")
        if eq - i > limits.SOAP_ATTRIBUTE_MAX:
            raise XmlError("attribute too long")
        name = text[i:eq].strip()
        start = eq + 1
        while start < size and text[start].isspace():
            start += 1
        if start >= size or text[start] not in "\"'":
            raise XmlError("unquoted attribute")
        end = text.find(text[start], start + 1)
        if end < 0:
            raise XmlError("unterminated attribute")
        if len(name) + (end - start) + 2 > limits.SOAP_ATTRIBUTE_MAX:  # name="value"
            raise XmlError("attribute too long")
        if name in attrs:
            raise XmlError("duplicate attribute")
        attrs[name] = unescape(text[start + 1 : end])
        i = end + 1


def parse(text):
    """Parse a small document; returns its root Element (children nested in it).

    Namespace scopes are resolved while parsing: each Element gets `.ns`, the URI its
    prefix (or the default namespace) is bound to, or None.
    """
    if "<!" in text:
        raise XmlError("DTD, comment or CDATA")
    pos = 0
    if text.startswith("\ufeff"):
        pos = 1
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    if text.startswith("<?xml", pos):
        end = text.find("?>", pos)
        if end < 0:
            raise XmlError("bad declaration")
        pos = end + 2
    stack = []
    scopes = [{}]
    root = None
    count = 0
    attributes = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            if stack or text[pos:].strip():
                raise XmlError("unexpected end")
            break
        chunk = text[pos:lt]
        if stack:
            stack[-1].text += unescape(chunk)
        elif chunk.strip():
            raise XmlError("text outside root")
        gt = text.find(">", lt)
        if gt < 0:
            raise XmlError("unterminated tag")
        tag = text[lt + 1 : gt]
        pos = gt + 1
        if tag.startswith("?"):
            raise XmlError("processing instruction")
        if tag.startswith("/"):
            name = tag[1:].strip()
            if not stack:
                raise XmlError("unbalanced")
            top = stack.pop()
            scopes.pop()
            expected = top.prefix + ":" + top.local if top.prefix else top.local
            if name != expected:
                raise XmlError("mismatched end tag")
            continue
        if root is not None and not stack:
            raise XmlError("second root")
        empty = tag.endswith("/")
        if empty:
            tag = tag[:-1]
        name, _, attr_text = (
            tag.replace("\t", " ").replace("\r", " ").replace("\n", " ").partition(" ")
        )
        if not name:
            raise XmlError("empty tag")
        count += 1
        if count > limits.SOAP_MAX_ELEMENTS or len(stack) >= limits.SOAP_MAX_DEPTH:
            raise XmlError("too large")
        attrs = _parse_attrs(attr_text, limits.SOAP_MAX_ATTRIBUTES - attributes)
        attributes += len(attrs)
        element = Element(name, attrs)
        scope = scopes[-1]
        for key, value in element.attrs.items():
            if key == "xmlns" or key.startswith("xmlns:"):
                if scope is scopes[-1]:
                    scope = dict(scope)
                scope[key[6:]] = value
        element.ns = scope.get(element.prefix)
        if stack:
            stack[-1].children.append(element)
        else:
            root = element
        if not empty:
            stack.append(element)
            scopes.append(scope)
    if root is None:
        raise XmlError("no root")
    return root
