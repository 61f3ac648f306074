"""Benchmark: data sampling. Prints classification throughput per kind of file (MiB/s of CPU time on one core,
objects per second), the wall time and peak Python memory of sampling a 200 MiB object from a real moto server
(ranged GET of max_bytes), and precision/recall per class over the labelled test corpus (tests/data_corpus.py).

    .venv/bin/python bench/data_sampling.py [--rows 1500] [--no-moto]

Figures, not assertions (the test suite asserts the goals): precision >= 0.95 and recall >= 0.90 for every class
in the corpus, >= 20 MiB/s of CSV on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from data_corpus import build_corpus, precision_recall  # noqa: E402

from cloudwatchdog.data.budget import Budget  # noqa: E402
from cloudwatchdog.data.classify import classify_object  # noqa: E402

MIB = 1 << 20


def throughput(rows: int) -> None:
    """Each corpus object repeated to fill max_bytes (1 MiB), classified as the sampler would."""
    corpus = build_corpus(rows=rows * 4)
    print(f"{'object':44} {'MiB':>6} {'CPU s':>7} {'MiB/s':>7} {'objects/s':>9}")
    for o in corpus:
        body = o.body[:MIB]
        runs = 3
        start = time.process_time()
        for _ in range(runs):
            classify_object(o.key, body, truncated=len(o.body) > MIB, max_text=8 * MIB)
        cpu = (time.process_time() - start) / runs
        size = len(body) / MIB
        print(f"{o.key:44} {size:6.2f} {cpu:7.3f} {size / cpu if cpu else 0:7.1f} {1 / cpu if cpu else 0:9.1f}")


def big_object() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client
    from cloudwatchdog.providers.aws.sample import sample_s3
    from cloudwatchdog.settings.data_sampling import DataSamplingConfig

    with MotoServer() as moto:
        s3 = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
        s3.create_bucket(Bucket="big-dump")
        upload = s3.create_multipart_upload(Bucket="big-dump", Key="dump.csv")
        part = b"email,phone\n" + b"taro@example.jp,090-1234-5678\n" * (5 * MIB // 30 + 1)
        parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="big-dump", Key="dump.csv", PartNumber=n, Body=part,
                                                          UploadId=upload["UploadId"])["ETag"]} for n in range(1, 41)]
        s3.complete_multipart_upload(Bucket="big-dump", Key="dump.csv", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": parts})
        size = s3.head_object(Bucket="big-dump", Key="dump.csv")["ContentLength"]
        tracemalloc.start()
        start = time.perf_counter()
        sample = sample_s3(s3, "big-dump", DataSamplingConfig(enabled=True), Budget(256 * MIB))
        wall = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"\n{size / MIB:.0f} MiB object: read {sample.bytes_read / MIB:.2f} MiB in {wall:.2f} s, "
              f"peak Python memory {peak / MIB:.1f} MiB; {sample.summary()}")


def quality(rows: int) -> None:
    print(f"\n{'class':22} {'precision':>9} {'recall':>7} {'tp':>7} {'fp':>5} {'fn':>5}")
    for cls, (tp, fp, fn) in sorted(precision_recall(build_corpus(rows=rows)).items()):
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"{cls:22} {precision:9.3f} {recall:7.3f} {tp:7d} {fp:5d} {fn:5d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1500, help="rows per corpus file for precision/recall")
    parser.add_argument("--no-moto", action="store_true", help="skip the 200 MiB object (needs moto[server])")
    args = parser.parse_args()
    throughput(args.rows)
    if not args.no_moto:
        big_object()
    quality(args.rows)


if __name__ == "__main__":
    main()
