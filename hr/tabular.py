"""Reading uploaded tables and writing exports (CSV with BOM, XLSX).

No database access here: pure functions, easy to test with bad input.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def max_import_bytes() -> int:
    return int(getattr(settings, "HR_IMPORT_MAX_BYTES", 2 * 1024 * 1024))


def max_import_rows() -> int:
    return int(getattr(settings, "HR_IMPORT_MAX_ROWS", 5000))


class TableError(ValueError):
    """The file as a whole cannot be read; ``str(error)`` says why."""


# --- exports ---------------------------------------------------------------------


def neutralise(value):
    """Make a text cell inert for spreadsheet programs (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return str(value)
    return str(neutralise(str(value)))


def write_csv(stream, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """UTF-8 with BOM so Excel opens Chinese text correctly."""
    stream.write("\ufeff")
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([_csv_value(h) for h in header])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])


def _xlsx_value(value):
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime):
        # openpyxl wants naive datetimes; show local wall-clock time.
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None) if value.tzinfo else value
    return value


def write_xlsx(
    path_or_stream,
    header: Sequence[str],
    rows: Iterable[Sequence],
    *,
    title: str = "Report",
    widths: Sequence[int] | None = None,
    progress=None,
) -> int:
    """Write a one-sheet workbook: bold header row, frozen panes, real dates.

    Returns the number of data rows written. ``progress(n)`` is called every
    500 rows.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "D2" if len(header) > 3 else "A2"
    for index, width in enumerate(widths or []):
        from openpyxl.utils import get_column_letter

        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    bold = Font(bold=True)
    head = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=neutralise(str(text)))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count = 0
    for row in rows:
        values = []
        for value in row:
            value = _xlsx_value(value)
            if isinstance(value, date):
                kind = datetime if isinstance(value, datetime) else date
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = (
                    "yyyy-mm-dd hh:mm" if kind is datetime else "yyyy-mm-dd"
                )
                values.append(cell)
            else:
                values.append(value)
        sheet.append(values)
        count += 1
        if progress and count % 500 == 0:
            progress(count)
    workbook.save(path_or_stream)
    return count


# --- imports -------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise TableError(
                _("The file is damaged: it is not valid UTF-16 text.")
            ) from error
    if b"\x00" in data[:4096]:
        raise TableError(_("This is not a CSV or Excel (.xlsx) file."))
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        # Excel in China saves "CSV" as GBK; GB18030 is its superset.
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as error:
        raise TableError(
            _(
                "The file is neither UTF-8 nor GBK text. Save it from Excel as "
                "“CSV UTF-8” or as an .xlsx workbook."
            )
        ) from error


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _too_many(rows: int) -> TableError:
    return TableError(
        _(
            "The file has more than %(max)s rows. Split it into files of at most "
            "%(max)s people."
        )
        % {"max": max_import_rows()}
        if rows < 0
        else _(
            "The file has %(rows)s rows; at most %(max)s rows can be imported at "
            "once. Split it into smaller files."
        )
        % {"rows": rows, "max": max_import_rows()}
    )


def read_table(*, data: bytes, filename: str) -> tuple[list[list[str]], str]:
    """Rows of text cells (header first) and the encoding that was used."""
    limit = max_import_bytes()
    if len(data) > limit:
        raise TableError(
            _("The file is %(size)s MB; files up to %(max)s MB are accepted.")
            % {
                "size": f"{len(data) / 1024 / 1024:.1f}",
                "max": f"{limit / 1024 / 1024:.0f}",
            }
        )
    if not data.strip():
        raise TableError(_("The file is empty."))
    max_rows = max_import_rows()
    name = filename.lower()
    if data.startswith(b"PK") or name.endswith(".xlsx"):
        return _read_xlsx(data, max_rows), "XLSX"
    if name.endswith(".xls"):
        raise TableError(
            _("Old Excel files (.xls) are not supported; save as .xlsx or CSV.")
        )
    text, encoding = _decode(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except (csv.Error, IndexError):
        delimiter = ","
    rows: list[list[str]] = []
    total = 0
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        if not any(cell.strip() for cell in row):
            continue
        total += 1
        if len(rows) <= max_rows:
            rows.append([cell.strip() for cell in row])
    if total - 1 > max_rows:
        raise _too_many(total - 1)
    return rows, encoding


def _read_xlsx(data: bytes, max_rows: int) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for bad files
        raise TableError(
            _("This file could not be opened as an Excel (.xlsx) workbook.")
        ) from error
    sheet = workbook.worksheets[0]
    rows: list[list[str]] = []
    total = 0
    for values in sheet.iter_rows(values_only=True):
        cells = [_cell_text(v) for v in values]
        if not any(cells):
            continue
        total += 1
        if total - 1 > max_rows:
            workbook.close()
            raise _too_many(-1)
        rows.append(cells)
    workbook.close()
    return rows
