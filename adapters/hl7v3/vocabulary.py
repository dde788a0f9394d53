"""Namespaces, OIDs, template ids and interaction ids of the CP-IS HL7 V3 messages."""

HL7 = "urn:hl7-org:v3"
NPFITLC = "NPFIT:HL7:Localisation"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"  # Spine's WS-Addressing
CPIS_ADDRESS = "https://cpisquery.national.ncrs.nhs.uk/syncservice"  # wsa:From of answers
NSMAP = {None: HL7, "npfitlc": NPFITLC}

INTERACTION_ROOT = "2.16.840.1.113883.2.1.3.2.4.12"
ASID_ROOT = "1.2.826.0.1285.0.2.0.107"
SDS_USER_ROOT = "1.2.826.0.1285.0.2.0.65"
SDS_ROLE_PROFILE_ROOT = "1.2.826.0.1285.0.2.0.67"
ODS_ORG_ROOT = "2.16.840.1.113883.2.1.3.2.4.19.1"
NHS_NUMBER_ROOT = "2.16.840.1.113883.2.1.4.1"
LOCAL_PERSON_ROOT = "2.16.840.1.113883.2.1.3.2.4.18.24"
TEMPLATE_ROOT = "2.16.840.1.113883.2.1.3.2.4.18.16"
JOB_ROLE_SYSTEM = "2.16.840.1.113883.2.1.3.2.4.17.196"
# Spine's generic error code system. The real CP-IS error codes are not public: the codes
# below are our own names (after Spine ErrorBase keys); see README "HL7 V3 query".
ERROR_SYSTEM = "2.16.840.1.113883.2.1.3.2.4.17.101"

QUERY = "QUPC_IN000006GB01"
RESPONSE = "REPC_IN000007GB01"
QUERY_ACT_FAILED = "QUQI_IN010000UK14"
DETECTED_ISSUE = "MCCI_IN010000UK13"
VERSION_CODE = "V3NPfIT3.0"
SOAP_ACTION_PREFIX = "urn:nhs:names:services:cpisquery/"

PERSON_AUTHOR_TEMPLATE = "COCT_TP145102GB01#AssignedAuthor"
SYSTEM_AUTHOR_TEMPLATE = "COCT_TP145104GB01#System"
CHILD_TEMPLATE = "COCT_TP145101GB01#Child"
UNBORN_CHILD_TEMPLATE = "COCT_TP145100GB01#UnbornChild"
# query-response plan templates (no delete dates), by plan type code
RESPONSE_PLAN_TEMPLATES = {
    "CPP": ("COCT_TP146105GB01", "CPPInformation", "cPP"),
    "LAC": ("COCT_TP146103GB01", "LACInformation", "lAC"),
    "UCP": ("COCT_TP146104GB01", "UCPInformation", "uCP"),
}
