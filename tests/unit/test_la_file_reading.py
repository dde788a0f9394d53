"""How a record of an LA upload File is read: which element counts where a File holds more
than one candidate, blank and padded values, and where a fault is reported (no I/O)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from adapters.mesh.la_file import parse_la_file
from domain.model.uploads import RecordUpload

HEAD = ('<File xmlns="urn:hl7-org:v3"><id extension="3"/><transmissionQuantity value="1"/>'
        '<communicationFunctionSnd><organisation><id extension="X26"/><name>Northtown</name>'
        '<telecom value="tel:01632960001" use="WP"/><telecom value="tel:01632960999" use="EC"/>'
        "</organisation></communicationFunctionSnd>")
NHS = '<id root="2.16.840.1.113883.2.1.4.1" extension="{}"/>'
CPP = ("<pertinentInformation><COCT_TP146101GB01.CPPInformation>{}"
       "</COCT_TP146101GB01.CPPInformation></pertinentInformation>")
START = '<component><cPPStartDate><value value="{}"/></cPPStartDate></component>'
CHILD = ("<subject><COCT_TP145101GB01.Child>{ids}<childPerson>{person}</childPerson>"
         "</COCT_TP145101GB01.Child></subject>")
AMY = '<birthTime value="20160301"/><name><given>Amy</given><family>Example</family></name>'


def record(body: str) -> RecordUpload:
    upload = parse_la_file(f"{HEAD}<record><CP-ISRecord>{body}</CP-ISRecord></record></File>"
                           .encode())
    assert len(upload.records) == 1
    return upload.records[0]


def child(ids: str = NHS.format("9998765439"), person: str = AMY) -> str:
    return CHILD.format(ids=ids, person=person)


def test_a_child_record_is_read_whole() -> None:
    read = record(CPP.format(START.format("202501060900")) + child(
        NHS.format(" 9998765439 ") + '<id root="2.16.840.1.113883.2.1.3.2.4.18.24" '
        'extension="LA-1"/>'))
    assert (read.subject.nhs_number, read.subject.local_id) == ("9998765439", "LA-1")
    assert (read.subject.given_name, read.subject.family_name, read.subject.birth_date) == (
        "Amy", "Example", date(2016, 3, 1))
    assert read.plans[0].start == datetime(2025, 1, 6, 9, 0)
    assert (read.plans[0].end, read.plans[0].delete, read.problem) == (None, None, "")
    assert read.location == "/File/record[1]/CP-ISRecord"
    assert read.subject.location == "/File/record[1]/CP-ISRecord/subject/COCT_TP145101GB01.Child"


def test_the_first_of_several_names_and_birth_times_counts() -> None:
    person = ('<birthTime value=" 20160301 "/><birthTime value="nonsense"/>'
              "<name><family>First</family><given> Amy </given><given>Second</given></name>"
              "<name><given>Third</given></name>")
    read = record(CPP.format(START.format("202501060900")) + child(person=person))
    assert (read.subject.given_name, read.subject.family_name, read.subject.birth_date) == (
        "Amy", "First", date(2016, 3, 1))


def test_a_name_starting_with_markup_has_no_text_of_its_own() -> None:
    read = record(CPP.format(START.format("202501060900")) + child(
        person="<name><given><b/>Amy</given><family>  </family></name>"))
    assert (read.subject.given_name, read.subject.family_name) == ("", "")


def test_a_child_comes_before_an_unborn_childs_mother_wherever_it_is() -> None:
    mother = ("<subject><COCT_TP145100GB01.UnbornChild><parentMotherPerson>"
              "<name><given>Carla</given><family>Mother</family></name><playedMother>"
              f'{NHS.format("9990000034")}</playedMother></parentMotherPerson>'
              "</COCT_TP145100GB01.UnbornChild></subject>")
    read = record(mother + CPP.format(START.format("202501060900")) + child())
    assert (read.subject.nhs_number, read.subject.given_name) == ("9998765439", "Amy")


def test_an_unborn_child_is_read_from_the_first_mother_of_its_subjects() -> None:
    mother = ("<subject><COCT_TP145100GB01.UnbornChild><other/></COCT_TP145100GB01.UnbornChild>"
              "<COCT_TP145100GB01.UnbornChild><parentMotherPerson>"
              '<birthTime value="19980714"/><name><given>Carla</given></name>'
              f'<playedMother>{NHS.format("9990000034")}</playedMother>'
              f'<playedMother>{NHS.format("9990000042")}</playedMother>'
              "</parentMotherPerson></COCT_TP145100GB01.UnbornChild></subject>")
    read = record(CPP.format(START.format("202501060900")) + mother)
    assert (read.subject.nhs_number, read.subject.given_name, read.subject.birth_date) == (
        "9990000042", "Carla", date(1998, 7, 14))  # the last NHS-number id given wins
    assert read.subject.location.endswith("/subject/COCT_TP145100GB01.UnbornChild")


def test_a_record_without_a_subject_says_so() -> None:
    read = record(CPP.format(START.format("202501060900")) + "<subject><other/></subject>")
    assert read.problem == "the record has no Child or UnbornChild subject"
    assert read.subject.location == "/File/record[1]/CP-ISRecord/subject"


def test_a_child_without_a_person_has_no_names() -> None:
    read = record(CPP.format(START.format("202501060900")) +
                  f"<subject><COCT_TP145101GB01.Child>{NHS.format('9998765439')}"
                  "</COCT_TP145101GB01.Child></subject>")
    assert (read.subject.nhs_number, read.subject.given_name, read.subject.birth_date) == (
        "9998765439", "", None)
    assert read.problem == ""


def test_a_bad_birth_time_is_the_records_problem() -> None:
    read = record(CPP.format(START.format("202501060900")) +
                  child(person='<birthTime value="20161301"/>'))
    assert read.problem == "birthTime '20161301' is not a real date"
    assert read.problem_location == read.subject.location


def test_a_plan_date_is_taken_from_the_first_component_that_holds_one() -> None:
    dates = ("<component><cPPStartDate/></component>"
             '<component><cPPStartDate><value value=" 202501060900 "/></cPPStartDate></component>'
             '<component><cPPStartDate><value value="nonsense"/></cPPStartDate></component>'
             '<component1><cPPEndDate><value value=""/></cPPEndDate></component1>'
             '<component2><cPPDeleteDate><value value="202601010000"/></cPPDeleteDate>'
             "</component2>")
    read = record(CPP.format(dates) + child())
    plan = read.plans[0]
    assert (plan.start, plan.end, plan.delete) == (
        datetime(2025, 1, 6, 9, 0), None, datetime(2026, 1, 1, 0, 0))


def test_a_plan_template_counts_in_any_namespace_but_its_dates_are_hl7() -> None:
    plan = ('<pertinentInformation><x:COCT_TP146100GB01.LACInformation xmlns:x="urn:other">'
            '<x:component><x:lACStartDate><x:value value="202501060900"/></x:lACStartDate>'
            "</x:component></x:COCT_TP146100GB01.LACInformation></pertinentInformation>")
    read = record(plan + child())
    assert (read.plans[0].plan_type_code, read.plans[0].start) == ("LAC", None)


@pytest.mark.parametrize(("start", "reason"), [
    ("2025010609", "CPP start date '2025010609' is not a 12-digit YYYYMMDDHHMM date"),
    ("202513010900", "CPP start date '202513010900' is not a real date and time"),
])
def test_a_bad_plan_date_is_reported_at_its_pertinent_information(start: str,
                                                                  reason: str) -> None:
    good = CPP.format(START.format("202501060900"))
    read = record(good + CPP.format(START.format(start)) + good + child())
    assert (read.problem, read.problem_location) == (
        reason, "/File/record[1]/CP-ISRecord/pertinentInformation[2]")
    assert len(read.plans) == 1  # the plans read before it


def test_pertinent_information_without_a_plan_is_reported() -> None:
    read = record("<pertinentInformation><other/></pertinentInformation>" + child())
    assert read.problem == "pertinentInformation holds no CPP, LAC or UCP plan"
    assert read.problem_location == "/File/record[1]/CP-ISRecord/pertinentInformation[1]"


def test_records_read_by_index_and_by_slice_are_the_same() -> None:
    rows = "".join(
        f"<record><CP-ISRecord>{CPP.format(START.format('202501060900'))}"
        f"{child(NHS.format(number))}</CP-ISRecord></record>"
        for number in ("9998765439", "9990000018", "9990000026", "9990000034"))
    records = parse_la_file(f"{HEAD}{rows}</File>".encode()).records
    one_by_one = [records[i] for i in range(len(records))]
    assert [r.subject.nhs_number for r in one_by_one] == [
        "9998765439", "9990000018", "9990000026", "9990000034"]
    assert [r.index for r in one_by_one] == [1, 2, 3, 4]
    assert list(records[1:3]) == one_by_one[1:3]
    assert list(records[::2]) == one_by_one[::2]
    assert list(records[3:1]) == []
    assert records[-1] == one_by_one[-1]
    assert records == one_by_one
    with pytest.raises(IndexError):
        records[4]
