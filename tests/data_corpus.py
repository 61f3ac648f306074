"""A deterministic, labelled corpus of realistic object contents for data sampling tests and the bench.

``build_corpus(rows)`` returns objects (key -> bytes) with the true count of each data class in each object's
first ``max_bytes`` (every generator writes whole records, and the truth counts what it wrote): customer CSVs in
English and Japanese, JSON Lines telemetry with device ids, web server logs with IP addresses (plain and gzip), a
product catalogue whose part numbers look like phone numbers (no personal data), a config file with a private key
and secrets, and binary images (listed, not read). The values are generated and valid (check digits, real number
ranges), the people are fictional.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from dataclasses import dataclass, field

from stdnum import luhn
from stdnum.jp import in_ as jp_individual_number

from cloudwatchdog.data.classify import classify_object

EN_FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Susan", "Emma"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Taylor"]
JP_FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
JP_GIVEN = ["太郎", "花子", "翔太", "美咲", "大輔", "陽菜", "健太", "さくら", "拓海", "結衣"]
JP_PLACES = [("東京都", "渋谷区", "神南"), ("大阪府", "大阪市北区", "梅田"), ("神奈川県", "横浜市中区", "山下町"),
             ("北海道", "札幌市中央区", "大通西"), ("福岡県", "福岡市博多区", "博多駅前"),
             ("愛知県", "名古屋市中村区", "名駅")]
DOMAINS = ["example.jp", "example.com", "mail.example.co.jp"]
US_PLACES = [("Springfield", "IL", "62701"), ("Portland", "OR", "97205"), ("Austin", "TX", "78701"),
             ("Denver", "CO", "80202"), ("Boston", "MA", "02108")]
US_STREETS = ["Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Elm Road", "Park Place"]
WMIS = ["1HG", "JHM", "WVW", "5YJ", "JTD", "1FT", "KMH"]
_VIN_VALUES = str.maketrans("ABCDEFGHJKLMNPRSTUVWXYZ", "12345678123457923456789")
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

PEM_KEY = "\n".join([
    "-----BEGIN RSA PRIVATE KEY-----",
    *["MIIEowIBAAKCAQEA" + "x7Qk3Lr9" * 6 for _ in range(8)],
    "-----END RSA PRIVATE KEY-----",
])


@dataclass
class CorpusObject:
    key: str
    body: bytes
    truth: Counter[str] = field(default_factory=Counter)
    content_type: str = "text/plain"


class Faker:
    """Valid fictional values from a seeded generator."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def digits(self, n: int) -> str:
        return "".join(self.r.choice("0123456789") for _ in range(n))

    def en_name(self) -> str:
        return f"{self.r.choice(EN_FIRST)} {self.r.choice(EN_LAST)}"

    def jp_name(self) -> str:
        return f"{self.r.choice(JP_FAMILY)} {self.r.choice(JP_GIVEN)}"

    def email(self, i: int) -> str:
        return f"{self.r.choice(EN_FIRST).lower()}.{self.r.choice(EN_LAST).lower()}{i}@{self.r.choice(DOMAINS)}"

    def jp_mobile(self) -> str:
        return f"{self.r.choice(['090', '080', '070'])}-{self.r.randint(1000, 9999)}-{self.digits(4)}"

    def jp_landline(self) -> str:
        return f"03-{self.r.randint(3000, 6999)}-{self.digits(4)}"

    def us_phone(self) -> str:
        return f"+1 {self.r.choice(['212', '415', '312', '617'])}-{self.r.randint(200, 999)}-{self.digits(4)}"

    def jp_address(self) -> str:
        pref, city, town = self.r.choice(JP_PLACES)
        block = f"{self.r.randint(1, 9)}-{self.r.randint(1, 30)}-{self.r.randint(1, 20)}"
        return f"〒{self.digits(3)}-{self.digits(4)} {pref}{city}{town}{block}"

    def us_address(self) -> str:
        city, state, zipcode = self.r.choice(US_PLACES)
        return f"{self.r.randint(1, 9999)} {self.r.choice(US_STREETS)}, {city}, {state} {zipcode}"

    def birth_date(self) -> str:
        return f"{self.r.randint(1940, 2005)}-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d}"

    def card(self) -> str:
        iin = self.r.choice(["4", "51", "53", "55", "3530", "3566"])  # Visa, Mastercard, JCB
        body = iin + self.digits(15 - len(iin))
        number = body + luhn.calc_check_digit(body)
        return " ".join(number[i:i + 4] for i in range(0, 16, 4))

    def my_number(self) -> str:
        body = self.digits(11)
        return body + jp_individual_number.calc_check_digit(body)

    def vin(self) -> str:
        chars = list(self.r.choice(WMIS) + "".join(self.r.choice(_VIN_CHARS) for _ in range(14)))
        total = sum(int(c) * w for c, w in zip("".join(chars).translate(_VIN_VALUES), _VIN_WEIGHTS, strict=True))
        chars[8] = "X" if total % 11 == 10 else str(total % 11)
        return "".join(chars)

    def version(self) -> str:
        """Firmware versions shaped like IPv4 addresses."""
        return ".".join(str(self.r.randint(0, 250)) for _ in range(4))

    def ip(self) -> str:
        return f"{self.r.choice(['203.0.113', '198.51.100', '192.0.2'])}.{self.r.randint(1, 254)}"


