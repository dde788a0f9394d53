"""Small builders for HL7 V3 elements in the urn:hl7-org:v3 namespace."""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from functools import lru_cache, partial, wraps
from typing import TypeVar, cast

from lxml import etree

from adapters.hl7v3 import vocabulary as v
from domain.model.authors import Author, NominatedPerson, PersonAuthor
from domain.model.local_authority import LocalAuthority

Element = etree._Element
_HL7 = f"{{{v.HL7}}}"
_NSMAP = cast(dict[str, str], v.NSMAP)  # its None key (the default namespace) is not in the stubs


class _Maker:
    """E.tag(*children, **attributes) or E("tag", ...): an element in the HL7 namespace, its
    children elements or text (as lxml.builder's ElementMaker takes them, at less cost).
    Only a message's root declares the namespaces (MESSAGE): lxml gives the elements
    appended under it the root's declarations. Each element declaring them too, as
    ElementMaker did, made every append reconcile them through the subtree appended; a
    query's response (~75 elements and more) took a fifth longer to build, and the bytes
    written are the same."""

    def __init__(self, nsmap: dict[str, str] | None = None) -> None:
        self._nsmap = nsmap

    def __call__(self, tag: str, *children: Element | str, **attributes: str) -> Element:
        element = etree.Element(tag if tag[0] == "{" else _HL7 + tag, attributes,
                                nsmap=self._nsmap)
        for child in children:
            if isinstance(child, str):
                _add_text(element, child)
            else:
                element.append(child)
        return element

    def __getattr__(self, tag: str) -> Callable[..., Element]:
        make = partial(self.__call__, tag)
        setattr(self, tag, make)  # found without this call from then on
        return make


E = _Maker()
MESSAGE = _Maker(_NSMAP)  # a message's root: it declares the HL7 and NPfIT namespaces
# authors and local authorities whose elements are kept, to be copied: a response names the
# same clinicians, systems and local authorities again and again
KEPT = 4096
K = TypeVar("K", bound=Hashable)


def built_once(build: Callable[[K], Element]) -> Callable[[K], Element]:
    """`build`, each value's element built once (the last KEPT values') and a copy of it
    given for each use: lxml copies an author's subtree far faster than it builds one, and a
    response holds an author for each of up to 25 accesses. (Elements are copied,
    never shared: appending one moves it.)"""
    kept = lru_cache(maxsize=KEPT)(build)

    @wraps(build)
    def copy_of(key: K) -> Element:
        return copy.deepcopy(kept(key))

    return copy_of


def _add_text(element: Element, text: str) -> None:
    """Text after the element's last child, or as its text when it has none (as
    ElementMaker adds it)."""
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


def ii(root: str, extension: str | None = None, tag: str = "id") -> Element:
    el = E(tag, root=root)
    if extension is not None:
        el.set("extension", extension)
    return el


def value(v_: str | int, tag: str = "value") -> Element:
    return E(tag, value=str(v_))


def content_id(template: str) -> Element:
    return etree.Element(f"{{{v.NPFITLC}}}contentId", root=v.TEMPLATE_ROOT, extension=template)


def organisation_ids(ods_code: str, name: str) -> list[Element]:
    return [ii(v.ODS_ORG_ROOT, ods_code), E.name(name)]


@built_once
def local_authority(la: LocalAuthority) -> Element:
    return E.organisation(
        *organisation_ids(la.ods_code, la.name),
        E.telecom(value=f"tel:{la.office_hours_phone}", use="WP"),
        E.telecom(value=f"tel:{la.emergency_duty_phone}", use="EC"),
    )


@built_once
def author(who: Author) -> Element:
    """The author participation: template content id, then the person or system."""
    if isinstance(who, PersonAuthor):
        ids = [ii(v.SDS_USER_ROOT, who.sds_user_id)]
        if who.role_profile_id:
            ids.append(ii(v.SDS_ROLE_PROFILE_ROOT, who.role_profile_id))
        name = E.name(*([E.prefix(who.name.prefix)] if who.name.prefix else []),
                      E.given(who.name.given), E.family(who.name.family))
        if who.name.use:
            name.set("use", who.name.use)
        body = E("COCT_TP145102GB01.AssignedAuthor",
                 E.code(code=who.job_role_code, displayName=who.job_role_name,
                        codeSystem=v.JOB_ROLE_SYSTEM),
                 *ids, E.assignedAuthorPerson(name),
                 E.representedOrganization(*organisation_ids(who.organisation_ods,
                                                              who.organisation_name)))
        return E.author(content_id(v.PERSON_AUTHOR_TEMPLATE), body)
    nominated = [_indirect_authority(who.nominated)] if who.nominated else []
    body = E("COCT_TP145104GB01.System", ii(v.ASID_ROOT, who.asid), *nominated,
             E.maintainingOrganization(*organisation_ids(who.organisation_ods,
                                                         who.organisation_name)))
    return E.author(content_id(v.SYSTEM_AUTHOR_TEMPLATE), body)


def _indirect_authority(person: NominatedPerson) -> Element:
    code = E.code(code=person.job_role_code, codeSystem=v.JOB_ROLE_SYSTEM)
    if person.job_role_name:
        code.set("displayName", person.job_role_name)
    parts = [E(tag, text) for tag, text in (("prefix", person.prefix), ("given", person.given),
                                            ("family", person.family)) if text]
    return E.indirectAuthority(E.superiorAssignedEntity(
        code, E.assignedPerson(E.name(*parts))))


def message_header(interaction: str, message_id: str, created: str) -> list[Element]:
    """id .. acceptAckCode of a transmission wrapper, in schema order."""
    return [
        ii(message_id), E.creationTime(value=created), E.versionCode(code=v.VERSION_CODE),
        ii(v.INTERACTION_ROOT, interaction, tag="interactionId"),
        E.processingCode(code="P"), E.processingModeCode(code="T"), E.acceptAckCode(code="NE"),
    ]


def transmission_wrapper(interaction: str, message_id: str, created: str, to_asid: str,
                         from_asid: str) -> list[Element]:
    """The MCCI_MT010101UK12 header elements, in schema order."""
    return [*message_header(interaction, message_id, created), *devices(to_asid, from_asid)]


def devices(to_asid: str, from_asid: str) -> list[Element]:
    return [E.communicationFunctionRcv(E.device(ii(v.ASID_ROOT, to_asid))),
            E.communicationFunctionSnd(E.device(ii(v.ASID_ROOT, from_asid)))]


def control_act_author(asid: str) -> Element:
    return E.author1(E.AgentSystemSDS(E.agentSystemSDS(ii(v.ASID_ROOT, asid))))


def to_bytes(message: Element) -> bytes:
    return bytes(etree.tostring(declaring(message), xml_declaration=True, encoding="UTF-8"))


def declaring(message: Element) -> Element:
    """The message, should a root in the HL7 namespace declare it as the default one (built
    with MESSAGE); otherwise lxml would write it with a made-up prefix (ns0:)."""
    if etree.QName(message).namespace == v.HL7 and message.nsmap.get(None) != v.HL7:
        raise ValueError(f"{etree.QName(message).localname} does not declare the HL7 "
                         "namespace: build a message's root with MESSAGE")
    return message
