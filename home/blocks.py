from django.utils.translation import gettext_lazy as _
from wagtail import blocks


class FeatureBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("heading"), max_length=80)
    text = blocks.TextBlock(label=_("text"))
    link_url = blocks.CharBlock(label=_("link"), required=False)
    link_text = blocks.CharBlock(label=_("link text"), required=False, max_length=40)

    class Meta:
        icon = "pick"
        template = "blocks/feature_block.html"
        label = _("Feature")
        preview_value = {
            "heading": "在线学习",
            "text": "随时随地学习计量课程。",
            "link_url": "/",
            "link_text": "了解更多",
        }


class FeatureRowBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("heading"), required=False)
    features = blocks.ListBlock(FeatureBlock(), label=_("features"))

    class Meta:
        icon = "list-ul"
        template = "blocks/feature_row_block.html"
        label = _("Feature row")


class HomeBodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        label=_("paragraph"),
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul"],
    )
    feature_row = FeatureRowBlock()
