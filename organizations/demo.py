"""Demo companies, partnerships and people (idempotent)."""

from allauth.account.models import EmailAddress
from django.db import transaction

from users.models import User

from .models import Company, CompanyKind, Membership, Partnership, PartnershipMode, Role
from .services import (
    company_create,
    coordinator_grant,
    membership_create,
    membership_set_course_reviewer,
    partnership_create,
)
from .validators import credit_code_check_character

DEMO_PASSWORD = "Metrology-Demo-2026"  # noqa: S105 - printed demo credentials


def demo_credit_code(serial: int) -> str:
    body = f"913205{serial:011d}"
    return body + credit_code_check_character(body)


COMPANIES = [
    # key, name, short, kind, region, industry
    (
        "huace",
        "华测精密仪器集团有限公司",
        "华测仪器",
        CompanyKind.LEAD,
        "江苏省苏州市",
        "仪器仪表制造",
    ),
    (
        "dongfang",
        "东方能源装备股份有限公司",
        "东方能源",
        CompanyKind.LEAD,
        "上海市",
        "能源装备制造",
    ),
    (
        "hengzhun",
        "苏州恒准压力仪表有限公司",
        "恒准仪表",
        CompanyKind.SME,
        "江苏省苏州市",
        "压力仪表",
    ),
    (
        "jinggong",
        "无锡精工传感器有限公司",
        "精工传感",
        CompanyKind.SME,
        "江苏省无锡市",
        "传感器",
    ),
    (
        "lvneng",
        "常州绿能热力科技有限公司",
        "绿能热力",
        CompanyKind.SME,
        "江苏省常州市",
        "热力供应",
    ),
    (
        "haili",
        "南通海利检测技术有限公司",
        "海利检测",
        CompanyKind.SME,
        "江苏省南通市",
        "检验检测",
    ),
]

PARTNERSHIPS = [
    ("huace", "hengzhun", PartnershipMode.SUPPLY_CHAIN),
    ("huace", "jinggong", PartnershipMode.SUPPLY_CHAIN),
    ("dongfang", "lvneng", PartnershipMode.SAME_FIELD),
    ("dongfang", "haili", PartnershipMode.SAME_FIELD),
]

# email, name, company key (None for programme staff), role, employee no., dept
PEOPLE = [
    ("coordinator@demo.academy.cn", "王立新", None, "coordinator", "", ""),
    (
        "expert.li@demo.academy.cn",
        "李建国",
        "huace",
        Role.EXPERT,
        "HC-0101",
        "计量中心",
    ),
    (
        "expert.huang@demo.academy.cn",
        "黄志明",
        "huace",
        Role.EXPERT,
        "HC-0117",
        "计量中心",
    ),
    (
        "expert.zhang@demo.academy.cn",
        "张昇",
        "dongfang",
        Role.EXPERT,
        "DF-0207",
        "能源计量部",
    ),
    (
        "hr@hengzhun.demo.academy.cn",
        "陈静",
        "hengzhun",
        Role.HR,
        "HZ-0003",
        "人力资源部",
    ),
    ("hr@lvneng.demo.academy.cn", "吴敏", "lvneng", Role.HR, "LN-0008", "综合管理部"),
    ("hr@huace.demo.academy.cn", "郑晓燕", "huace", Role.HR, "HC-0005", "人力资源部"),
    (
        "liu.kun@hengzhun.demo.academy.cn",
        "刘堃",
        "hengzhun",
        Role.LEARNER,
        "HZ-0112",
        "质检部",
    ),
    (
        "zhao.zhe@hengzhun.demo.academy.cn",
        "赵喆",
        "hengzhun",
        Role.LEARNER,
        "HZ-0131",
        "生产部",
    ),
    (
        "sun.yun@jinggong.demo.academy.cn",
        "孙赟",
        "jinggong",
        Role.LEARNER,
        "JG-0021",
        "计量室",
    ),
    (
        "zhou.jie@lvneng.demo.academy.cn",
        "周㛃",
        "lvneng",
        Role.LEARNER,
        "LN-0045",
        "能源管理部",
    ),
    (
        "ma.lin@haili.demo.academy.cn",
        "马琳",
        "haili",
        Role.LEARNER,
        "HL-0009",
        "检测部",
    ),
]


# Experts named course reviewers of their lead enterprise (not the author of
# the demo draft, 李建国, so 黄志明 can approve it).
REVIEWERS = ["expert.huang@demo.academy.cn"]


def _user(email: str, name: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def load(*, stdout) -> dict:
    companies: dict[str, Company] = {}
    for index, (key, name, short, kind, region, industry) in enumerate(COMPANIES, 1):
        company = Company.objects.filter(name=name).first() or company_create(
            name=name,
            short_name=short,
            kind=kind,
            credit_code=demo_credit_code(1000 + index),
            region=region,
            industry=industry,
        )
        companies[key] = company
    for lead, sme, mode in PARTNERSHIPS:
        if not Partnership.objects.filter(
            lead=companies[lead], sme=companies[sme]
        ).exists():
            partnership_create(lead=companies[lead], sme=companies[sme], mode=mode)
    people = {}
    for email, name, company_key, role, number, department in PEOPLE:
        user = _user(email, name)
        people[email] = user
        if role == "coordinator":
            coordinator_grant(user=user)
            continue
        company = companies[company_key]
        if not Membership.objects.filter(
            user=user, company=company, role=role, ended_on__isnull=True
        ).exists():
            membership_create(
                user=user,
                company=company,
                role=role,
                employee_number=number,
                department=department,
            )
    coordinator = people["coordinator@demo.academy.cn"]
    for email in REVIEWERS:
        membership = Membership.objects.active().get(
            user=people[email], role=Role.EXPERT, company__kind=CompanyKind.LEAD
        )
        membership_set_course_reviewer(
            actor=coordinator, membership=membership, value=True
        )
    stdout.write(f"  {len(companies)} companies, {len(people)} people")
    return {"companies": companies, "people": people}


def credentials_table() -> list[tuple[str, str, str]]:
    rows = []
    for email, name, company_key, role, _number, _department in PEOPLE:
        company = {c[0]: c[2] for c in COMPANIES}.get(company_key, "—")
        rows.append((str(role), f"{name}（{company}）", email))
    return rows
