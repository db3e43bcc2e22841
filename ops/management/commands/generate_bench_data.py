"""manage.py generate_bench_data — bulk synthetic data for the benchmarks."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from ops.benchdata import (
    BENCH_DATA_EXISTS,
    BENCH_EMAIL_DOMAIN,
    Generator,
    Sizes,
    bench_data_exists,
)


def positive(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Bulk-create synthetic companies, learners, memberships, courses, lesson "
        "progress and certificates for benchmarks (into an empty database)."
    )

    def add_arguments(self, parser):
        defaults = Sizes()
        options = [
            ("--learners", "learners", "learner accounts"),
            ("--companies", "companies", "companies (10%% lead enterprises)"),
            ("--big-company", "big_company", "employees of the largest SME"),
            ("--small-company", "small_company", "employees of the smallest SME"),
            ("--courses", "courses", "course pages (0: none)"),
            ("--lessons-per-course", "lessons_per_course", "lessons per course"),
            ("--big-course-lessons", "big_course_lessons", "lessons of course 0"),
            ("--small-course-lessons", "small_course_lessons", "lessons of course 1"),
            ("--progress", "progress", "lesson progress rows (at least)"),
            ("--certificates", "certificates", "completed enrolments / certificates"),
            ("--batch-size", "batch_size", "rows per INSERT"),
            ("--seed", "seed", "random seed"),
        ]
        for flag, attribute, text in options:
            default = getattr(defaults, attribute)
            parser.add_argument(
                flag,
                dest=attribute,
                type=positive,
                default=default,
                help=f"{text} (default {default})",
            )
        parser.add_argument(
            "--json", action="store_true", help="print the counts as JSON"
        )

    def handle(self, *args, **options):
        sizes = Sizes(
            **{
                key: options[key]
                for key in Sizes.__dataclass_fields__
                if key in options
            }
        )
        if sizes.companies < 1 or sizes.batch_size < 1:
            raise CommandError("--companies and --batch-size must be at least 1.")
        if sizes.companies - sizes.leads < 1:
            raise CommandError("--companies is too small to include an SME.")
        if sizes.big_company + sizes.small_company > sizes.learners:
            raise CommandError(
                "--big-company plus --small-company cannot exceed --learners "
                f"({sizes.big_company} + {sizes.small_company} > {sizes.learners})."
            )
        existing = bench_data_exists()
        if existing:
            raise CommandError(
                BENCH_DATA_EXISTS.format(count=existing, domain=BENCH_EMAIL_DOMAIN)
            )
        started = time.monotonic()
        log = (lambda _message: None) if options["json"] else self.stdout.write
        report = Generator(sizes, log=log).run()
        elapsed = time.monotonic() - started
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "counts": report.counts,
                        "seconds": report.seconds,
                        "total_seconds": round(elapsed, 1),
                        "notes": report.notes,
                    },
                    ensure_ascii=False,
                )
            )
            return
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write(
            self.style.SUCCESS(f"Bench data generated in {elapsed:.1f} s.")
        )
