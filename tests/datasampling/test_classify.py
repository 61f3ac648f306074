"""The pure classifier over the labelled corpus: precision and recall per class, masking, the look-alikes that are
not personal data, gzip, bounded reading, the object choice and the byte budget."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from data_corpus import CorpusObject, build_corpus, precision_recall
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudwatchdog.data.budget import Budget, ObjectInfo, ReadFailure
from cloudwatchdog.data.classify import classify_object, summarise
from cloudwatchdog.data.masking import mask
from cloudwatchdog.data.sampling import choose, sample_resource
from cloudwatchdog.model import DataClass, DataStatus

MIB = 1 << 20


@pytest.fixture(scope="module")
def corpus() -> list[CorpusObject]:
    return build_corpus(rows=1500)


def test_precision_and_recall_per_class_meet_the_goal(corpus: list[CorpusObject]) -> None:
    scores = precision_recall(corpus)
    present = {c for o in corpus for c in o.truth}
    assert present >= {"person_name", "email", "phone", "postal_address", "date_of_birth", "credit_card", "vin",
                       "national_id", "ip_address", "credential"}
    lines = []
    for cls, (tp, fp, fn) in sorted(scores.items()):
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        lines.append(f"{cls}: precision {precision:.3f} recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn})")
        assert precision >= 0.95 and recall >= 0.90, lines[-1]
    print("\n".join(lines))


def test_a_catalogue_of_phone_shaped_part_numbers_is_not_personal_data(corpus: list[CorpusObject]) -> None:
    catalogue = next(o for o in corpus if o.key.startswith("catalogue/"))
    assert re.search(rb"\n[^,]+,0\d-\d{4}-\d{4},", catalogue.body), "the part numbers do look like phone numbers"
    found = classify_object(catalogue.key, catalogue.body, truncated=False)
    assert found.read and found.counts == {}


def test_gzip_is_read_transparently_and_binary_is_listed_not_read(corpus: list[CorpusObject]) -> None:
    log = next(o for o in corpus if o.key.endswith(".log.gz"))
    assert log.body[:2] == b"\x1f\x8b"
    found = classify_object(log.key, log.body, truncated=False)
    assert found.counts[DataClass.IP_ADDRESS] == log.truth["ip_address"]
    png = next(o for o in corpus if o.key.endswith(".png"))
    assert not classify_object(png.key, png.body, truncated=False).read
    assert not classify_object("blob.dat", b"\x00\x01binary\x00", truncated=False).read


def test_gzip_bomb_is_inflated_only_up_to_the_bound() -> None:
    bomb = gzip.compress(b"a,b\n" + b"0,0\n" * (16 * MIB), mtime=0)  # 64 MiB inflated, ~64 KiB compressed
    found = classify_object("x.csv.gz", bomb, truncated=False, max_text=MIB)
    assert found.read and found.counts == {}


def test_masked_examples_never_hold_a_value_in_clear(corpus: list[CorpusObject]) -> None:
    assert mask(DataClass.EMAIL, "taro@example.jp") == "t***@e***.jp"
    assert mask(DataClass.PHONE, "090-1234-5678") == "090-****-5678"
    assert mask(DataClass.CREDIT_CARD, "4111 1111 1111 1111") == "**** **** **** 1111"
    assert mask(DataClass.CREDENTIAL, "s3cr3t-Pa55word!") == "[16 characters]"
    customers = next(o for o in corpus if o.key == "customers/2023-05.csv")
    found = classify_object(customers.key, customers.body, truncated=False)
    text = customers.body.decode()
    for cls, examples in found.examples.items():
        assert examples, cls
        for example in examples:
            assert example not in text, f"{cls}: {example} appears in clear"
    conf = next(o for o in corpus if o.key.endswith(".conf"))
    secrets = classify_object(conf.key, conf.body, truncated=False)
    assert secrets.counts == {DataClass.CREDENTIAL: 3}  # the password, the access key, the private key
    assert all("Pa55" not in e and "AKIA" not in e for e in secrets.examples[DataClass.CREDENTIAL])


def test_japanese_headers_are_evidence() -> None:
    body = ("氏名,住所,生年月日,備考\n山田 太郎,東京都千代田区千代田1-1,1980-01-02,\n"
            "佐藤 花子,大阪府大阪市北区梅田3-1-1,1975-12-31,\n")
    found = classify_object("meibo.csv", body.encode(), truncated=False)
    assert found.counts == {DataClass.PERSON_NAME: 2, DataClass.POSTAL_ADDRESS: 2, DataClass.DATE_OF_BIRTH: 2}
    plain = "品名,発売日\n山田 太郎,1980-01-02\n佐藤 花子,1975-12-31\n"  # no header evidence: names and dates unproven
    assert classify_object("items.csv", plain.encode(), truncated=False).counts == {}


def test_a_cut_object_drops_its_partial_last_line() -> None:
    body = b"email\n" + b"".join(f"user{i}@example.com\n".encode() for i in range(100))
    cut = body[:len(body) - 7]
    found = classify_object("u.csv", cut, truncated=True)
    assert found.counts == {DataClass.EMAIL: 99}


def test_json_lines_key_paths_are_columns() -> None:
    lines = [json.dumps({"device_id": f"dev-{i}", "owner": {"email": f"o{i}@example.jp", "name": "Jane Doe"}})
             for i in range(30)]
    found = classify_object("t.jsonl", "\n".join(lines).encode(), truncated=False)
    assert found.counts == {DataClass.EMAIL: 30, DataClass.PERSON_NAME: 30}


def test_choose_covers_prefixes_newest_and_largest() -> None:
    objects = [ObjectInfo(f"busy/{i:03d}.csv", 100, f"2024-01-01T00:{i % 60:02d}:00") for i in range(50)]
    objects += [ObjectInfo("quiet/old.csv", 50, "2020-01-01T00:00:00"),
                ObjectInfo("huge/dump.csv", 10 * MIB, "2019-01-01T00:00:00"),
                ObjectInfo("media/a.png", 999, "2025-01-01T00:00:00"), ObjectInfo("empty.txt", 0, "2025-01-01")]
    chosen = [o.key for o in choose(objects, 5)]
    assert len(chosen) == 5
    assert "huge/dump.csv" in chosen and "quiet/old.csv" in chosen and "busy/049.csv" not in chosen[5:]
    assert "media/a.png" not in chosen and "empty.txt" not in chosen
    assert sum(k.startswith("busy/") for k in chosen) == 3


def test_unreadable_objects_are_unknown_never_no_personal_data() -> None:
    objects = [ObjectInfo("a.csv", 100, "2024"), ObjectInfo("b.csv", 100, "2024")]

    def denied(o: ObjectInfo, n: int) -> bytes:
        raise ReadFailure("AccessDenied", "Access Denied")

    sample = sample_resource(lambda limit: objects, denied, max_objects=5, max_bytes=MIB, budget=Budget(MIB))
    assert sample.status is DataStatus.UNKNOWN and "AccessDenied" in sample.reason and not sample.classes

    def not_listed(limit: int) -> list[ObjectInfo]:
        raise ReadFailure("KMS.DisabledException", "key disabled")

    listing = sample_resource(not_listed, denied, max_objects=5, max_bytes=MIB, budget=Budget(MIB))
    assert listing.status is DataStatus.UNKNOWN and "KMS.DisabledException" in listing.reason


def test_the_scan_byte_budget_bounds_reads_across_resources() -> None:
    budget = Budget(3000)
    asked: list[int] = []

    def read(o: ObjectInfo, n: int) -> bytes:
        asked.append(n)
        return b"email\n" + b"x@example.com\n" * (n // 14)

    objects = [ObjectInfo(f"{i}.csv", 2000, "2024") for i in range(3)]
    first = sample_resource(lambda limit: objects, read, max_objects=3, max_bytes=1024, budget=budget)
    second = sample_resource(lambda limit: objects, read, max_objects=3, max_bytes=1024, budget=budget)
    assert sum(asked) <= 3000 and max(asked) <= 1024
    assert first.status is DataStatus.SAMPLED and first.bytes_read <= 3000
    assert second.status is DataStatus.NOT_SAMPLED and "budget" in second.reason


def test_summary_reads_like_the_issue() -> None:
    from cloudwatchdog.data.classify import ObjectFindings
    findings = [ObjectFindings("customers/2023-05.csv", True, {DataClass.EMAIL: 1204, DataClass.PHONE: 1198},
                               {DataClass.EMAIL: ("t***@e***.jp",)})]
    findings += [ObjectFindings(f"img/{i}.txt", True) for i in range(19)]
    sample = summarise(findings, listed=120, bytes_read=10)
    assert sample.summary() == ("1,204 e-mail addresses, 1,198 phone numbers in 1 of 20 sampled objects "
                                "(customers/2023-05.csv)")
    doc = sample.to_dict()
    assert doc["status"] == "sampled" and doc["objects_sampled"] == 20
    assert doc["classes"][0] == {"class": "email", "count": 1204, "objects": 1, "keys": ["customers/2023-05.csv"],
                                 "examples": ["t***@e***.jp"]}


def test_class_names_are_the_contract() -> None:
    assert [c.value for c in DataClass] == [
        "person_name", "email", "phone", "postal_address", "date_of_birth", "credit_card", "bank_account",
        "national_id", "passport", "vin", "vehicle_registration", "ip_address", "credential"]


@settings(max_examples=150, deadline=None)
@given(body=st.one_of(st.binary(max_size=2048),
                      st.text(alphabet="a,\"\n\t{}[]:@.0123456789-+ 東京都氏名", max_size=600).map(str.encode)),
       key=st.sampled_from(["a.csv", "b.tsv", "c.json", "d.jsonl", "e.log", "f", "g.csv.gz", "h.png"]),
       truncated=st.booleans())
def test_any_bytes_classify_without_raising(body: bytes, key: str, truncated: bool) -> None:
    found = classify_object(key, body, truncated=truncated)
    assert all(n > 0 for n in found.counts.values())


def test_hostile_structure_is_read_without_raising() -> None:
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    assert classify_object("deep.json", deep, truncated=False).counts == {}
    ragged = b"email\nx@example.com,extra,cells\n\n,\ny@example.jp\n" + b'"unterminated\n' * 3
    assert classify_object("r.csv", ragged, truncated=False).counts.get(DataClass.EMAIL, 0) >= 1
    wide = ("email," * 5000 + "\n").encode() + b"a@example.com\n"
    classify_object("wide.csv", wide, truncated=False)


def test_a_long_log_extrapolates_classes_found_often_enough() -> None:
    lines = [f"198.51.100.{i % 250 + 1} GET /a{'?u=user' + str(i) + '@example.com' if i % 10 == 0 else ''} 200"
             for i in range(6000)]
    found = classify_object("app.log", "\n".join(lines).encode(), truncated=False)
    assert found.counts == {DataClass.IP_ADDRESS: 6000, DataClass.EMAIL: 600}
