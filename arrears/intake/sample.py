"""A realistic, entirely fictitious sample portfolio (for `make run`, benchmarks, tests).

Names, phones, ids and addresses are invented from small lists with a seeded generator;
national ids carry valid check digits so they pass intake like real ones. Buckets,
balances (some above the legal threshold), time zones, contacts and flags vary the way a
bank's monthly placement file does.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from domain.placement import cn_id_check_digit

COLUMNS = (
    "account_id", "debtor_name", "national_id", "mobile", "home_phone", "work_phone",
    "home_address", "work_address", "contacts", "timezone", "credit_limit", "principal",
    "interest", "fees", "statement_day", "grace_days", "oldest_unpaid_due_date",
    "unpaid_minimum", "segment", "flags",
)  # fmt: skip
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
]
_CITIES = [
    ("北京市", "朝阳区"),
    ("上海市", "浦东新区"),
    ("广州市", "天河区"),
    ("深圳市", "南山区"),
    ("成都市", "武侯区"),
    ("杭州市", "西湖区"),
]
_RELATIONS = ["spouse", "parent", "sibling", "colleague", "friend"]
_ZONES = ["Asia/Shanghai"] * 8 + ["Asia/Urumqi", "America/New_York"]
_SEGMENTS = ["standard", "premium", "young-professional", "cash-heavy"]


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"


def _national_id(rng: random.Random) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randint(0, 12_000))
    first17 = f"{rng.randint(110000, 650000)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + cn_id_check_digit(first17)


def _address(rng: random.Random) -> str:
    city, district = rng.choice(_CITIES)
    return (
        f"{city}{district}{rng.randint(1, 300)}号{rng.randint(1, 30)}栋{rng.randint(101, 2505)}室"
    )


def sample_rows(count: int, *, seed: int = 7, as_of: date) -> Iterator[dict[str, str]]:
    """`count` placement rows as CSV cells, opened around `as_of` (cases past due by 5 to
    400 days, so every bucket from M0 to M4+ is present)."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        limit = rng.choice([5000, 10000, 20000, 50000, 80000, 100000])
        principal = round(limit * rng.uniform(0.3, 1.1), 2)
        interest = round(principal * rng.uniform(0.0, 0.08), 2)
        fees = round(rng.uniform(0, 400), 2)
        days_past_due = rng.choice([5, 12, 25, 40, 55, 70, 95, 130, 200, 300, 400])
        minimum = round(
            min(
                principal + interest + fees,
                (principal + interest + fees) * 0.1 * (1 + days_past_due // 30),
            ),
            2,
        )
        contacts = ";".join(
            f"{_name(rng)}:{rng.choice(_RELATIONS)}:{_mobile(rng)}"
            for _ in range(rng.randint(0, 3))
        )
        flags = ";".join(
            f for f, p in (("suspected_fraud", 0.03), ("cash_out", 0.05)) if rng.random() < p
        )
        yield {
            "account_id": f"6225{seed:02d}{n:08d}",
            "debtor_name": _name(rng),
            "national_id": _national_id(rng),
            "mobile": _mobile(rng),
            "home_phone": f"0{rng.randint(10, 99)}-{rng.randint(2000000, 8999999)}"
            if rng.random() < 0.5
            else "",
            "work_phone": f"0{rng.randint(10, 99)}-{rng.randint(2000000, 8999999)}"
            if rng.random() < 0.3
            else "",
            "home_address": _address(rng),
            "work_address": _address(rng) if rng.random() < 0.6 else "",
            "contacts": contacts,
            "timezone": rng.choice(_ZONES),
            "credit_limit": f"{limit:.2f}",
            "principal": f"{principal:.2f}",
            "interest": f"{interest:.2f}",
            "fees": f"{fees:.2f}",
            "statement_day": str(rng.randint(1, 28)),
            "grace_days": "20",
            "oldest_unpaid_due_date": (as_of - timedelta(days=days_past_due)).isoformat(),
            "unpaid_minimum": f"{max(minimum, 10):.2f}",
            "segment": rng.choice(_SEGMENTS),
            "flags": flags,
        }


def write_sample(path: Path, count: int, *, seed: int = 7, as_of: date) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(sample_rows(count, seed=seed, as_of=as_of))
    return path
