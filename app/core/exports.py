"""CSV exports that spreadsheets open safely."""

import csv
import io

# A cell starting with one of these runs as a formula in Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SafeCsvWriter:
    """A CSV writer that keeps spreadsheets from running text as a formula: a text cell (an option
    label, a name, a reason) starting with =, +, -, @, a tab or a carriage return gets a leading
    apostrophe. Numbers are written as they are."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row) -> None:
        self._writer.writerow(
            [
                "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell
                for cell in row
            ]
        )
