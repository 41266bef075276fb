"""Dates as news databases print them: "March 1, 2015 Sunday", "1 March 2015", "2015-03-01", "1 de março de
2015", "1 марта 2015 г.", with or without a weekday and a time ("July 1, 2019 Monday 9:20 AM GMT").

A line is a date only if nothing but a day, a month and a year is left once weekdays, a time and filler words
are taken out, so that a headline that mentions a date is never mistaken for one.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate((
    "january jan janvier janv janeiro enero januar jänner январь января",
    "february feb février févr fevereiro fev febrero februar февраль февраля",
    "march mar mars março marzo märz maerz март марта",
    "april apr avril abril abr апрель апреля",
    "may mai maio mayo май мая",
    "june jun juin junho junio juni июнь июня",
    "july jul juillet julho julio juli июль июля",
    "august aug août agosto ago августа август",
    "september sep sept septembre setembro set septiembre сентябрь сентября",
    "october oct octobre outubro out octubre oktober okt октябрь октября",
    "november nov novembre novembro noviembre ноябрь ноября",
    "december dec décembre déc dezembro dez diciembre dic dezember дек декабрь декабря",
), start=1):
    for _name in _names.split():
        _MONTHS[_name] = _number

_WEEKDAYS = frozenset((
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed", "thu",
    "thur", "thurs", "fri", "sat", "sun", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo", "lunes",
    "martes", "miércoles", "jueves", "viernes", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag",
    "sonntag", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье",
))
# Words that may stand between the parts of a date: "1 de março de 2015", "1 марта 2015 г.", "le 1 mars".
_FILLER = frozenset({"de", "del", "le", "the", "of", "г", "года", "den", "am"})
_SEASONS = frozenset({"spring", "summer", "autumn", "fall", "winter"})

_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ][0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?")
# "9:20 AM GMT", "09:31:00 CEST", "15:32": a time and what may follow it, up to the end of the line.
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s+[a-z]{1,5}(?:[+-]\d{1,2})?)?\s*$",
                   re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)?")
_YEAR = re.compile(r"[0-9]{4}")
_DAY = re.compile(r"[0-9]{1,2}")


def _tokens(line: str) -> list[str] | None:
    """The words of ``line`` without weekdays, time and filler, or None if it is too long to be a date."""
    if len(line) > 80:
        return None
    text = _TIME.sub("", line.strip().lower())
    return [word for word in _WORD.findall(text) if word not in _WEEKDAYS and word not in _FILLER]


def parse_news_date(line: str | None) -> str | None:
    """``line`` as yyyy-mm-dd when it is a whole date (day, month and year) that exists, else None."""
    parts = _date_parts(line) if line else None
    if parts is None:
        return None
    try:
        return dt.date(*parts).isoformat()
    except ValueError:  # "February 30, 2015"
        return None


def looks_like_date_line(line: str) -> bool:
    """A line laid out as a date, even one that does not exist ("February 30, 2015") or whose numbers cannot be
    read ("March 99999, 2015"), or as a magazine prints one without a day ("March 2015", "Spring 2015")."""
    if _ISO.fullmatch(_TIME.sub("", line).strip()) or _date_words(line) is not None:
        return True
    words = _tokens(line)
    return (words is not None and len(words) == 2 and (words[0] in _MONTHS or words[0] in _SEASONS)
            and words[1].isdigit() and len(words[1]) == 4)


def _date_words(line: str) -> tuple[str, int, str] | None:
    """Year, month and day of a line laid out as "March 1, 2015" or "1 March 2015", the numbers as written."""
    words = _tokens(line)
    if words is None or len(words) != 3 or not (words[2].isdigit() and len(words[2]) == 4):
        return None
    if words[0] in _MONTHS and words[1].isdigit():  # March 1, 2015
        return words[2], _MONTHS[words[0]], words[1]
    if words[1] in _MONTHS and words[0].isdigit():  # 1 March 2015
        return words[2], _MONTHS[words[1]], words[0]
    return None


def _date_parts(line: str) -> tuple[int, int, int] | None:
    """Year, month and day of a line that is nothing but a date written with ASCII digits."""
    iso = _ISO.fullmatch(_TIME.sub("", line).strip())
    if iso:
        return int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
    found = _date_words(line)
    if found is None:
        return None
    year, month, day = found
    if not (_YEAR.fullmatch(year) and _DAY.fullmatch(day)):
        return None  # a day of 20 digits, "²", or digits of another script
    return int(year), month, int(day)
