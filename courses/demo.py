"""Demo catalogue: tracks, courses, modules and lessons with quizzes.

Idempotent: pages are looked up by slug (tracks) and code (courses) and only
created when missing, through the same services the admin uses.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import transaction

from home.models import HomePage
from organizations.models import Company
from users.models import User

from .models import (
    CourseIndexPage,
    CoursePage,
    CoursePrerequisite,
    EnrollmentPolicy,
    LessonPage,
    Level,
    ModulePage,
    TrackPage,
)
from .services import course_page_add, course_workflow_ensure, page_submit_for_review

COORDINATOR_EMAIL = "coordinator@demo.academy.cn"
EXPERTS = {
    "华测精密仪器集团有限公司": "expert.li@demo.academy.cn",
    "东方能源装备股份有限公司": "expert.zhang@demo.academy.cn",
}


def _id(*parts) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "academy-demo:" + ":".join(parts)))


# --- block helpers ------------------------------------------------------------


def text(html: str) -> dict:
    return {"type": "text", "value": html}


def formula(latex: str, caption: str = "") -> dict:
    return {"type": "formula", "value": {"latex": latex, "caption": caption}}


def callout(html: str, kind: str = "note") -> dict:
    return {"type": "callout", "value": {"kind": kind, "text": html}}


def single(prompt, options, correct, explanation=""):
    return (
        "single_choice",
        {
            "prompt": f"<p>{prompt}</p>",
            "explanation": explanation,
            "options": [
                {"text": option, "correct": i == correct}
                for i, option in enumerate(options)
            ],
        },
    )


def multiple(prompt, options, correct: set, explanation=""):
    return (
        "multiple_choice",
        {
            "prompt": f"<p>{prompt}</p>",
            "explanation": explanation,
            "options": [
                {"text": option, "correct": i in correct}
                for i, option in enumerate(options)
            ],
        },
    )


def true_false(prompt, correct: bool, explanation=""):
    return (
        "true_false",
        {"prompt": f"<p>{prompt}</p>", "explanation": explanation, "correct": correct},
    )


def numeric(prompt, answer, unit, *, absolute=None, relative=None, explanation=""):
    return (
        "numeric",
        {
            "prompt": f"<p>{prompt}</p>",
            "explanation": explanation,
            "answer": answer,
            "unit": unit,
            "tolerance_absolute": absolute,
            "tolerance_relative": relative,
            "allow_unit_conversion": True,
        },
    )


def quiz(key, questions, *, title="课后测验", pass_mark=60, limit=3, per_attempt=0):
    return {
        "type": "quiz",
        "value": {
            "title": title,
            "pass_mark": pass_mark,
            "attempt_limit": limit,
            "questions_per_attempt": per_attempt,
            "questions": [
                {"type": kind, "value": value, "id": _id(key, str(i))}
                for i, (kind, value) in enumerate(questions)
            ],
        },
    }


# --- content -------------------------------------------------------------------

TRACKS = [
    (
        "pressure",
        "压力计量",
        "压力仪表的检定、校准与期间核查，覆盖弹簧管压力表、数字压力计等常用器具。",
    ),
    (
        "uncertainty",
        "测量不确定度与量值溯源",
        "从测量不确定度评定到企业内部量值溯源体系，帮助企业建立可信的测量结果。",
    ),
    (
        "energy",
        "能源与碳计量",
        "依据 GB 17167 配备和管理能源计量器具，掌握碳排放核算所需的计量基础。",
    ),
]

COURSES = [
    {
        "track": "pressure",
        "code": "PG-101",
        "title": "压力表检定与校准",
        "title_en": "Verification and Calibration of Pressure Gauges",
        "publisher": "华测精密仪器集团有限公司",
        "level": Level.BEGINNER,
        "hours": "6",
        "validity": 36,
        "scope": "能够依据 JJG 52 对一般压力表开展检定，正确计算示值误差并判定合格与否。",
        "intro": "<p>面向企业计量室和质检部门技术人员，系统讲解弹簧管式一般压力表的结构、"
        "检定项目、示值误差计算与结果判定。</p>",
        "outcomes": "说明弹簧管压力表的工作原理与主要结构\n按 JJG 52 完成示值误差、回程误差和轻敲位移检定\n"
        "根据准确度等级计算最大允许误差并判定结果",
        "modules": [
            (
                "压力表基础",
                "弹簧管压力表的原理、分类和准确度等级。",
                [
                    (
                        "弹簧管压力表的结构与原理",
                        60,
                        [
                            text(
                                "<h2>工作原理</h2><p>弹簧管（波登管）是一根截面为椭圆形的弯曲金属管。"
                                "通入压力后截面趋于圆形，管子自由端产生位移，经扇形齿轮和中心齿轮"
                                "放大后带动指针转动，在分度盘上指示被测压力。</p>"
                                "<h2>准确度等级</h2><p>一般压力表的准确度等级有 1.0、1.6、2.5、4.0 级。"
                                "等级数字表示最大允许误差占量程的百分数。</p>"
                            ),
                            formula(
                                r"\Delta_{\max} = \pm \frac{\delta}{100} \times (p_{\max} - p_{\min})",
                                "最大允许误差：δ 为准确度等级，p 为测量上、下限",
                            ),
                            callout(
                                "<p>检定前压力表应在 (20±5) ℃ 环境中静置 2 h 以上。</p>",
                                "tip",
                            ),
                        ],
                    ),
                    (
                        "准确度等级与最大允许误差",
                        60,
                        [
                            text(
                                "<p>例：量程 0～1.6 MPa、1.6 级的压力表，最大允许误差为 "
                                "±1.6% × 1.6 MPa = ±0.0256 MPa。检定时每个检定点的示值误差都不得"
                                "超过该值。</p>"
                            ),
                            quiz(
                                "PG-101-1",
                                [
                                    numeric(
                                        "量程 0～1.6 MPa、准确度等级 1.6 级的压力表，最大允许误差的绝对值是多少？",
                                        0.0256,
                                        "MPa",
                                        absolute=0.0002,
                                        explanation="1.6% × 1.6 MPa = 0.0256 MPa（25.6 kPa）。",
                                    ),
                                    single(
                                        "准确度等级 2.5 级表示：",
                                        [
                                            "最大允许误差为量程的 ±2.5%",
                                            "最大允许误差为示值的 ±2.5%",
                                            "分度值为 2.5 kPa",
                                        ],
                                        0,
                                    ),
                                    true_false(
                                        "压力表检定前无需在规定环境温度下静置。",
                                        False,
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
            (
                "检定操作与结果判定",
                "示值误差、回程误差与轻敲位移的检定方法。",
                [
                    (
                        "示值误差的检定",
                        60,
                        [
                            text(
                                "<p>检定点应不少于 5 个，均匀分布在全量程上（含测量上限和下限）。"
                                "升压和降压各检定一次，在每个检定点轻敲表壳前后分别读数。</p>"
                                "<p>示值误差 = 被检表示值 − 标准器示值。</p>"
                            ),
                            formula(
                                r"\Delta = p_{\text{被检}} - p_{\text{标准}}",
                                "示值误差",
                            ),
                            callout(
                                "<p>加压时严禁超过压力表测量上限，防止弹簧管永久变形甚至爆裂。</p>",
                                "danger",
                            ),
                            quiz(
                                "PG-101-2",
                                [
                                    numeric(
                                        "标准器示值为 1.000 MPa 时，被检压力表示值为 1.010 MPa，示值误差是多少？",
                                        10,
                                        "kPa",
                                        absolute=0.5,
                                        explanation="1.010 − 1.000 = 0.010 MPa = 10 kPa。",
                                    ),
                                    multiple(
                                        "一般压力表的检定项目包括：",
                                        [
                                            "示值误差",
                                            "回程误差",
                                            "轻敲位移",
                                            "绝缘电阻",
                                        ],
                                        {0, 1, 2},
                                    ),
                                    single(
                                        "0～1.6 MPa、1.6 级压力表某点示值误差为 +0.030 MPa，结论是：",
                                        ["合格", "不合格", "需降级使用"],
                                        1,
                                        "0.030 MPa > 0.0256 MPa，超出最大允许误差。",
                                    ),
                                ],
                                pass_mark=60,
                            ),
                        ],
                    ),
                ],
            ),
        ],
    },
    {
        "track": "pressure",
        "code": "PG-201",
        "title": "计量器具的期间核查",
        "title_en": "Intermediate Checks of Measuring Instruments",
        "publisher": "华测精密仪器集团有限公司",
        "level": Level.INTERMEDIATE,
        "hours": "4",
        "validity": 24,
        "scope": "能够为企业常用计量标准和工作器具制定并实施期间核查方案。",
        "intro": "<p>两次校准之间，如何确认设备仍保持校准状态？本课程介绍期间核查的对象选择、"
        "核查方法、判定准则和记录要求。</p>",
        "outcomes": "识别需要期间核查的设备\n选择核查标准并确定参考值\n判定核查结果并采取措施",
        "modules": [
            (
                "期间核查方法",
                "",
                [
                    (
                        "为什么要做期间核查",
                        45,
                        [
                            text(
                                "<p>期间核查是在两次校准之间，用简便方法核查测量设备的校准状态是否"
                                "保持的活动。它不是重新校准，而是对稳定性的监控。</p>"
                                "<ul><li>使用频繁或环境恶劣的设备</li><li>历史上漂移明显的设备</li>"
                                "<li>对产品质量影响大的关键测量设备</li></ul>"
                            ),
                        ],
                    ),
                    (
                        "核查结果判定",
                        45,
                        [
                            text(
                                "<p>常用判据：核查值与参考值之差的绝对值不超过允许偏差，"
                                "或用归一化偏差 E<sub>n</sub> ≤ 1 判定。</p>"
                            ),
                            formula(
                                r"E_n = \frac{|y - y_{\text{ref}}|}{\sqrt{U^2 + U_{\text{ref}}^2}}",
                                "归一化偏差",
                            ),
                            quiz(
                                "PG-201-1",
                                [
                                    numeric(
                                        "核查标准参考值为 100.00 kPa，本次核查测得 100.06 kPa，偏差是多少（kPa）？",
                                        0.06,
                                        "kPa",
                                        absolute=0.005,
                                    ),
                                    numeric(
                                        "偏差 0.06 kPa，两者扩展不确定度合成后为 0.10 kPa，E<sub>n</sub> 值是多少？",
                                        0.6,
                                        "",
                                        absolute=0.01,
                                    ),
                                    true_false(
                                        "E<sub>n</sub> ≤ 1 时核查结果可接受。", True
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
        ],
        "prerequisites": ["PG-101"],
    },
    {
        "track": "uncertainty",
        "code": "MU-101",
        "title": "测量不确定度评定",
        "title_en": "Evaluating Measurement Uncertainty",
        "publisher": "华测精密仪器集团有限公司",
        "level": Level.INTERMEDIATE,
        "hours": "8",
        "validity": None,
        "scope": "能够依据 JJF 1059.1 完成常见测量结果的不确定度评定与表示。",
        "print_score": True,
        "intro": "<p>按照 JJF 1059.1《测量不确定度评定与表示》，讲解 A 类、B 类评定、"
        "合成标准不确定度与扩展不确定度。</p>",
        "outcomes": "建立测量模型并识别不确定度来源\n完成 A 类与 B 类评定\n计算合成与扩展不确定度并规范表示",
        "modules": [
            (
                "标准不确定度的评定",
                "",
                [
                    (
                        "A 类与 B 类评定",
                        60,
                        [
                            text(
                                "<p><strong>A 类评定</strong>：用统计方法，对重复观测列计算实验标准偏差。"
                                "<strong>B 类评定</strong>：根据校准证书、说明书、经验等信息，"
                                "假设概率分布后估计。</p>"
                            ),
                            formula(
                                r"u = \frac{a}{\sqrt{3}}", "矩形分布：a 为区间半宽度"
                            ),
                            formula(
                                r"s(x_k) = \sqrt{\frac{\sum_{i=1}^{n}(x_i - \bar{x})^2}{n-1}}",
                                "贝塞尔公式",
                            ),
                        ],
                    ),
                ],
            ),
            (
                "合成与扩展",
                "",
                [
                    (
                        "合成标准不确定度与扩展不确定度",
                        60,
                        [
                            formula(
                                r"u_c = \sqrt{\sum_i c_i^2 u_i^2}", "各输入量不相关时"
                            ),
                            formula(r"U = k \cdot u_c", "通常取 k = 2"),
                            callout(
                                "<p>报告结果时，扩展不确定度一般保留一至两位有效数字。</p>"
                            ),
                            quiz(
                                "MU-101-1",
                                [
                                    numeric(
                                        "两个不相关分量 u₁ = 0.03 mm、u₂ = 0.04 mm（灵敏系数均为 1），"
                                        "合成标准不确定度是多少？",
                                        0.05,
                                        "mm",
                                        absolute=0.001,
                                    ),
                                    numeric(
                                        "上题中取包含因子 k = 2，扩展不确定度 U 是多少？",
                                        0.10,
                                        "mm",
                                        absolute=0.002,
                                        explanation="U = 2 × 0.05 mm = 0.10 mm = 100 μm。",
                                    ),
                                    numeric(
                                        "某量服从矩形分布，区间半宽度 a = 0.6 μm，标准不确定度是多少？",
                                        0.346,
                                        "μm",
                                        relative=1,
                                    ),
                                    single(
                                        "对重复观测列用统计方法评定属于：",
                                        ["A 类评定", "B 类评定", "合成评定"],
                                        0,
                                    ),
                                ],
                                pass_mark=75,
                                per_attempt=3,
                            ),
                        ],
                    ),
                ],
            ),
        ],
    },
    {
        "track": "uncertainty",
        "code": "MT-201",
        "title": "企业内部量值溯源体系建设",
        "title_en": "Building Internal Metrological Traceability",
        "publisher": "华测精密仪器集团有限公司",
        "level": Level.ADVANCED,
        "hours": "5",
        "validity": 36,
        "policy": EnrollmentPolicy.PARTNERS,
        "scope": "能够规划企业内部校准能力，编制量值溯源图并管理溯源记录。",
        "intro": "<p>供应链伙伴企业专享：如何建立从社会公用计量标准到车间工作计量器具的"
        "完整溯源链。</p>",
        "outcomes": "绘制企业量值溯源图\n确定内部校准与外部送检的边界\n按测量能力比选择测量设备",
        "modules": [
            (
                "溯源链设计",
                "",
                [
                    (
                        "量值溯源图",
                        60,
                        [
                            text(
                                "<p>量值溯源是通过一条具有规定不确定度的不间断比较链，使测量结果"
                                "与国家测量标准联系起来的特性。企业应绘制溯源图，标明每一级标准、"
                                "校准方法和不确定度。</p>"
                            ),
                        ],
                    ),
                    (
                        "测量设备的选择",
                        60,
                        [
                            text(
                                "<p>选择测量设备时，通常要求其最大允许误差不大于被测参数公差的 1/3～1/10"
                                "（测量能力比）。</p>"
                            ),
                            quiz(
                                "MT-201-1",
                                [
                                    numeric(
                                        "零件尺寸公差为 ±0.2 mm，按 4:1 的测量能力比，测量设备的最大允许误差"
                                        "绝对值应不大于多少？",
                                        0.05,
                                        "mm",
                                        absolute=0.001,
                                    ),
                                    true_false(
                                        "量值溯源链可以中断，只要最终设备经过校准即可。",
                                        False,
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
        ],
    },
    {
        "track": "energy",
        "code": "EC-101",
        "title": "能源计量器具配备与管理",
        "title_en": "Energy Metering Instruments: Provision and Management (GB 17167)",
        "publisher": "东方能源装备股份有限公司",
        "level": Level.BEGINNER,
        "hours": "4",
        "validity": 36,
        "scope": "能够依据 GB 17167 检查用能单位能源计量器具的配备率和准确度等级。",
        "intro": "<p>依据 GB 17167《用能单位能源计量器具配备和管理通则》，介绍三级计量配备要求、"
        "准确度等级和能源计量数据管理。</p>",
        "outcomes": "区分用能单位、次级用能单位和主要用能设备的配备要求\n计算能源计量器具配备率\n"
        "完成能源折标计算",
        "modules": [
            (
                "配备要求",
                "",
                [
                    (
                        "三级计量与配备率",
                        60,
                        [
                            text(
                                "<p>GB 17167 要求对进出用能单位、进出主要次级用能单位和主要用能设备"
                                "分别配备能源计量器具。进出用能单位的能源计量器具配备率应达到 100%。</p>"
                            ),
                            formula(r"R_p = \frac{N_s}{N_l} \times 100\%", "配备率"),
                        ],
                    ),
                    (
                        "能源折标计算",
                        60,
                        [
                            text(
                                "<p>电力按当量值折算标准煤：1 kWh = 3600 kJ，1 kgce = 29307.6 kJ，"
                                "折标系数约 0.1229 kgce/kWh。</p>"
                            ),
                            quiz(
                                "EC-101-1",
                                [
                                    numeric(
                                        "某企业年用电 1 000 000 kWh，按当量值折算为多少吨标准煤（tce）？",
                                        122.9,
                                        "tce",
                                        relative=0.5,
                                        explanation="1 000 000 kWh × 0.1229 kgce/kWh ≈ 122.9 tce。",
                                    ),
                                    single(
                                        "进出用能单位的能源计量器具配备率应达到：",
                                        ["80%", "90%", "95%", "100%"],
                                        3,
                                    ),
                                    multiple(
                                        "需要配备能源计量器具的层级包括：",
                                        [
                                            "进出用能单位",
                                            "进出主要次级用能单位",
                                            "主要用能设备",
                                            "办公室照明灯具",
                                        ],
                                        {0, 1, 2},
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
        ],
    },
    {
        "track": "energy",
        "code": "EC-102",
        "title": "碳排放计量基础",
        "title_en": "Fundamentals of Carbon Emission Measurement",
        "publisher": "东方能源装备股份有限公司",
        "level": Level.BEGINNER,
        "hours": "3",
        "validity": None,
        "scope": "掌握排放因子法核算企业碳排放量所需的活动数据计量与计算方法。",
        "intro": "<p>碳排放量 = 活动数据 × 排放因子。活动数据的准确计量是可信碳核算的基础。</p>",
        "outcomes": "识别直接排放与间接排放\n用排放因子法计算排放量\n说明活动数据计量器具的要求",
        "modules": [
            (
                "排放因子法",
                "",
                [
                    (
                        "直接排放与间接排放",
                        45,
                        [
                            text(
                                "<p><strong>直接排放</strong>：企业边界内化石燃料燃烧和工业过程产生的排放，"
                                "如锅炉燃烧天然气。<strong>间接排放</strong>：外购电力、热力在生产过程中"
                                "产生、由企业消费的排放。</p>"
                                "<p>核算边界和排放源清单是碳排放计量的起点：每一个排放源都应明确其"
                                "活动数据的计量器具和数据来源。</p>"
                            ),
                        ],
                    ),
                    (
                        "活动数据与排放因子",
                        45,
                        [
                            formula(
                                r"E = AD \times EF", "排放量 = 活动数据 × 排放因子"
                            ),
                            text(
                                "<p>外购电力的间接排放使用电网排放因子，例如全国电网平均排放因子 "
                                "0.5703 tCO₂/MWh。</p>"
                            ),
                            callout(
                                "<p>活动数据的计量器具应按规定检定或校准，否则核算结果不被认可。</p>",
                                "warning",
                            ),
                            quiz(
                                "EC-102-1",
                                [
                                    numeric(
                                        "某企业年外购电力 500 000 kWh，电网排放因子 0.5703 tCO₂/MWh，"
                                        "间接排放量是多少？",
                                        285.15,
                                        "tCO2e",
                                        relative=1,
                                        explanation="500 MWh × 0.5703 = 285.15 tCO₂。",
                                    ),
                                    true_false(
                                        "外购电力产生的排放属于直接排放。", False
                                    ),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
        ],
    },
]

# A lesson an expert drafted and submitted; it waits for a coordinator or
# 华测仪器's course reviewer (黄志明, organizations/demo.py REVIEWERS).
DRAFT_LESSON = {
    "course": "PG-101",
    "title": "数字压力计的校准（待审核）",
    "author": "expert.li@demo.academy.cn",
    "body": [
        text(
            "<p>数字压力计按 JJF 1050 校准，校准点一般取量程的 0%、25%、50%、75%、100%。</p>"
        )
    ],
}


def _user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


@transaction.atomic
def load(*, stdout) -> None:
    home = HomePage.objects.first()
    if home is None:
        stdout.write("  courses: no home page; skipped")
        return
    coordinator = _user(COORDINATOR_EMAIL)
    index = CourseIndexPage.objects.first()
    if index is None:
        index = course_page_add(
            parent=home,
            page=CourseIndexPage(
                title="课程",
                slug="courses",
                intro="<p>龙头企业专家编写的计量课程，学完通过测验即可获得证书。</p>",
            ),
            user=coordinator,
        )
    course_workflow_ensure()
    tracks = {}
    for key, title, intro in TRACKS:
        track = TrackPage.objects.child_of(index).filter(slug=key).first()
        if track is None:
            track = course_page_add(
                parent=index,
                page=TrackPage(title=title, slug=key, intro=intro),
                user=coordinator,
            )
        tracks[key] = track
    created = 0
    for spec in COURSES:
        if CoursePage.objects.filter(code=spec["code"]).exists():
            continue
        publisher = Company.objects.get(name=spec["publisher"])
        expert = _user(EXPERTS[spec["publisher"]])
        course = course_page_add(
            parent=tracks[spec["track"]],
            page=CoursePage(
                title=spec["title"],
                slug=spec["code"].lower(),
                title_en=spec["title_en"],
                code=spec["code"],
                publisher=publisher,
                level=spec["level"],
                estimated_hours=Decimal(spec["hours"]),
                intro=spec["intro"],
                learning_outcomes=spec["outcomes"],
                enrollment_policy=spec.get("policy", EnrollmentPolicy.OPEN),
                certificate_validity_months=spec["validity"],
                certificate_scope=spec["scope"],
                certificate_prints_score=spec.get("print_score", False),
                certificate_signatory=expert,
            ),
            user=coordinator,
        )
        for required in spec.get("prerequisites", []):
            CoursePrerequisite.objects.create(
                course=course, required_course=CoursePage.objects.get(code=required)
            )
        for m, (module_title, module_intro, lessons) in enumerate(spec["modules"], 1):
            module = course_page_add(
                parent=course,
                page=ModulePage(title=module_title, slug=f"m{m}", intro=module_intro),
                user=expert,
                published_by=coordinator,
            )
            for n, (lesson_title, seconds, body) in enumerate(lessons, 1):
                course_page_add(
                    parent=module,
                    page=LessonPage(
                        title=lesson_title,
                        slug=f"l{n}",
                        min_active_seconds=seconds,
                        body=body,
                    ),
                    user=expert,
                    published_by=coordinator,
                )
        created += 1
    _draft_lesson()
    stdout.write(
        f"  {len(tracks)} tracks, {created} new courses "
        f"({CoursePage.objects.count()} in total)"
    )


def _draft_lesson() -> None:
    course = CoursePage.objects.filter(code=DRAFT_LESSON["course"]).first()
    if course is None:
        return
    if (
        LessonPage.objects.descendant_of(course)
        .filter(title=DRAFT_LESSON["title"])
        .exists()
    ):
        return
    module = ModulePage.objects.child_of(course).order_by("-path").first()
    author = _user(DRAFT_LESSON["author"])
    lesson = course_page_add(
        parent=module,
        page=LessonPage(
            title=DRAFT_LESSON["title"],
            slug="draft-digital-gauges",
            min_active_seconds=60,
            body=DRAFT_LESSON["body"],
            live=False,
        ),
        user=author,
        publish=False,
    )
    page_submit_for_review(page=lesson, user=author)