def _csv(rows: list[list[str]]) -> bytes:
    def cell(v: str) -> str:
        return f'"{v}"' if "," in v or '"' in v else v
    return ("\n".join(",".join(cell(v) for v in row) for row in rows) + "\n").encode()


def customers_en(f: Faker, n: int) -> CorpusObject:
    rows = [["customer_id", "full_name", "email", "phone", "address", "date_of_birth", "card_number", "notes"]]
    truth: Counter[str] = Counter()
    for i in range(n):
        rows.append([f"C{100000 + i}", f.en_name(), f.email(i), f.us_phone(), f.us_address(), f.birth_date(),
                     f.card(), f.r.choice(["", "prefers e-mail", "VIP since 2019", "call after 5pm"])])
    truth.update({"person_name": n, "email": n, "phone": n, "postal_address": n, "date_of_birth": n,
                  "credit_card": n})
    return CorpusObject("customers/2023-05.csv", _csv(rows), truth, "text/csv")


def customers_ja(f: Faker, n: int) -> CorpusObject:
    rows = [["会員番号", "氏名", "メールアドレス", "電話番号", "住所", "生年月日", "車台番号", "個人番号", "備考"]]
    truth: Counter[str] = Counter()
    for i in range(n):
        rows.append([f"M{i:06d}", f.jp_name(), f.email(i), f.jp_mobile(), f.jp_address(), f.birth_date(), f.vin(),
                     f.my_number(), f.r.choice(["", "ゴールド会員", "DM不要"])])
    truth.update({"person_name": n, "email": n, "phone": n, "postal_address": n, "date_of_birth": n, "vin": n,
                  "national_id": n})
    return CorpusObject("customers/ja/2024-01.csv", _csv(rows), truth, "text/csv")


def telemetry(f: Faker, n: int) -> CorpusObject:
    lines = []
    for i in range(n):
        lines.append(json.dumps({"device_id": f"dev-{f.r.randint(0, 99999):05d}", "seq": i,
                                 "ts": f"2024-03-01T12:{i % 60:02d}:00Z", "client_ip": f.ip(), "vin": f.vin(),
                                 "firmware": f.version(),
                                 "reading": {"speed_kmh": f.r.randint(0, 120), "battery": round(f.r.random(), 3)}}))
    return CorpusObject("telemetry/2024/03/01.jsonl", ("\n".join(lines) + "\n").encode(),
                        Counter({"ip_address": n, "vin": n}), "application/x-ndjson")


