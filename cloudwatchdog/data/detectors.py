"""Detectors: a cheap regular-expression prefilter finds candidates, a library validates them.

phonenumbers validates phone numbers (``parse`` + ``is_valid_number``; never ``PhoneNumberMatcher``, which gives
up silently on large text), python-stdnum card numbers (Luhn), IBANs, the Japanese Individual Number and US SSNs,
email-validator e-mail addresses (syntax only, no DNS). Context-dependent classes (dates of birth, national ids,
passports, names) need a label before the value in free text, or header evidence in structured files.
"""

from __future__ import annotations

import bisect
import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Final

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.jp import in_ as jp_individual_number
from stdnum.us import ssn as us_ssn

from cloudwatchdog.model import DataClass

Hit = tuple[DataClass, str]
_NONDIGIT: Final = re.compile(r"\D")

# --- phone ---------------------------------------------------------------------------------------------------

PHONE_CANDIDATE: Final = re.compile(
    r"(?<![\w+/.-])(?:\+\d{1,3}[ -]?)?(?:\(\d{1,5}\)[ -]?)?\d{1,5}(?:[ .-]?\(?\d{1,5}\)?){1,4}(?![\w/-]|\.\d)")
_NANP_SHAPE: Final = re.compile(r"(?:\+?1[ -]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}")
_NOT_PERSONAL: Final = frozenset({
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST, phonenumbers.PhoneNumberType.UAN, phonenumbers.PhoneNumberType.VOICEMAIL,
})


@lru_cache(maxsize=65536)
def phone_valid(candidate: str) -> bool:
    """A person's phone number: '+' international, a leading 0 read as Japanese, the NANP shape as US. Toll-free,
    premium and shared-cost numbers are companies', not people's."""
    candidate = candidate.strip()
    digits = _NONDIGIT.sub("", candidate)
    if not 9 <= len(digits) <= 15:
        return False
    if candidate.startswith("+"):
        region = None
    elif digits[0] == "0" and len(digits) in (10, 11):
        region = "JP"
    elif _NANP_SHAPE.fullmatch(candidate):
        region = "US"
    else:
        return False
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) not in _NOT_PERSONAL


# --- numbers with check digits -------------------------------------------------------------------------------

_CARD_IIN: Final = re.compile(r"4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|35(?:2[89]|[3-8]\d)|6(?:011|5|4[4-9])|62")
CARD_CANDIDATE: Final = re.compile(r"(?<![\w-])\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,4}(?:[ -]?\d{3})?(?![\w-])"
                                   r"|(?<![\w-])3[47]\d\d[ -]\d{6}[ -]\d{5}(?![\w-])")
_CARD_GROUPED: Final = re.compile(r"\d{4}([ -])\d{4}\1\d{4}\1\d{4}|\d{4}([ -])\d{6}\2\d{5}")


def card_valid(candidate: str) -> bool:
    digits = _NONDIGIT.sub("", candidate)
    if not 14 <= len(digits) <= 19 or not _CARD_IIN.match(digits):
        return False
    if digits[:2] in ("34", "37") and len(digits) != 15:
        return False
    return bool(luhn.is_valid(digits))


IBAN_CANDIDATE: Final = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Z0-9])")


def iban_valid(candidate: str) -> bool:
    return IBAN_CANDIDATE.fullmatch(candidate.strip()) is not None and bool(std_iban.is_valid(candidate))


MY_NUMBER_CANDIDATE: Final = re.compile(r"(?<!\d)\d{4} ?\d{4} ?\d{4}(?!\d)")
SSN_CANDIDATE: Final = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")


def national_id_valid(candidate: str) -> bool:
    """The Japanese Individual Number (My Number, check digit) or a US SSN (issuance rules)."""
    candidate = candidate.strip()
    if MY_NUMBER_CANDIDATE.fullmatch(candidate):
        return bool(jp_individual_number.is_valid(_NONDIGIT.sub("", candidate)))
    return SSN_CANDIDATE.fullmatch(candidate) is not None and bool(us_ssn.is_valid(candidate))


VIN_CANDIDATE: Final = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])(?=[A-HJ-NPR-Z0-9]*\d)[A-HJ-NPR-Z0-9]{17}(?![A-Za-z0-9])")
_VIN_VALUES: Final = str.maketrans("ABCDEFGHJKLMNPRSTUVWXYZ", "12345678123457923456789")
_VIN_WEIGHTS: Final = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
JP_CHASSIS: Final = re.compile(r"(?:[A-Z]{2,3}-)?[A-Z0-9]{2,7}-\d{6,7}")  # 車台番号 of Japanese-market cars


