"""Masking: enough of a value to recognise the kind of record, never the value (``t***@e***.jp``,
``090-****-5678``). Only masked values leave the classifier."""

from __future__ import annotations

import re

from cloudwatchdog.model import DataClass

_DIGIT = re.compile(r"\d")


def _keep_last(value: str, keep: int, *, keep_separators: bool = True) -> str:
    """Every letter and digit but the last ``keep`` becomes '*'; separators stay."""
    total = sum(c.isalnum() for c in value)
    out, seen = [], 0
    for c in value:
        if c.isalnum():
            seen += 1
            out.append(c if seen > total - keep else "*")
        elif keep_separators:
            out.append(c)
    return "".join(out)


def _phone(value: str) -> str:
    """Keep the '+country' or trunk/area group and the last four digits: 090-****-5678, +1 ***-***-0188."""
    if (prefix := re.match(r"\+\d{1,3}[ -]", value)) is not None:  # +81 90-1234-5678: the country code stays
        return prefix.group() + _phone(value[prefix.end():])
    groups = re.split(r"([^\d]+)", value)
    keep_first = len(groups) >= 5 and value[:1] in "+0(" and len(groups[0]) <= 4
    total = sum(c.isdigit() for c in value)
    out, seen = [], 0
    for i, group in enumerate(groups):
        if (i == 0 and keep_first) or i % 2 == 1:
            out.append(group)
            seen += sum(c.isdigit() for c in group)
            continue
        chars = []
        for c in group:
            seen += c.isdigit()
            chars.append(c if seen > total - 4 else "*")
        out.append("".join(chars))
    return "".join(out)


def mask(data_class: DataClass, value: str) -> str:
    value = value.strip()
    if data_class is DataClass.EMAIL:
        local, _, domain = value.rpartition("@")
        labels = domain.split(".")
        if len(labels) < 2:
            return f"{local[:1]}***@***"
        return f"{local[:1]}***@{labels[0][:1]}***." + ".".join(labels[1:])
    if data_class is DataClass.PHONE:
        return _phone(value)
    if data_class in (DataClass.CREDIT_CARD, DataClass.NATIONAL_ID, DataClass.BANK_ACCOUNT):
        return _keep_last(value, 4)
    if data_class is DataClass.IP_ADDRESS:
        if ":" in value:
            return value.split(":")[0] + ":****:…"
        parts = value.split(".")
        return f"{parts[0]}.{parts[1]}.*.*" if len(parts) == 4 else "*.*.*.*"
    if data_class is DataClass.CREDENTIAL:
        return f"[{len(value)} characters]"
    if data_class in (DataClass.VIN, DataClass.PASSPORT, DataClass.VEHICLE_REGISTRATION):
        return value[:3] + "*" * max(0, len(value) - 5) + value[-2:] if len(value) > 6 else "*" * len(value)
    if data_class is DataClass.DATE_OF_BIRTH:
        return value[:4] + _DIGIT.sub("*", value[4:]) if value[:4].isdigit() else _DIGIT.sub("*", value)
    if data_class is DataClass.PERSON_NAME:
        return " ".join(part[:1] + "*" * (len(part) - 1) for part in value.split())
    # postal address: the prefecture or the postcode's shape, nothing that locates a house
    return value[:4] + "…" if not value[:1].isdigit() else "…" + _DIGIT.sub("*", value[-8:])