def access_log(f: Faker, n: int) -> tuple[bytes, Counter[str]]:
    lines = []
    truth: Counter[str] = Counter()
    for i in range(n):
        path = f"/account?user={f.email(i)}" if i % 10 == 0 else f.r.choice(["/", "/index.html", "/api/v1/items/42"])
        truth["ip_address"] += 1
        truth["email"] += i % 10 == 0
        lines.append(f'{f.ip()} - - [10/Oct/2023:13:{i % 60:02d}:36 +0000] "GET {path} HTTP/1.1" 200 '
                     f'{f.r.randint(200, 9000)} "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"')
    return ("\n".join(lines) + "\n").encode(), truth


def catalogue(f: Faker, n: int) -> CorpusObject:
    """Part numbers shaped like Tokyo phone numbers, JAN codes, 16-digit order ids, firmware versions: nothing
    personal."""
    rows = [["sku", "part_no", "product_name", "description", "jan", "last_order_id", "firmware", "price_jpy"]]
    for i in range(n):
        part = f.jp_landline()
        rows.append([f"SKU-{i:06d}", part, f.r.choice(["Bracket", "Hinge", "Sensor", "Cable"]) + f" {i}",
                     f"Replacement for part {f.jp_landline()}, fits model {f.r.randint(100, 999)}",
                     "49" + f.digits(11), f.digits(16), f.version(),
                     str(f.r.randint(100, 50000))])
    return CorpusObject("catalogue/products.csv", _csv(rows), Counter(), "text/csv")


def config_file() -> CorpusObject:
    text = "\n".join([
        "# application settings", "[database]", "host = db.internal", "user = app", "password = s3cr3t-Pa55word!",
        "[aws]", "aws_access_key_id = AKIAZ3MRPKQVXBT7NDWS", "region = ap-northeast-1",
        "[placeholders]", "password = changeme", "api_key = ${API_KEY}",
        "[tls]", "private_key = <<EOF", PEM_KEY, "EOF", "",
    ])
    return CorpusObject("config/app/prod.conf", text.encode(), Counter({"credential": 3}))


def build_corpus(rows: int = 2000, seed: int = 7) -> list[CorpusObject]:
    f = Faker(seed)
    log, log_truth = access_log(f, rows)
    gz_log, gz_truth = access_log(f, rows)
    png = b"\x89PNG\r\n\x1a\n" + bytes(f.r.randrange(256) for _ in range(4096))
    return [
        customers_en(f, rows),
        customers_ja(f, rows),
        telemetry(f, rows),
        CorpusObject("logs/web/access.log", log, log_truth),
        CorpusObject("logs/web/access-2023-10-09.log.gz", gzip.compress(gz_log, mtime=0), gz_truth,
                     "application/gzip"),
        catalogue(f, rows),
        config_file(),
        CorpusObject("images/banner.png", png, Counter(), "image/png"),
    ]


def precision_recall(corpus: list[CorpusObject], max_bytes: int = 1 << 20) -> dict[str, tuple[int, int, int]]:
    """Per class (true positives, false positives, false negatives), counted per object."""
    scores: dict[str, list[int]] = {}
    for o in corpus:
        found = classify_object(o.key, o.body[:max_bytes], truncated=len(o.body) > max_bytes,
                                max_text=8 * max_bytes)
        got = Counter({c.value: n for c, n in found.counts.items()})
        for cls in set(got) | set(o.truth):
            tp_fp_fn = scores.setdefault(cls, [0, 0, 0])
            tp_fp_fn[0] += min(got[cls], o.truth[cls])
            tp_fp_fn[1] += max(0, got[cls] - o.truth[cls])
            tp_fp_fn[2] += max(0, o.truth[cls] - got[cls])
    return {c: (v[0], v[1], v[2]) for c, v in scores.items()}