def vin_valid(candidate: str) -> bool:
    """ISO 3779 / SAE J853 check digit (position 9), the VIN alphabet (no I, O, Q)."""
    if VIN_CANDIDATE.fullmatch(candidate) is None:
        return False
    total = sum(int(c) * w for c, w in zip(candidate.translate(_VIN_VALUES), _VIN_WEIGHTS, strict=True)) % 11
    return candidate[8] == ("X" if total == 10 else str(total))


# --- network, e-mail -----------------------------------------------------------------------------------------

IPV4_CANDIDATE: Final = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6_HINT: Final = re.compile(r"[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:")
IPV6_CANDIDATE: Final = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{3,39}(?![\w:])")


def ip_valid(candidate: str) -> bool:
    try:
        ip = ipaddress.ip_address(candidate.strip())
    except ValueError:
        return False
    return not (ip.is_unspecified or ip.is_loopback or str(ip) == "255.255.255.255")


EMAIL_CANDIDATE: Final = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9_%+-][A-Za-z0-9_.%+-]{0,63}@[A-Za-z0-9\u00a0-\uffff-]+(?:\.[A-Za-z0-9\u00a0-\uffff-]+)+")
_JP_CARRIERS: Final = frozenset({"docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp"})


@lru_cache(maxsize=65536)
def email_valid(candidate: str) -> bool:
    """RFC 5321/5322 syntax and a real domain shape (email-validator, no DNS); the legacy addresses of Japanese
    mobile carriers (``a..b@docomo.ne.jp``) count too."""
    local, at, domain = candidate.strip().rpartition("@")
    if not at or not local or "." not in domain:
        return False
    if domain.lower() in _JP_CARRIERS and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", local):
        return True
    try:
        validate_email(candidate.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


# --- dates of birth, addresses, names, plates, passports -----------------------------------------------------

DATE_CANDIDATE: Final = re.compile(
    r"(?<!\d)(?:(?P<y>(?:19|20)\d\d)[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?|(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/"
    r"(?P<y2>(?:19|20)\d\d)|(?P<era>明治|大正|昭和|平成|令和)(?P<ey>\d{1,2}|元)年(?P<em>\d{1,2})月(?P<ed>\d{1,2})日)(?![\d:T])")
_ERAS: Final = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}


def birth_date_valid(candidate: str) -> bool:
    """A real calendar date a living person could be born on (1900 to today)."""
    m = DATE_CANDIDATE.fullmatch(candidate.strip())
    if m is None:
        return False
    g = m.groupdict()
    try:
        if g["y"]:
            day = dt.date(int(g["y"]), int(g["m"]), int(g["d"]))
        elif g["y2"]:
            day = dt.date(int(g["y2"]), int(g["m2"]), int(g["d2"]))
        else:
            year = 1 if g["ey"] == "元" else int(g["ey"])
            day = dt.date(_ERAS[g["era"]] + year, int(g["em"]), int(g["ed"]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= day <= dt.date.today()


_PREFECTURES: Final = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|新潟県|富山県|石川県|"
    "福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|"
    "山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県")
JP_ADDRESS: Final = re.compile(
    rf"(?:〒?\s?\d{{3}}-\d{{4}}\s*)?(?:{_PREFECTURES})\S{{1,12}}?[市区町村郡]\S*?[0-9\uff10-\uff19]+(?:丁目|番地?|号|[-\uff0dー][0-9\uff10-\uff19]+)"
    r"[^\s,;、]*")
_US_STATES: Final = ("AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
                     "NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC")
US_ADDRESS: Final = re.compile(
    rf"\b\d{{1,6}} (?:[A-Z][A-Za-z.]* ){{1,4}}(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Lane|Ln|Drive|Dr|Way|Ct|"
    rf"Court|Pl|Place|Terrace)\.?,?(?: (?:Apt|Suite|Unit|#) ?\w+,?)? (?:[A-Z][a-z]+ ?){{1,3}},? (?:{_US_STATES}) "
    r"\d{5}(?:-\d{4})?\b")
POSTCODE: Final = re.compile(r"〒?\s?\d{3}-\d{4}|\d{5}(?:-\d{4})?")


def address_valid(value: str) -> bool:
    """A Japanese address (prefecture, municipality, block number) or a US street address; with header evidence
    a postcode alone counts (the caller decides)."""
    return bool(JP_ADDRESS.search(value) or US_ADDRESS.search(value))


JP_NAME: Final = re.compile(r"[\u4e00-\u9fff々]{1,4}[ 　]?[\u3040-\u30ff\u4e00-\u9fff々]{1,4}")
EN_NAME: Final = re.compile(r"(?:(?:Mr|Mrs|Ms|Dr)\.? )?[A-Z][a-z'\u2019-]+(?: [A-Z]\.?)?(?: [A-Z][a-z'\u2019-]+){1,2}")
KANA_NAME: Final = re.compile(r"[\u30a0-\u30ff]{1,8}[ 　]?[\u30a0-\u30ff]{1,8}")


def name_shape(value: str) -> bool:
    return bool(JP_NAME.fullmatch(value) or EN_NAME.fullmatch(value) or KANA_NAME.fullmatch(value))


JP_PLATE: Final = re.compile(  # 品川 330 さ 12-34
    r"[\u4e00-\u9fff\u3040-\u309f]{1,4}\s?\d{2,3}\s?[\u3040-\u309f]\s?(?:\d{1,2}-\d{2}|・{1,3}\d{1,3})")
PASSPORT_SHAPE: Final = re.compile(r"[A-Z]{1,2}\d{6,8}|\d{9}")

# --- credentials ---------------------------------------------------------------------------------------------

CREDENTIAL_PATTERNS: Final = (
    re.compile(r"-----BEGIN (?:[A-Z]+ )?(?:ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----"),
    re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Z0-9])"),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})\b"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    re.compile(r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}"),
    re.compile(r"\$[156]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,86}"),
    re.compile(r"\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}"),
)
_CREDENTIAL_PREFIX: Final = re.compile(
    r"-----BEGIN|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abposr]-|k_live_|AIza|\$2|\$[156]\$|\$argon2")
