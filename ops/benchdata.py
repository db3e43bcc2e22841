"""Bulk synthetic data for benchmarks (``manage.py generate_bench_data``).

Rows are written with ``bulk_create`` in batches, bypassing services and
signals on purpose: the goal is volume (100,000 learners, 1,000,000 progress
rows) in minutes, not behaviour. Everything it creates is recognisable:
e-mails end in ``@bench.example.cn``, companies are named ``基准…``, course
codes start with ``BENCH-``. Bench users have unusable passwords; the load
tests log in by creating sessions directly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from django.contrib.auth.hashers import make_password
from django.db import connections, models, router, transaction
from django.utils import timezone

from organizations.demo import demo_credit_code
from organizations.models import (
    Company,
    CompanyKind,
    Membership,
    Partnership,
    PartnershipMode,
    Role,
)
from users.models import User

BENCH_EMAIL_DOMAIN = "bench.example.cn"
BENCH_COMPANY_PREFIX = "基准"
BENCH_COURSE_PREFIX = "BENCH-"
# Credit codes of bench companies start here, far from demo and factory ones.
CREDIT_CODE_BASE = 7_000_000

BENCH_DATA_EXISTS = (
    "Bench data already exists ({count} users @{domain}). Generate into an empty "
    "database (bench/run.sh recreates its own) — nothing was changed."
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
# Includes rare characters (堃 喆 赟 昇 㛃) that fonts and exports must handle.
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志"
    "红晓燕玉兰鹏辉斌宇浩凯健俊帆帅旭宁瑞博文昊堃喆赟昇㛃"
)
REGIONS = [
    "江苏省苏州市",
    "江苏省无锡市",
    "浙江省宁波市",
    "广东省深圳市",
    "上海市",
    "山东省青岛市",
    "湖北省武汉市",
    "四川省成都市",
]
DEPARTMENTS = ["质检部", "计量室", "生产部", "设备部", "研发中心", "能源管理部"]


@dataclass
class Sizes:
    learners: int = 100_000
    companies: int = 500
    lead_share: float = 0.1
    big_company: int = 5_000
    small_company: int = 10
    courses: int = 60
    lessons_per_course: int = 16
    big_course_lessons: int = 200
    small_course_lessons: int = 10
    progress: int = 1_000_000
    certificates: int = 50_000
    batch_size: int = 5_000
    seed: int = 20_26

    @property
    def leads(self) -> int:
        return max(1, round(self.companies * self.lead_share))


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def batched(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bulk_insert(model: type[models.Model], rows: Iterable, batch_size: int) -> int:
    """Insert unsaved instances without reading their ids back.

    PostgreSQL gets ``COPY … FROM STDIN`` (several times faster than
    multi-row INSERTs, which psycopg must parse client-side); other databases
    get ``bulk_create``.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        total = 0
        for chunk in batched(rows, batch_size):
            model.objects.bulk_create(chunk, batch_size=batch_size)
            total += len(chunk)
        return total
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    sql = "COPY {} ({}) FROM STDIN".format(
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(field.column) for field in fields),
    )
    total = 0
    # Chunks are built before each COPY: building rows may itself query the
    # database (e.g. read ids), which cannot happen while a COPY is open.
    for chunk in batched(rows, batch_size):
        values = [
            [
                field.get_db_prep_save(field.pre_save(instance, add=True), connection)
                for field in fields
            ]
            for instance in chunk
        ]
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
        total += len(values)
    return total


def bench_data_exists() -> int:
    return User.objects.filter(email__endswith="@" + BENCH_EMAIL_DOMAIN).count()


