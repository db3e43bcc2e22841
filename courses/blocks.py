"""StreamField blocks for lessons.

Completion rules per block type (see ``LessonPage.completion_rules``):
- text, image, formula, callout, document: the lesson's minimum active time;
- video marked "required": watched to ``VIDEO_WATCHED_FRACTION`` (90 %);
- quiz: passed (best attempt at or above its pass mark).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

from .mathml import render_latex
from .units import UNIT_CHOICES, UnitError, get_unit

VIDEO_WATCHED_FRACTION = 0.9

RICH_TEXT_FEATURES = [
    "h2",
    "h3",
    "bold",
    "italic",
    "link",
    "ol",
    "ul",
    "superscript",
    "subscript",
]


class ImageWithCaptionBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("image"))
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=250)

    class Meta:
        icon = "image"
        template = "courses/blocks/image_block.html"
        label = _("Image with caption")


class VideoBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), required=False, max_length=120)
    file = DocumentChooserBlock(
        label=_("video file"),
        required=False,
        help_text=_("An uploaded MP4/WebM file. Either a file or an embed URL."),
    )
    embed = EmbedBlock(
        label=_("embed URL"),
        required=False,
        help_text=_("A video hosted elsewhere (only used when no file is chosen)."),
    )
    required = blocks.BooleanBlock(
        label=_("must be watched"),
        required=False,
        default=True,
        help_text=_(
            # xgettext:no-python-format
            "Learners must watch 90 % of an uploaded video to complete the lesson. "
            "Embedded videos cannot be tracked and never block completion."
        ),
    )

    class Meta:
        icon = "media"
        template = "courses/blocks/video_block.html"
        label = _("Video")

    def clean(self, value):
        value = super().clean(value)
        if not value.get("file") and not value.get("embed"):
            raise StructBlockValidationError(
                block_errors={"file": ValidationError(_("Choose a file or an embed."))}
            )
        return value


class DocumentDownloadBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("document"))
    description = blocks.CharBlock(label=_("description"), required=False)

    class Meta:
        icon = "doc-full"
        template = "courses/blocks/document_block.html"
        label = _("Document download")


class FormulaBlock(blocks.StructBlock):
    latex = blocks.TextBlock(
        label=_("LaTeX"),
        help_text=_("For example U = k \\cdot u_c. Rendered as MathML on the page."),
    )
    caption = blocks.CharBlock(label=_("caption"), required=False)

    class Meta:
        icon = "code"
        template = "courses/blocks/formula_block.html"
        label = _("Formula")
        preview_value = {"latex": r"U = k \cdot u_c", "caption": "扩展不确定度"}

    def clean(self, value):
        value = super().clean(value)
        try:
            render_latex(value["latex"])
        except Exception as error:
            raise StructBlockValidationError(
                block_errors={
                    "latex": ValidationError(
                        _("This formula cannot be rendered: %(error)s"),
                        params={"error": error},
                    )
                }
            ) from error
        return value

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["mathml"] = render_latex(value["latex"], display="block")
        return context


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        label=_("kind"),
        choices=[
            ("note", _("Note")),
            ("tip", _("Tip")),
            ("warning", _("Warning")),
            ("danger", _("Safety hazard")),
        ],
        default="note",
    )
    text = blocks.RichTextBlock(label=_("text"), features=["bold", "italic", "link"])

    class Meta:
        icon = "warning"
        template = "courses/blocks/callout_block.html"
        label = _("Callout / warning")


# --- Quiz questions --------------------------------------------------------


class ChoiceOptionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("option"), max_length=300)
    correct = blocks.BooleanBlock(label=_("correct"), required=False)


class _QuestionBase(blocks.StructBlock):
    prompt = blocks.RichTextBlock(
        label=_("question"), features=["bold", "italic", "superscript", "subscript"]
    )
    explanation = blocks.TextBlock(
        label=_("explanation"),
        required=False,
        help_text=_("Shown after the attempt is graded."),
    )


class SingleChoiceQuestionBlock(_QuestionBase):
    options = blocks.ListBlock(ChoiceOptionBlock(), label=_("options"), min_num=2)

    class Meta:
        icon = "radio-full"
        label = _("Single choice")

    def clean(self, value):
        value = super().clean(value)
        if sum(1 for option in value["options"] if option["correct"]) != 1:
            raise StructBlockValidationError(
                block_errors={
                    "options": ValidationError(_("Mark exactly one option correct."))
                }
            )
        return value


class MultipleChoiceQuestionBlock(_QuestionBase):
    options = blocks.ListBlock(ChoiceOptionBlock(), label=_("options"), min_num=2)

    class Meta:
        icon = "tasks"
        label = _("Multiple choice")

    def clean(self, value):
        value = super().clean(value)
        if not any(option["correct"] for option in value["options"]):
            raise StructBlockValidationError(
                block_errors={
                    "options": ValidationError(_("Mark at least one option correct."))
                }
            )
        return value


class TrueFalseQuestionBlock(_QuestionBase):
    correct = blocks.BooleanBlock(
        label=_("the statement is true"), required=False, default=True
    )

    class Meta:
        icon = "tick"
        label = _("True / false")


class NumericQuestionBlock(_QuestionBase):
    answer = blocks.FloatBlock(label=_("correct value"))
    unit = blocks.ChoiceBlock(
        label=_("unit"), choices=UNIT_CHOICES, required=False, default=""
    )
    tolerance_absolute = blocks.FloatBlock(
        label=_("absolute tolerance"),
        required=False,
        min_value=0,
        help_text=_("In the unit above, e.g. 0.005."),
    )
    tolerance_relative = blocks.FloatBlock(
        label=_("relative tolerance (%)"),
        required=False,
        min_value=0,
        help_text=_("Percent of the correct value, e.g. 1."),
    )
    allow_unit_conversion = blocks.BooleanBlock(
        label=_("accept other units of the same quantity"),
        required=False,
        default=True,
        help_text=_("E.g. accept 0.25 MPa when the answer is 250 kPa."),
    )

    class Meta:
        icon = "order"
        label = _("Numeric (with tolerance and unit)")

    def clean(self, value):
        value = super().clean(value)
        if value.get("unit"):
            try:
                get_unit(value["unit"])
            except UnitError as error:
                raise StructBlockValidationError(
                    block_errors={"unit": ValidationError(_("Unknown unit."))}
                ) from error
        return value


class QuestionStreamBlock(blocks.StreamBlock):
    single_choice = SingleChoiceQuestionBlock()
    multiple_choice = MultipleChoiceQuestionBlock()
    true_false = TrueFalseQuestionBlock()
    numeric = NumericQuestionBlock()


class QuizBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), required=False, max_length=120)
    questions = QuestionStreamBlock(label=_("question pool"), min_num=1)
    questions_per_attempt = blocks.IntegerBlock(
        label=_("questions per attempt"),
        min_value=0,
        default=0,
        help_text=_("Draw this many questions at random from the pool; 0 = all."),
    )
    pass_mark = blocks.IntegerBlock(
        label=_("pass mark (%)"), min_value=0, max_value=100, default=60
    )
    attempt_limit = blocks.IntegerBlock(
        label=_("attempt limit"),
        min_value=0,
        default=3,
        help_text=_("0 = unlimited."),
    )

    class Meta:
        icon = "help"
        template = "courses/blocks/quiz_block.html"
        label = _("Quiz")

    def clean(self, value):
        value = super().clean(value)
        if value["questions_per_attempt"] > len(value["questions"]):
            raise StructBlockValidationError(
                block_errors={
                    "questions_per_attempt": ValidationError(
                        _("The pool has only %(count)s questions."),
                        params={"count": len(value["questions"])},
                    )
                }
            )
        return value


class LessonBodyBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(label=_("rich text"), features=RICH_TEXT_FEATURES)
    image = ImageWithCaptionBlock()
    video = VideoBlock()
    document = DocumentDownloadBlock()
    formula = FormulaBlock()
    callout = CalloutBlock()
    quiz = QuizBlock()

    class Meta:
        block_counts = {"quiz": {"max_num": 1}}