SECRET_ASSIGNMENT: Final = re.compile(
    r"(?i:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key|パスワード|暗証番号)"
    r"[\w.-]*[\"']?[ \t]*(?:=|:|=>)[ \t]*(?P<q>[\"']?)(?P<val>[^\s\"',;&]{4,200})(?P=q)")
PLACEHOLDER: Final = re.compile(
    r"(?i)^(?:[<{].*|\$\{.*|\$[A-Z_]+|%\([^)]*\)s|x+|\*+|changeme|password|secret|none|null|true|false|example\w*|"
    r"your[_-]?\w*|\d{1,3}|%s|\?+|redacted|dummy|test|\.\.\.)$")
_AWS_EXAMPLES: Final = frozenset({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})


def credential_value(value: str) -> bool:
    """A whole value that is a key, token or password hash."""
    value = value.strip()
    return value not in _AWS_EXAMPLES and any(p.fullmatch(value) for p in CREDENTIAL_PATTERNS)


def real_secret(value: str) -> bool:
    """A password-like value under a secret's name, not a placeholder (``changeme``, ``${DB_PASSWORD}``)."""
    return len(value) >= 4 and not PLACEHOLDER.match(value) and value not in _AWS_EXAMPLES


# --- free text -----------------------------------------------------------------------------------------------

_CONTEXT: Final = {
    DataClass.NATIONAL_ID: re.compile(r"(?i)マイナンバー|個人番号|my ?number|\bssn\b|social security"),
    DataClass.DATE_OF_BIRTH: re.compile(r"(?i)birth|\bdob\b|\bborn\b|生年月日|誕生日|生まれ"),
    "not_phone": re.compile(
        r"(?i)\bp/?n\b|\bsku\b|part|品番|型番|model|item|order|ticket|\bid\b|\bno\.|serial|\bjan\b|#"),
    "not_ip": re.compile(r"(?i)version|\bver\b|\bv\.? ?$|firmware|\bfw\b|build|バージョン"),
}
PASSPORT_IN_TEXT: Final = re.compile(
    r"(?:passport|Passport|PASSPORT|旅券|パスポート)(?:[ \t]*(?:no\.?|No\.?|number|番号))?[ \t]*[:\uff1a#=]?[ \t]*"
    r"(?P<v>[A-Z]{1,2}\d{7,8}|\d{9})\b")
NAME_IN_TEXT: Final = re.compile(
    r"(?:(?:氏名|名前|お名前|担当者?)[:\uff1a]?\s*"
    r"(?P<jn>[\u4e00-\u9fff々]{1,4}[ 　]?[\u3040-\u30ff\u4e00-\u9fff々]{1,4}))"
    r"|(?P<jn2>[\u4e00-\u9fff々]{1,4}[ 　]?[\u4e00-\u9fff々]{1,4})(?:様|さま|殿)"
    r"|(?:\b(?:[Nn]ame|Customer|Dear)\b:?\s*|\b(?:Mr|Mrs|Ms|Dr)\.? )"
    r"(?P<en>[A-Z][a-z'\u2019-]+(?: [A-Z][a-z'\u2019-]+){0,2})")


def _before(text: str, start: int, key: DataClass | str, width: int) -> bool:
    return _CONTEXT[key].search(text, max(0, start - width), start) is not None


