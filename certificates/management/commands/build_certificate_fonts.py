from pathlib import Path

from django.core.management.base import BaseCommand

from certificates.fontbuild import FONT_SPECS, build_font, font_dir


class Command(BaseCommand):
    help = "Build the compact CJK subset fonts embedded in certificate PDFs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", default="", help="Directory for the fonts (default: setting)."
        )
        parser.add_argument(
            "--keep-subroutines",
            action="store_true",
            help="Keep CFF subroutines (smaller files, slower renders).",
        )

    def handle(self, *args, **options):
        out_dir = Path(options["output"]) if options["output"] else font_dir()
        for spec in FONT_SPECS:
            path = build_font(
                spec,
                out_dir=out_dir,
                desubroutinize=not options["keep_subroutines"],
            )
            size = path.stat().st_size / 1024
            self.stdout.write(f"{path} ({size:,.0f} KiB)")