class Generator:
    def __init__(self, sizes: Sizes, log: Callable[[str], None] = lambda _m: None):
        self.sizes = sizes
        self.log = log
        self.rng = random.Random(sizes.seed)  # noqa: S311 - synthetic data
        self.now = timezone.now()
        self.report = Report()
        # One unusable password hash shared by all bench users (hashing 100k
        # passwords would take longer than everything else together).
        self.password = make_password(None)

    # --- helpers ------------------------------------------------------------
    def _phase(self, name: str, function: Callable[[], int]) -> None:
        started = time.monotonic()
        with transaction.atomic():
            count = function()
        elapsed = time.monotonic() - started
        self.report.counts[name] = count
        self.report.seconds[name] = round(elapsed, 2)
        self.log(f"{name}: {count:,} rows in {elapsed:.1f} s")

    def _name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(SURNAMES) + given

    # --- organisations ------------------------------------------------------
    def run(self) -> Report:
        self._phase("companies", self.create_companies)
        self._phase("partnerships", self.create_partnerships)
        self._phase("users", self.create_users)
        self._phase("memberships", self.create_memberships)
        from . import benchcourses

        benchcourses.generate(self)
        return self.report

    def create_companies(self) -> int:
        sizes = self.sizes
        rows = []
        for index in range(sizes.companies):
            kind = CompanyKind.LEAD if index < sizes.leads else CompanyKind.SME
            label = "集团" if kind == CompanyKind.LEAD else "科技"
            rows.append(
                Company(
                    name=f"{BENCH_COMPANY_PREFIX}{index:04d}{label}有限公司",
                    short_name=f"{BENCH_COMPANY_PREFIX}{index:04d}",
                    kind=kind,
                    credit_code=demo_credit_code(CREDIT_CODE_BASE + index),
                    region=REGIONS[index % len(REGIONS)],
                    industry="仪器仪表",
                )
            )
        count = bulk_insert(Company, rows, sizes.batch_size)
        companies = Company.objects.filter(name__startswith=BENCH_COMPANY_PREFIX)
        self.lead_ids = list(
            companies.leads().order_by("pk").values_list("pk", flat=True)
        )
        self.sme_ids = list(
            companies.smes().order_by("pk").values_list("pk", flat=True)
        )
        return count

    def create_partnerships(self) -> int:
        if not self.lead_ids:
            return 0
        rows = (
            Partnership(
                lead_id=self.lead_ids[index % len(self.lead_ids)],
                sme_id=sme_id,
                mode=PartnershipMode.SUPPLY_CHAIN,
            )
            for index, sme_id in enumerate(self.sme_ids)
        )
        return bulk_insert(Partnership, rows, self.sizes.batch_size)

    def create_users(self) -> int:
        sizes = self.sizes

        def rows():
            joined = self.now - timedelta(days=400)
            for index in range(sizes.learners):
                yield User(
                    email=f"learner{index:06d}@{BENCH_EMAIL_DOMAIN}",
                    name=self._name(),
                    password=self.password,
                    date_joined=joined,
                )
            # One HR per company and one expert per lead enterprise.
            for index in range(len(self.lead_ids) + len(self.sme_ids)):
                yield User(
                    email=f"hr{index:04d}@{BENCH_EMAIL_DOMAIN}",
                    name=self._name(),
                    password=self.password,
                    date_joined=joined,
                )
            for index in range(len(self.lead_ids)):
                yield User(
                    email=f"expert{index:04d}@{BENCH_EMAIL_DOMAIN}",
                    name=self._name(),
                    password=self.password,
                    date_joined=joined,
                )

        return bulk_insert(User, rows(), sizes.batch_size)

    def learner_ids(self) -> Iterator[int]:
        return (
            User.objects.filter(
                email__startswith="learner", email__endswith="@" + BENCH_EMAIL_DOMAIN
            )
            .order_by("pk")
            .values_list("pk", flat=True)
            .iterator(chunk_size=self.sizes.batch_size)
        )

    def learner_company(self, index: int) -> int:
        """Which company learner number ``index`` works for.

        The first SME is the big one (``big_company`` employees), the second
        the small one (``small_company``); the rest share the remainder.
        """
        sizes = self.sizes
        smes = self.sme_ids
        if len(smes) < 3:
            return smes[index % len(smes)]
        if index < sizes.big_company:
            return smes[0]
        index -= sizes.big_company
        if index < sizes.small_company:
            return smes[1]
        index -= sizes.small_company
        return smes[2 + index % (len(smes) - 2)]

    def create_memberships(self) -> int:
        sizes = self.sizes
        started = (self.now - timedelta(days=365)).date()
        company_ids = self.lead_ids + self.sme_ids
        hr_ids = dict(
            User.objects.filter(
                email__startswith="hr", email__endswith="@" + BENCH_EMAIL_DOMAIN
            ).values_list("email", "pk")
        )
        expert_ids = dict(
            User.objects.filter(
                email__startswith="expert", email__endswith="@" + BENCH_EMAIL_DOMAIN
            ).values_list("email", "pk")
        )

        def rows():
            for index, user_id in enumerate(self.learner_ids()):
                yield Membership(
                    user_id=user_id,
                    company_id=self.learner_company(index),
                    role=Role.LEARNER,
                    employee_number=f"B{index:06d}",
                    department=DEPARTMENTS[index % len(DEPARTMENTS)],
                    started_on=started,
                )
            for index, company_id in enumerate(company_ids):
                yield Membership(
                    user_id=hr_ids[f"hr{index:04d}@{BENCH_EMAIL_DOMAIN}"],
                    company_id=company_id,
                    role=Role.HR,
                    department="人力资源部",
                    started_on=started,
                )
            for index, company_id in enumerate(self.lead_ids):
                yield Membership(
                    user_id=expert_ids[f"expert{index:04d}@{BENCH_EMAIL_DOMAIN}"],
                    company_id=company_id,
                    role=Role.EXPERT,
                    department="计量室",
                    started_on=started,
                )

        return bulk_insert(Membership, rows(), sizes.batch_size)
