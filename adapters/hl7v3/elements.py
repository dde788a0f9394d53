"""Small builders for HL7 V3 elements in the urn:hl7-org:v3 namespace."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from lxml import etree
from lxml.builder import ElementMaker  # type: ignore[import-not-found]

from adapters.hl7v3 import vocabulary as v
from domain.authors import Author, PersonAuthor
from domain.local_authority import LocalAuthority

Element = etree._Element
_MAKER = ElementMaker(namespace=v.HL7, nsmap=v.NSMAP)


class _Maker:
    """E.tag(*children, **attributes) or E("tag", ...): a typed front to ElementMaker."""

    def __call__(self, tag: str, *children: Any, **attributes: str) -> Element:
        return cast(Element, _MAKER(tag, *children, **attributes))

    def __getattr__(self, tag: str) -> Callable[..., Element]:
        return partial(self.__call__, tag)


E = _Maker()


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


def local_authority(la: LocalAuthority) -> Element:
    return E.organisation(
        *organisation_ids(la.ods_code, la.name),
        E.telecom(value=f"tel:{la.office_hours_phone}", use="WP"),
        E.telecom(value=f"tel:{la.emergency_duty_phone}", use="EC"),
    )


def author(who: Author) -> Element:
    """The author participation: template content id, then the person or system."""
    if isinstance(who, PersonAuthor):
        ids = [ii(v.SDS_USER_ROOT, who.sds_user_id)]
        if who.role_profile_id:
            ids.append(ii(v.SDS_ROLE_PROFILE_ROOT, who.role_profile_id))
        name = E.name(*([E.prefix(who.name.prefix)] if who.name.prefix else []),
                      E.given(who.name.given), E.family(who.name.family))
        body = E("COCT_TP145102GB01.AssignedAuthor",
                 E.code(code=who.job_role_code, displayName=who.job_role_name,
                        codeSystem=v.JOB_ROLE_SYSTEM),
                 *ids, E.assignedAuthorPerson(name),
                 E.representedOrganization(*organisation_ids(who.organisation_ods,
                                                              who.organisation_name)))
        return E.author(content_id(v.PERSON_AUTHOR_TEMPLATE), body)
    body = E("COCT_TP145104GB01.System", ii(v.ASID_ROOT, who.asid),
             E.maintainingOrganization(*organisation_ids(who.organisation_ods,
                                                         who.organisation_name)))
    return E.author(content_id(v.SYSTEM_AUTHOR_TEMPLATE), body)


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


def to_bytes(element: Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))
