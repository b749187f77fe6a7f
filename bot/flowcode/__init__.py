"""The Python half of each flow version, by (flow id, version): its conditions and document builders.

A flow version is its YAML file plus the entry here. The loader receives this
mapping (`load_flows(directory, code=FLOW_CODE)`) and gives each version only its
own code, so a new version with a changed condition leaves the old one untouched.
A version whose branching and rules are all predicates needs no entry. To ship a
version 2 with code: copy `whatsapp_gdpr_v1.py` to `whatsapp_gdpr_v2.py`, change
it, and add `("whatsapp_gdpr", 2)` below.
"""

from __future__ import annotations

from ..engine import CodeRegistry
from . import whatsapp_gdpr_v1, whatsapp_gdpr_v2

FLOW_CODE: CodeRegistry = {
    ("whatsapp_gdpr", 1): whatsapp_gdpr_v1.CODE,
    ("whatsapp_gdpr", 2): whatsapp_gdpr_v2.CODE,
}
