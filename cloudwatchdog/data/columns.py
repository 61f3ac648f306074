"""Structured columns: header evidence (English and Japanese words) plus a profile of sampled values.

A column is classified once, from its header and its first values; then its values are counted. Classes that a
value alone cannot prove (names, addresses, dates of birth, passports) need header evidence; a header that names
a product, part, order or model vetoes the number-shaped classes (a part number that looks like a phone number
is not one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from cloudwatchdog.data import detectors as d
from cloudwatchdog.model import DataClass as C


def _words(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.IGNORECASE)


HEADER_EVIDENCE: Final[dict[C, re.Pattern[str]]] = {
    C.EMAIL: _words(r"e-?mail", r"mail_?addr", "メール"),
    C.IP_ADDRESS: _words(r"(?:^|_|\b)ip(?:_?addr(?:ess)?|v[46])?(?:$|_|\b)", r"remote_?addr", r"client_?ip",
                         r"src_?ip", "ipアドレス"),
    C.PHONE: _words(r"phone", r"(?:^|_|\b)tel(?:$|_|\b|ephone)", r"mobile", r"(?:^|_)cell", r"fax", "電話", "携帯",
                    "連絡先"),
    C.DATE_OF_BIRTH: _words(r"birth", r"(?:^|_|\b)dob(?:$|_|\b)", r"bday", "生年月日", "誕生日"),
    C.CREDIT_CARD: _words(r"card", r"(?:^|_)cc_?(?:num|no)", r"(?:^|_)pan(?:$|_)", "カード"),
    C.BANK_ACCOUNT: _words(r"iban", r"account_?(?:no|num)", r"bank_?acc", r"acct", "口座"),
    C.NATIONAL_ID: _words(r"ssn", r"social_?sec", r"national_?id", r"my_?number", r"tax_?id", "個人番号",
                          "マイナンバー"),
    C.PASSPORT: _words(r"passport", "旅券", "パスポート"),
    C.VIN: _words(r"(?:^|_|\b)vin(?:$|_|\b)", r"chassis", r"frame_?(?:no|num)", "車台番号"),
    C.VEHICLE_REGISTRATION: _words(r"plate", r"vehicle_?reg", r"registration_?(?:no|num)", "登録番号", "ナンバー"),
    C.POSTAL_ADDRESS: _words(r"addr", r"street", r"(?:^|_|\b)city", r"(?:^|_|\b)zip", r"post_?code", r"postal",
                             "住所", "所在地", "郵便番号", "番地"),
    C.PERSON_NAME: _words(r"(?:^|_|\b)(?:full_?|first_?|last_?|given_?|family_?|middle_?|customer_?|contact_?|sur)?"
                          r"name(?:$|_|\b)", "氏名", "名前", "お名前", "フリガナ", "ふりがな", "担当者"),
    C.CREDENTIAL: _words(r"passw", r"(?:^|_)pwd", r"secret", r"token", r"api_?key", r"(?:^|_)hash", r"private_?key",
                         "パスワード", "暗証番号"),
}
# Headers that say "not about a person": they veto the number-shaped classes and names.
HEADER_VETO: Final = _words(
    r"sku", r"(?:^|_)p/?n(?:$|_)", r"part", r"item", r"product", r"model", r"serial", r"order", r"(?:^|_)jan",
    r"(?:^|_)ean", r"upc", r"isbn", r"(?:^|_)code", r"firmware", r"version", r"build", "品番", "型番", "商品", "注文",
    r"file_?name", r"host_?name", r"compan", "会社", "社名", "品名", r"user_?name", r"login", r"maker", r"support",
    r"vendor", r"supplier")
_VETOED: Final = frozenset({C.PHONE, C.CREDIT_CARD, C.NATIONAL_ID, C.PERSON_NAME, C.BANK_ACCOUNT, C.VIN,
                            C.DATE_OF_BIRTH, C.IP_ADDRESS, C.PASSPORT})


@dataclass(frozen=True)
class CellRule:
    valid: Callable[[str], bool]  # the value alone proves the class
    needs_header: bool  # only with header evidence
    ratio_alone: float  # share of profile values that must validate without header evidence
    ratio_with_header: float
    with_header: Callable[[str], bool] | None = None  # a looser shape check once the header says so


RULES: Final[dict[C, CellRule]] = {
    C.EMAIL: CellRule(d.email_valid, False, .8, .5),
    C.PHONE: CellRule(d.phone_valid, False, .8, .5),
    C.CREDIT_CARD: CellRule(d.card_valid, False, .8, .5),
    C.NATIONAL_ID: CellRule(d.national_id_valid, False, .8, .5),
    C.BANK_ACCOUNT: CellRule(d.iban_valid, False, .8, .5,
                             lambda v: bool(re.fullmatch(r"\d{6,8}", v)) or d.iban_valid(v)),
    C.VIN: CellRule(d.vin_valid, False, .6, .8,
                    lambda v: bool(d.VIN_CANDIDATE.fullmatch(v) or d.JP_CHASSIS.fullmatch(v))),
    C.IP_ADDRESS: CellRule(d.ip_valid, False, .8, .5),
    C.DATE_OF_BIRTH: CellRule(d.birth_date_valid, True, 2, .7),
    C.POSTAL_ADDRESS: CellRule(d.address_valid, True, 2, .6,
                               lambda v: d.address_valid(v) or bool(d.POSTCODE.fullmatch(v))),
    C.PERSON_NAME: CellRule(d.name_shape, True, 2, .7),
    C.VEHICLE_REGISTRATION: CellRule(lambda v: bool(d.JP_PLATE.fullmatch(v)), False, .9, .6),
    C.PASSPORT: CellRule(lambda v: bool(d.PASSPORT_SHAPE.fullmatch(v)), True, 2, .8),
    C.CREDENTIAL: CellRule(d.credential_value, False, .6, .5, d.real_secret),
}


class ColumnKind:
    CLASSIFIED = "classified"  # every non-empty value counts as its class
    TEXT = "text"  # free text: every value is searched
    PLAIN = "plain"  # ids, amounts, timestamps: nothing personal in the profile


@dataclass(frozen=True)
class Column:
    kind: str
    data_class: C | None = None
    check: Callable[[str], bool] | None = None  # the validator used for examples and counting


def header_classes(header: str) -> set[C]:
    h = header.strip().lower()
    found = {c for c, pattern in HEADER_EVIDENCE.items() if pattern.search(h)}
    if C.IP_ADDRESS in found or C.EMAIL in found:
        found.discard(C.POSTAL_ADDRESS)  # ip_address, mail_address
    if HEADER_VETO.search(h):
        found -= _VETOED
    return found


def classify_column(header: str, values: Sequence[str]) -> Column:
    """The class of a column from its header and profile values (stripped, non-empty)."""
    values = [v for v in values if v]
    if not values:
        return Column(ColumnKind.PLAIN)
    evidence = header_classes(header)
    vetoed = HEADER_VETO.search(header.lower()) is not None
    best: tuple[float, C | None, Callable[[str], bool] | None] = (0.0, None, None)
    for cls, rule in RULES.items():
        has_header = cls in evidence
        if (rule.needs_header and not has_header) or (vetoed and cls in _VETOED):
            continue
        check = (rule.with_header if has_header else None) or rule.valid
        threshold = rule.ratio_with_header if has_header else rule.ratio_alone
        head = values[:50]
        ok = sum(1 for v in head if check(v))
        if ok / len(head) < threshold - .2:
            continue
        ok += sum(1 for v in values[50:] if check(v))
        score = ok / len(values)
        if score >= threshold and score + (.5 if has_header else 0) > best[0]:
            best = (score + (.5 if has_header else 0), cls, check)
    if best[1] is not None:
        return Column(ColumnKind.CLASSIFIED, best[1], best[2])
    if vetoed:
        return Column(ColumnKind.PLAIN)
    average = sum(len(v) for v in values) / len(values)
    spaced = sum(1 for v in values if " " in v or "=" in v or not v.isascii()) / len(values)
    return Column(ColumnKind.TEXT if average > 40 or spaced > .2 else ColumnKind.PLAIN)
