"""Demo home page: the site root."""

from wagtail.models import Page, Site

from .models import HomePage

HOME_BODY = [
    {
        "type": "feature_row",
        "value": {
            "heading": "平台能做什么",
            "features": [
                {
                    "heading": "在线学习计量课程",
                    "text": "中小企业技术人员在线学习压力、温度、能源与碳计量等课程，"
                    "完成测验与实操考核，随时查看学习进度。",
                    "link_url": "/courses/",
                    "link_text": "浏览课程",
                },
                {
                    "heading": "专家驻厂与兼职指导",
                    "text": "龙头企业的计量专家按派驻计划到伙伴企业现场指导，"
                    "解决量值溯源、过程测量控制等实际问题。",
                    "link_url": "/visits/",
                    "link_text": "查看专家排期",
                },
                {
                    "heading": "可验证的培训证书",
                    "text": "通过考核即自动颁发 PDF 证书，客户与审核员可凭验证码"
                    "或二维码随时核验证书真伪与有效期。",
                    "link_url": "/verify",
                    "link_text": "验证证书",
                },
            ],
        },
    },
    {
        "type": "paragraph",
        "value": "<h2>关于中小企业计量伙伴计划</h2><p>市场监管总局、工业和信息化部"
        "推动龙头企业发挥引领作用，通过产业链关联或同领域两种方式与中小企业结成"
        "计量伙伴，在技术帮扶、资源共享、绿色低碳计量和计量人才培养等方面开展合作。"
        "本平台承担人才培养任务：在线培训、专家派驻与能力认证。</p>",
    },
]


def load(*, stdout) -> HomePage:
    root = Page.get_first_root_node()
    home = HomePage.objects.first()
    if home is None:
        # Wagtail's first migration creates a placeholder welcome page at the
        # slug we want; the site is re-pointed below, then it is removed.
        placeholder = Page.objects.filter(depth=2, slug="home").first()
        if placeholder is not None:
            placeholder.slug = "wagtail-welcome"
            placeholder.save(update_fields=["slug"])
        home = HomePage(
            title="计量伙伴学院",
            slug="home",
            hero_title="计量伙伴学院",
            hero_intro="<p>龙头企业带动中小企业提升计量能力：在线学习、专家指导、"
            "证书认证，一站完成。</p>",
            body=HOME_BODY,
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.site_name = "计量伙伴学院"
        site.save()
    Page.objects.filter(depth=2, slug="wagtail-welcome").delete()
    stdout.write("  home page ready")
    return home
