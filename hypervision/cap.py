"""OASIS CAP 1.2 documents and their Atom index, built from plain data (pure: no clock, no I/O)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Literal

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
ATOM_MIME = "application/atom+xml"

MsgType = Literal["Alert", "Update", "Cancel"]
# CAP wants an explicit headline for each language; an all-clear says so up front.
ALL_CLEAR_PREFIX = {"fr": "Fin d'alerte : ", "en": "All clear: "}
LANGUAGE_TAG = {"fr": "fr-FR", "en": "en-GB"}
HEADLINE_MAX = 160  # CAP 1.2 §3.2.2: "SHOULD be less than 160 characters"


@dataclass(frozen=True, slots=True)
class InfoText:
    """The words of one language block."""

    lang: str  # "fr" or "en"
    headline: str
    description: str = ""
    instruction: str = ""


@dataclass(frozen=True, slots=True)
class Area:
    """Where the warning applies: a description, CAP polygons and (valueName, value) geocodes."""

    desc: str
    polygons: tuple[str, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """An earlier message this one updates or cancels (CAP: ``sender,identifier,sent``)."""

    sender: str
    identifier: str
    sent: str

    def text(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True, slots=True)
class Message:
    """Everything a CAP document says; ``sent`` is an aware datetime, written in ``tz``."""

    identifier: str
    sender: str
    sent: datetime
    msg_type: MsgType
    category: str
    event: str
    urgency: str
    severity: str
    certainty: str
    texts: tuple[InfoText, ...]
    area: Area
    sender_name: str = ""
    references: tuple[Reference, ...] = ()
    status: str = "Actual"
    web: str | None = None
    parameters: tuple[tuple[str, str], ...] = field(default=())


def cap_time(moment: datetime, tz: tzinfo) -> str:
    """CAP dateTime: local time to the second with an explicit ±hh:mm offset (never ``Z``)."""
    if moment.tzinfo is None:
        raise ValueError("a CAP time needs a time zone")
    return moment.astimezone(tz).replace(microsecond=0).isoformat()


def valid_token(value: str) -> bool:
    """CAP forbids spaces, commas, ``<`` and ``&`` in identifiers and senders (they are list items)."""
    return bool(value) and not any(c.isspace() or c in ",<&" for c in value)


def build_document(message: Message, tz: tzinfo) -> bytes:
    """The CAP 1.2 XML document (UTF-8, with declaration) of ``message``."""
    for name in ("identifier", "sender"):
        if not valid_token(getattr(message, name)):
            raise ValueError(f"CAP {name} {getattr(message, name)!r} has a space, comma, < or &")
    if not message.texts:
        raise ValueError("a CAP message needs at least one info block")
    root = ET.Element(_q("alert"))
    _sub(root, "identifier", message.identifier)
    _sub(root, "sender", message.sender)
    _sub(root, "sent", cap_time(message.sent, tz))
    _sub(root, "status", message.status)
    _sub(root, "msgType", message.msg_type)
    _sub(root, "scope", "Public")
    if message.references:
        _sub(root, "references", " ".join(ref.text() for ref in message.references))
    for text in message.texts:
        _info(root, message, text)
    ET.indent(root)
    # default_namespace instead of register_namespace: no process-wide registry shared across threads
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True, default_namespace=CAP_NS)


def _info(root: ET.Element, message: Message, text: InfoText) -> None:
    info = _sub(root, "info")
    _sub(info, "language", LANGUAGE_TAG.get(text.lang, text.lang))
    _sub(info, "category", message.category)
    _sub(info, "event", message.event)
    if message.msg_type == "Cancel":
        _sub(info, "responseType", "AllClear")
    _sub(info, "urgency", "Past" if message.msg_type == "Cancel" else message.urgency)
    _sub(info, "severity", message.severity)
    _sub(info, "certainty", message.certainty)
    if message.sender_name:
        _sub(info, "senderName", message.sender_name)
    headline = text.headline
    if message.msg_type == "Cancel":
        headline = ALL_CLEAR_PREFIX.get(text.lang, "") + headline
    _sub(info, "headline", _clip(headline, HEADLINE_MAX))
    if text.description:
        _sub(info, "description", text.description)
    if text.instruction and message.msg_type != "Cancel":
        _sub(info, "instruction", text.instruction)
    if message.web:
        _sub(info, "web", message.web)
    for name, value in message.parameters:
        param = _sub(info, "parameter")
        _sub(param, "valueName", name)
        _sub(param, "value", value)
    area = _sub(info, "area")
    _sub(area, "areaDesc", message.area.desc)
    for polygon in message.area.polygons:
        _sub(area, "polygon", polygon)
    for name, value in message.area.geocodes:
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", name)
        _sub(geocode, "value", value)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One message in the Atom index."""

    identifier: str
    msg_type: str
    sent: str  # as in the document
    headline: str
    summary: str
    href: str  # absolute URL of the CAP document


def atom_feed(entries: Sequence[FeedEntry], *, feed_url: str, title: str, author: str, updated: str) -> bytes:
    """The Atom index of CAP messages, newest first, each linking to its document (as CAP feeds do)."""
    # Unqualified tags under an explicit xmlns: Atom links need plain attributes, which ElementTree's
    # default_namespace option refuses.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _asub(feed, "id", feed_url)
    _asub(feed, "title", title)
    _asub(feed, "updated", updated)
    ET.SubElement(feed, "link", {"rel": "self", "href": feed_url, "type": ATOM_MIME})
    _asub(_asub(feed, "author"), "name", author)
    for entry in entries:
        item = _asub(feed, "entry")
        _asub(item, "id", entry.href)
        _asub(item, "title", entry.headline)
        _asub(item, "updated", entry.sent)
        _asub(item, "published", entry.sent)
        ET.SubElement(item, "category", {"term": entry.msg_type})
        ET.SubElement(item, "link", {"rel": "alternate", "type": CAP_MIME, "href": entry.href})
        if entry.summary:
            _asub(item, "summary", entry.summary)
    ET.indent(feed)
    return ET.tostring(feed, encoding="UTF-8", xml_declaration=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _q(tag: str) -> str:
    return f"{{{CAP_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, _q(tag))
    if text is not None:
        el.text = text
    return el


def _asub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el
