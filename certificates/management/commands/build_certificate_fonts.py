from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certificates.fontbuild import (
    FONT_SPECS,
    build_font,
    font_dir,
    font_source_dir,
    stamp_path,
    up_to_date,
)


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
        parser.add_argument(
            "--force",
            action="store_true",
            help="Rebuild fonts that are already up to date.",
        )
        parser.add_argument(
            "--jobs", type=int, default=2, help="Fonts built in parallel (default 2)."
        )

    def handle(self, *args, **options):
        out_dir = Path(options["output"]) if options["output"] else font_dir()
        missing = sorted(
            {spec.source for spec in FONT_SPECS}
            - {path.name for path in font_source_dir().glob("*.ttc")}
        )
        if missing:
            raise CommandError(
                f"Source fonts {', '.join(missing)} not found in {font_source_dir()}: "
                "install the Debian packages fonts-noto-cjk (scripts/bootstrap.sh "
                "does) or set CERTIFICATES_FONT_SOURCE_DIR."
            )
        desubroutinize = not options["keep_subroutines"]
        todo = [
            spec
            for spec in FONT_SPECS
            if options["force"] or not up_to_date(spec, out_dir=out_dir)
        ]
        for spec in FONT_SPECS:
            if spec not in todo:
                self.stdout.write(f"{out_dir / spec.output} is up to date")
        current = {spec.output for spec in FONT_SPECS}
        for stale in sorted(out_dir.glob("cert-*.otf")):
            if stale.name not in current:  # from an earlier layout of the fonts
                stale.unlink()
                stamp_path(stale).unlink(missing_ok=True)
                self.stdout.write(f"removed {stale}")
        if not todo:
            return
        if options["jobs"] <= 1 or len(todo) == 1:
            for spec in todo:
                self._report(
                    build_font(spec, out_dir=out_dir, desubroutinize=desubroutinize)
                )
            return
        # fontTools is pure Python: one process per font uses every core.
        with ProcessPoolExecutor(max_workers=options["jobs"]) as pool:
            futures = [
                pool.submit(
                    build_font, spec, out_dir=out_dir, desubroutinize=desubroutinize
                )
                for spec in todo
            ]
            for future in futures:
                self._report(future.result())

    def _report(self, path: Path) -> None:
        size = path.stat().st_size / 1024
        self.stdout.write(f"{path} ({size:,.0f} KiB)")
