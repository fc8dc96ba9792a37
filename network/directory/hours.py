"""An authority's local time now, and whether its office is open, from its time zone and office hours.

Office hours are free text in the interchange format. The common written forms are understood
("Mon-Fri 08:00-16:00", "Monday to Thursday 9.00-17.00, Friday 9.00-13.00", "Sun–Thu 08:00–15:00"); when the
text says no day and time range we can read, only the local time is shown, never a guess."""
from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

from network.core.clock import utcnow

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?"
_DASH = r"(?:-|–|—|to|through|until)"
_DAY_SPAN = rf"{_DAY}(?:\s*{_DASH}\s*{_DAY})?"
_DAYS = rf"{_DAY_SPAN}(?:\s*(?:,|/|&|and)\s*{_DAY_SPAN})*"
_TIME = r"\d{1,2}[:.h]\d{2}"
_RANGE = rf"{_TIME}\s*{_DASH}\s*{_TIME}"
SEGMENT = re.compile(rf"(?P<days>{_DAYS})\s*[:,]?\s*(?P<ranges>{_RANGE}(?:\s*(?:,|and|&)\s*{_RANGE})*)", re.I)
RANGE = re.compile(rf"(?P<start>{_TIME})\s*{_DASH}\s*(?P<end>{_TIME})", re.I)
DAY_SPAN = re.compile(rf"(?P<first>{_DAY})(?:\s*{_DASH}\s*(?P<last>{_DAY}))?", re.I)

Schedule = dict[int, list[tuple[int, int]]]  # weekday (Monday 0) -> [(from minute, to minute)]


@dataclass(frozen=True)
class LocalTime:
    time_zone: str
    now: datetime  # aware, in the authority's zone
    schedule: Schedule | None  # None when the office hours could not be read

    @property
    def office_open(self) -> bool | None:
        """True or False when the office hours were understood, else None."""
        if self.schedule is None:
            return None
        minute = self.now.hour * 60 + self.now.minute
        return any(start <= minute < end for start, end in self.schedule.get(self.now.weekday(), ()))


def _minutes(text: str) -> int | None:
    hours, minutes = re.split(r"[:.h]", text.lower())
    if int(hours) > 24 or int(minutes) > 59:
        return None
    return int(hours) * 60 + int(minutes)


def _weekday(word: str) -> int:
    return DAYS.index(word.lower()[:3])


@functools.lru_cache(maxsize=1024)  # a text always reads the same; callers only read the schedule
def parse_office_hours(text: str | None) -> Schedule | None:
    """The weekly schedule the text describes, or None when it names no day with a time range."""
    schedule: Schedule = {}
    for segment in SEGMENT.finditer(text or ""):
        days: list[int] = []
        for span in DAY_SPAN.finditer(segment.group("days")):
            first = _weekday(span.group("first"))
            last = _weekday(span.group("last")) if span.group("last") else first
            days.extend((first + n) % 7 for n in range((last - first) % 7 + 1))  # Sun-Thu wraps round
        for found in RANGE.finditer(segment.group("ranges")):
            start, end = _minutes(found.group("start")), _minutes(found.group("end"))
            if start is None or end is None or end <= start:
                continue  # an impossible or overnight range: not understood, better silent than wrong
            for day in days:
                schedule.setdefault(day, []).append((start, end))
    return schedule or None


def local_time(time_zone: str | None, office_hours: str | None = None,
               at: datetime | None = None) -> LocalTime | None:
    """The time now in the zone (and the office schedule, if readable); None without a valid zone."""
    if not time_zone:
        return None
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    now = (at or utcnow()).replace(tzinfo=UTC).astimezone(zone)
    return LocalTime(time_zone=time_zone, now=now, schedule=parse_office_hours(office_hours))