def find_in_text(text: str, skip: frozenset[DataClass] = frozenset()) -> Iterator[Hit]:
    """Every validated value in free text (a log line block, a notes column), each span claimed once: a value
    that is an e-mail address is not also searched for a phone number. ``skip``: classes not searched (already
    found often enough; credentials are always searched)."""
    starts: list[int] = []  # claimed spans, sorted and disjoint
    ends: list[int] = []

    def claim(start: int, end: int) -> bool:
        i = bisect.bisect_left(starts, start)
        if (i > 0 and ends[i - 1] > start) or (i < len(starts) and starts[i] < end):
            return False
        starts.insert(i, start)
        ends.insert(i, end)
        return True

    found: list[Hit] = []

    def add(cls: DataClass, m: re.Match[str], group: int | str = 0) -> None:
        if claim(m.start(group), m.end(group)):
            found.append((cls, m.group(group)))

    if _CREDENTIAL_PREFIX.search(text):
        for pattern in CREDENTIAL_PATTERNS:
            for m in pattern.finditer(text):
                if m.group() not in _AWS_EXAMPLES:
                    add(DataClass.CREDENTIAL, m)
    lower = text.lower()
    japanese = not text.isascii()

    def mentions(*words: str) -> bool:  # a cheap substring prefilter before a costly pattern
        return any(w in lower for w in words)

    if mentions("pass", "pwd", "secret", "key", "token", "パスワード", "暗証番号"):
        for m in SECRET_ASSIGNMENT.finditer(text):
            if real_secret(m.group("val")):
                add(DataClass.CREDENTIAL, m, "val")
    if "@" in text and DataClass.EMAIL not in skip:
        for m in EMAIL_CANDIDATE.finditer(text):
            if email_valid(m.group()):
                add(DataClass.EMAIL, m)
    for m in IBAN_CANDIDATE.finditer(text) if DataClass.BANK_ACCOUNT not in skip else ():
        if iban_valid(m.group()):
            add(DataClass.BANK_ACCOUNT, m)
    for m in CARD_CANDIDATE.finditer(text) if DataClass.CREDIT_CARD not in skip else ():
        if card_valid(m.group()) and _CARD_GROUPED.fullmatch(m.group()):
            add(DataClass.CREDIT_CARD, m)
    for m in VIN_CANDIDATE.finditer(text) if DataClass.VIN not in skip else ():
        if vin_valid(m.group()):
            add(DataClass.VIN, m)
    national_id_words = ("マイナンバー", "個人番号", "my number", "mynumber", "ssn", "social security")
    if DataClass.NATIONAL_ID not in skip and mentions(*national_id_words):
        for pattern in (SSN_CANDIDATE, MY_NUMBER_CANDIDATE):
            for m in pattern.finditer(text):
                if national_id_valid(m.group()) and _before(text, m.start(), DataClass.NATIONAL_ID, 30):
                    add(DataClass.NATIONAL_ID, m)
    if DataClass.PASSPORT not in skip and mentions("passport", "旅券", "パスポート"):
        for m in PASSPORT_IN_TEXT.finditer(text):
            add(DataClass.PASSPORT, m, "v")
    ip = DataClass.IP_ADDRESS not in skip
    for m in IPV4_CANDIDATE.finditer(text) if ip else ():
        if ip_valid(m.group()) and not _before(text, m.start(), "not_ip", 12):
            add(DataClass.IP_ADDRESS, m)
    if ip and ("::" in text or _IPV6_HINT.search(text)):
        for m in IPV6_CANDIDATE.finditer(text):
            if ip_valid(m.group()):
                add(DataClass.IP_ADDRESS, m)
    if DataClass.DATE_OF_BIRTH not in skip and mentions("birth", "dob", "born", "生年月日", "誕生日", "生まれ"):
        for m in DATE_CANDIDATE.finditer(text):
            if _before(text, m.start(), DataClass.DATE_OF_BIRTH, 20) and birth_date_valid(m.group()):
                add(DataClass.DATE_OF_BIRTH, m)
    for m in PHONE_CANDIDATE.finditer(text) if DataClass.PHONE not in skip else ():
        if len(m.group()) >= 9 and not _before(text, m.start(), "not_phone", 14) and phone_valid(m.group()):
            add(DataClass.PHONE, m)
    addresses = () if DataClass.POSTAL_ADDRESS in skip else (JP_ADDRESS, US_ADDRESS) if japanese else (US_ADDRESS,)
    for pattern in addresses:
        for m in pattern.finditer(text):
            add(DataClass.POSTAL_ADDRESS, m)
    if japanese and DataClass.VEHICLE_REGISTRATION not in skip:
        for m in JP_PLATE.finditer(text):
            add(DataClass.VEHICLE_REGISTRATION, m)
    if DataClass.PERSON_NAME not in skip and (japanese or mentions("name", "customer", "dear", "mr", "ms", "dr")):
        for m in NAME_IN_TEXT.finditer(text):
            group = "jn" if m.group("jn") else "jn2" if m.group("jn2") else "en"
            add(DataClass.PERSON_NAME, m, group)
    return iter(found)
