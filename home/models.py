from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import HomeBodyBlock


class HomePage(Page):
    """The programme's front page."""

    hero_title = models.CharField(
        _("hero title"),
        max_length=120,
        help_text=_("The large heading at the top of the page."),
    )
    hero_intro = RichTextField(
        _("hero introduction"),
        blank=True,
        features=["bold", "italic", "link"],
        help_text=_("One or two sentences under the heading."),
    )
    body = StreamField(
        HomeBodyBlock(),
        blank=True,
        verbose_name=_("body"),
        help_text=_("Sections explaining the programme."),
    )

    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [FieldPanel("hero_title"), FieldPanel("hero_intro")], heading=_("Hero")
        ),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("hero_intro")]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        from .navigation import public_nav_items

        context = super().get_context(request, *args, **kwargs)
        context["quick_links"] = public_nav_items(request)
        return context
