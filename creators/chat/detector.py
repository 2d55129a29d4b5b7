"""The deterministic pattern detector: decisions and task completions stated in a creator's own message, found by
regular expressions compiled once per playbook version. It is what works without the AI, and what tests pin.

What it finds (each only when the playbook has the decision category or the task):
- **pricing**: "$29/month", "29 dollars a month", "€15 per month", "29/mo", "$290 a year"; two monthly prices are a
  core and a premium tier, a monthly and a yearly price an annual option.
  data = {"amount": "29.00", "currency": "USD", "interval": "month"} (+ "premium_amount" or "annual_amount").
- **platform**: the names of the playbook's platform options (Discord, Circle, Skool) and a few known others
  (Patreon, Slack, ...) for its "other" option. data = {"option": "discord"} (or {"option": "other"}).
- **timeline**: a launch date in a sentence about launching: "launch on March 15", "2027-03-15", "in 6 weeks".
  data = {"launch_date": "2027-03-15"}. Dates without a year and relative ones need `project_state.today`.
- **content**: a cadence, "two posts a week", "a live session every week", "daily prompts".
  data = {"count": 2, "format": "post", "per": "week"}.
- **task completions**: "I've set up ...", "I created ...", "done with ...", "the sales page is live", whose object
  shares words with one task's id and title (rarer words weigh more; a few synonyms: server -> space, Stripe ->
  payments, platform names -> space).

Confidence, per sentence:
- a question ("should I charge $29?"), a hypothetical ("what if I use Discord", "if I charge ..."), a negation
  in front of the match ("I haven't set up Discord", "not Circle") or a task not finished ("almost done with",
  "working on") finds nothing at all;
- a first-person commitment ("I'll charge", "we decided", "going with", "I'm launching") scores 0.9; a plain
  statement ("$29/month sounds right") 0.7; a hedged one ("maybe", "I think", "leaning towards") 0.5;
- a task completion in the first person ("I've set up", "I created", "I'm done with") scores 0.9, the same without a
  person ("the sales page is done") 0.8, hedged 0.5;
- an inexact match costs 0.1: a price with no currency (the playbook's is assumed) or no interval (monthly is
  assumed), a date without a year or a relative one, a task matched by one shared common word only;
- when one message names two values for the same decision (Discord and Circle), each is capped at 0.5.
So with the default COACH_AUTO_COMPLETE_CONFIDENCE (0.8) a committed exact statement is applied at once and
anything weaker is put to the user to confirm.

Speed: a message with no digit and none of the detectors' words (most chat) is turned away by substring tests; else
each pattern runs once over the whole text and its matches are placed in their sentences, and only sentences with a
match cost more. Python's re tries a pattern at every position unless it starts with a literal or a set of
characters, and finds a literal start as fast as str.find where it checks a set at every character. So the cues
(the words of every kind, one alternation) are read in a lookahead after each space (and, by a second scan, after
any other sign), the first-person completions are two patterns starting with "i" and "we", prices are scanned with
[0-9] in an ASCII text, and the other patterns start with their first letters (or digit) and check the word's start
behind them (_word_start). The dearest pattern, "the X is done" (a lazy subject after every "the"), is only tried
where it can start: before an "is done" cue, in its clause. Prices are turned away by string tests before any
pattern; the evidence is quoted only for the findings kept. The compiled patterns are cached per (playbook key,
version) in the process: playbooks only change with a deployment. bench/coach.py reports `detector_us_per_message`
(goal <= 500 us for 2 KB); its message is dense (an action or a trap in every sentence, about 60 raw findings), the
worst case for this design: a quarter less CPU than before this version (about 595 us against 790 at load 6; 1,000
before the first rework), about 200 on a typical 2 KB message with three actions (from 265), 97 with nothing to find.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any, NamedTuple

from creators.chat.actions import ActionKind, ActionSource, DetectedAction
from creators.playbooks import Playbook

COMMITTED = Decimal("0.9")
COMPLETED_IMPERSONAL = Decimal("0.8")
PLAIN = Decimal("0.7")
HEDGED = Decimal("0.5")
INEXACT = Decimal("0.1")
CONFLICT_CAP = Decimal("0.5")
CENT = Decimal("0.01")

PLATFORM, PRICING, TIMELINE, CONTENT = "platform", "pricing", "timeline", "content"
OTHER_OPTION = "other"
# Platforms a creator may name that are not options of their own: they are the "other" option.
OTHER_PLATFORMS = ("Patreon", "Mighty Networks", "Slack", "WhatsApp", "Telegram", "Facebook group", "Kajabi",
                   "Substack", "Geneva", "Whop")
CURRENCIES = {"$": "USD", "€": "EUR", "£": "GBP", "usd": "USD", "eur": "EUR", "gbp": "GBP", "dollar": "USD",
              "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP"}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "once": 1, "twice": 2}
MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
# The months' names for the launch's value (what "%B" gives in the C locale, without a strftime call).
MONTH_TITLES = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
UNIT_DAYS = {"day": 1, "week": 7, "month": 30}
# Words of a task's object that mean one of the playbook's words (after stemming).
SYNONYMS = {"server": "space", "group": "space", "stripe": "payment", "paywall": "payment", "checkout": "payment",
            "paid": "payment", "emails": "email", "newsletter": "email", "landing": "sales", "role": "channel",
            "channels": "channel", "questionnaire": "survey", "poll": "survey", "founder": "founding",
            "kick": "kickoff", "launched": "open"}
STOPWORDS = frozenset("""a an the and or of to for in on at by with from into my our your their its it this that these
those i we you me us them is are was were be been be have has had do does did done just already finally now all
every each first some any up out off set what would they will can so as than then very really about
""".split())

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT = re.compile(r"\d")
# A sentence ends at . ! ? followed by a space or the end (not inside "1,299.50"), a line break or a semicolon: a
# sentence is a run of other characters and of . ! ? followed by another sign, then its final . ! or ?.
_SENTENCE = re.compile(r"[^.!?\n;]*(?:[.!?](?=[^\s.!?])[^.!?\n;]*)*[.!?]?")
_QUESTION_START = re.compile(
    r"^\s*(?:should|shall|can|could|would|do|does|is|are|am|will|what|how|which|why|where|when)\b")
# Cue words, one alternation per kind, each alternative starting with a plain letter; one scan of the message finds
# them all (_Patterns.cues, with the playbook's platform names and the cadences' anchors): a scan of 2 KB costs
# Python's re about as much as trying every position, so one scan for all beats one per kind.
HYPOTHETICAL_CUES = r"what if|if|suppose|supposing|imagine|in case|unless|would|could|might|wondering|whether"
HEDGE_CUES = (r"maybe|perhaps|probably|possibly|i (?:think|guess|suppose)|thinking (?:about|of)|considering|"
              r"leaning|not sure|kind of|sort of|roughly|around|approximately|tentatively|should|hopefully|ish")
_COMMIT_AFTER_I = (r"(?:'ll| will|(?:'m|'re| am| are) going (?:to|with)|(?:'m|'re| am| are) (?:using|charging|"
                   r"launching|opening|posting|doing|picking)|(?:'ve| have)? (?:just |already )?(?:decided|chosen|"
                   r"set up|created|built|opened)| (?:chose|picked|charge|launch|use|post|open))")
COMMIT_CUES = (rf"i{_COMMIT_AFTER_I}|we{_COMMIT_AFTER_I}|gonna|let's|decided on|going with|my price is|"
               r"the price (?:is|will be)|it(?:'ll| will) be|settled on|definitely|for sure|committed to")
LAUNCH_CUES = (r"launch\w*|open(?:ing)? (?:the )?doors|doors open|go(?:ing)? live|open(?:ing)? (?:it|the community|up)|"
               r"release\w*|kick ?off|start date")
# Where a cadence can end: _CADENCE (slow to scan) is only searched just before these.
CADENCE_CUES = (r"a\s+(?:day|week|month)|per\s+(?:day|week|month)|each\s+(?:day|week|month)|"
                r"every\s+(?:day|week|month)|daily|weekly|monthly")


def _alternatives(body: str) -> list[str]:
    """The top-level alternatives of a pattern."""
    alternatives, depth, start, escaped = [], 0, 0, False
    for at, char in enumerate(body):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            alternatives.append(body[start:at])
            start = at + 1
    return alternatives + [body[start:]]


def _word_start(body: str) -> str:
    """`\\b(?:body)` for an alternation of words, in a form Python's re searches faster: a branch per first letter,
    the word's start checked behind that letter. A pattern starting with a set of letters lets re skip the other
    characters in C; one starting with `\\b` tries every position (several times slower on a 2 KB message)."""
    by_first: dict[str, list[str]] = {}
    for alternative in _alternatives(body):
        by_first.setdefault(alternative[0], []).append(alternative[1:])
    branches = []
    for first, rests in by_first.items():
        letter = re.escape(first)
        # \b before a word character: no word character before it; before another one: a word character before it.
        behind = rf"(?<!\w{letter})" if re.match(r"\w", first) else rf"(?<=\w{letter})"
        branches.append(rf"{letter}{behind}(?:{'|'.join(rests)})")
    return f"(?:{'|'.join(branches)})"


# "not Circle", "I won't use Circle", "instead of Circle", "no Discord": a negation shortly before the match.
_NEGATION_BEFORE = re.compile(_word_start(r"not|no|never|without|instead of|rather than|against|nor|neither|won't|"
                                          r"wont|don't|dont|didn't|didnt|isn't|aren't|haven't|hasn't|can't|cannot")
                              + r"\b[^,]{0,30}$")
_NOT_FINISHED = re.compile(_word_start(r"almost|nearly|halfway|partly|partially|started|starting|working on|"
                                       r"in progress|still|yet|not done|not finished|need to|have to|going to|"
                                       r"want to|plan to|planning to|will|'ll|tomorrow|next week") + r"\b")

# A digit first lets Python's re skip to the digits in C.
_AMOUNT = r"(?P<amount>\d(?:\d{0,2}(?:,\d{3})+|\d{0,5}))(?:\.(?P<cents>\d{1,2}))?"
_CURRENCY_POST = r"(?:\s?(?P<post>€|£|(?:usd|eur|gbp|dollars?|bucks|euros?|pounds?)\b))"
_INTERVAL = (r"(?:\s*(?P<interval>/\s?(?:month|mo|mth|m|year|yr|y|annum)\b|(?:per|a|an|each|every|/)\s(?:month|"
             r"year|annum)\b|monthly\b|yearly\b|annually\b|per annum\b))")
# The currency before the amount is read by _price (the pattern must start with the digit).
_PRICE = re.compile(rf"{_AMOUNT}(?!\d)(?!\.\d){_CURRENCY_POST}?{_INTERVAL}?")
# The same for a text in ASCII, where \d is [0-9]: re checks a range of characters faster than Unicode's digits.
_PRICE_ASCII = re.compile(_PRICE.pattern.replace(r"\d", "[0-9]"))
_PRICE_CONTEXT = re.compile(_word_start(r"charg\w*|price\w*|pricing|cost\w*|fee|membership|subscription|tier\w*|"
                                        r"per member|members pay") + r"\b")
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
# Each starts with a digit or a set of letters, the word's start checked behind it (see _word_start).
_DATE_ISO = re.compile(r"(?P<y>2(?<!\w2)0\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b")
_DATE_MONTH_DAY = re.compile(rf"(?P<month>{_word_start(_MONTH_NAMES)})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
                             rf"(?:,?\s+(?P<year>20\d\d)\b)?")
_DATE_DAY_MONTH = re.compile(rf"(?P<day>\d(?<!\w\d)\d?)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_NAMES})\b"
                             rf"(?:,?\s+(?P<year>20\d\d)\b)?")
_DATE_RELATIVE = re.compile(r"i(?<!\wi)n\s+(?P<count>\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|"
                            r"ten|twelve)\s+(?P<unit>day|week|month)s?\b")
_CADENCE = re.compile(
    r"\b(?P<count>\d{1,2}|a|an|one|two|three|four|five|six|seven|once|twice)?\s*(?:new\s+|short\s+|long\s+)?"
    r"(?P<format>posts?|videos?|lives?|live (?:sessions?|streams?|calls?)|calls?|workshops?|prompts?|challenges?|"
    r"threads?|lessons?|episodes?|emails?|q&as?|ama|check-ins?)\s+(?:a|per|each|every)\s+(?P<per>day|week|month)\b"
    r"|\b(?P<adverb>daily|weekly|monthly)\s+(?P<format2>posts?|videos?|lives?|live (?:sessions?|streams?|calls?)|"
    r"calls?|workshops?|prompts?|challenges?|threads?|lessons?|episodes?|emails?|q&as?|check-ins?)\b")
_CADENCE_ADVERB = {"daily": "day", "weekly": "week", "monthly": "month"}
CADENCE_WINDOW = 60
# Substrings without which nothing can be found: a message with none of them (most chat) is not read further, and
# the completion patterns are not scanned without a completion word (a substring test costs a fraction of a
# microsecond, a scan of 2 KB tens).
LAUNCH_HINTS = ("launch", "door", "live", "open", "release", "kick", "start date")
CADENCE_HINTS = (" a week", " a day", " a month", " per ", " every ", " each ", "daily", "weekly", "monthly")
DONE_HINTS = ("done", "finish", "set up", "creat", "built", "made", "complet", "wrote", "written", "publish",
              "launched", "opened", "recruit", "connect", "host", "sent", "planned", "tested", "announc", "design",
              "chose", "defined", "review", "welcom", "prepar", "did", "live", "ready", " up")
# First-person completion: "I've set up", "I have just created", "we finished", "I'm done with".
_DONE_VERBS = (r"set up|created|built|made|finished|completed|wrote|written|published|launched|opened|recruited|"
               r"connected|hosted|sent|planned|tested|announced|designed|chose|defined|reviewed|welcomed|prepared|did|"
               r"done")


def _done_first_person(person: str, being: str) -> re.Pattern[str]:
    """The first-person completion for "i" or "we" (`being`: "'m" or "'re"), starting with the person's letters
    and checking the word's start behind them: re finds a literal start as fast as str.find, where a set of
    letters ([iw]) is checked at every character."""
    return re.compile(rf"{person}(?<!\w{person})(?:(?:'ve| have)?\s+(?:just\s+|already\s+|finally\s+|now\s+)?"
                      rf"(?P<verb>{_DONE_VERBS})\s+(?P<object>[^,;.!?\n]{{2,80}})"
                      rf"|{being}\s+(?:all\s+)?(?:done|finished)\s+with\s+(?P<object2>[^,;.!?\n]{{2,80}}))")


# Read together as one alternation (_matches_of_any): they never match at the same position.
_DONE_FIRST_PERSON = (_done_first_person("i", "(?:'m| am)"), _done_first_person("we", "(?:'re| are)"))
# "is done", "are live": also a cue (the kind "state"), telling whether _DONE_IMPERSONAL can match at all.
_STATED_DONE_TAIL = r"\s+(?:now\s+|all\s+)?(?:done|finished|live|ready|set up|published|up)"
_STATED_DONE = rf"(?:is|are){_STATED_DONE_TAIL}"
STATE_CUES = rf"is{_STATED_DONE_TAIL}|are{_STATED_DONE_TAIL}"
# "done with the survey", "the sales page is live": the object of the latter is the whole subject, from the match's
# start to the end of `subject`.
_DONE_IMPERSONAL = re.compile(
    r"[dfmot](?<!\w[dfmot])(?:(?:(?<=d)one|(?<=f)inished)\s+with\s+(?P<object>[^,;.!?\n]{2,80})"
    rf"|(?:(?<=t)he|(?<=m)y|(?<=o)ur)(?P<subject>\s+[^,;.!?\n]{{2,60}}?)\s+{_STATED_DONE}\b)")
# The signs a subject (so a "the X is done") never holds.
_CLAUSE_MARKS = ",;.!?"
# The same without "the X is done" (whose lazy subject costs most of the scan), for messages where the cues found
# no "is done", "are live", ...
_DONE_WITH = re.compile(r"[df](?<!\w[df])(?:(?<=d)one|(?<=f)inished)\s+with\s+(?P<object>[^,;.!?\n]{2,80})")


class _Found(NamedTuple):
    """A finding before the duplicates are merged (a tuple: a message can repeat itself, and a frozen dataclass
    costs ten times as much to make)."""

    kind: str
    name: str  # the decision's category or the task's id
    value: str
    data: dict[str, Any]
    confidence: Decimal
    sentence: int  # the evidence: quoted only for the findings kept (read.evidence)


@dataclass(frozen=True)
class ProjectState:
    """What the detector may know of the project: today (to resolve "March 15" and "in 6 weeks")."""

    today: date


@dataclass(frozen=True)
class _Platform:
    option: str
    name: str


class _CueScan(NamedTuple):
    """The cue patterns (see _cues_compile), each cue in group 1: scans of the whole text (after a space, after
    another character that is not a word's) and a match at 0."""

    scans: tuple[re.Pattern[str], ...]
    at_start: re.Pattern[str] | None


@dataclass(frozen=True)
class _Patterns:
    categories: frozenset[str]
    cues: _CueScan  # every cue and the platforms' names, by first letter
    cue_kinds: dict[str, str]  # a cue's words -> its kind, filled as cues are found (see _cue_kind)
    cue_patterns: tuple[tuple[str, re.Pattern[str]], ...]  # each kind's cues
    hints: tuple[str, ...]  # substrings one of which any finding needs (besides a digit)
    platforms: dict[str, _Platform]  # a name in lower case -> its option
    word_tasks: dict[str, tuple[str, ...]]  # a stemmed word -> the tasks whose id or title has it
    word_keys: dict[str, str]  # a word of a message -> its key in word_tasks or "", filled as words are seen
    aliases: dict[str, str]  # SYNONYMS and the platforms' names (-> space)
    task_titles: dict[str, str]
    category_order: dict[str, int]  # a decision's category -> its place in the playbook
    task_order: dict[str, int]  # a task's id -> its place in the playbook


_CACHE: dict[tuple[str, int], _Patterns] = {}


def actions_detect(*, text: str, playbook: Playbook, project_state: ProjectState | None = None
                   ) -> list[DetectedAction]:
    """Every decision and task completion the creator states in `text`, scored as the module docstring says, in
    the order: decisions by category as the playbook lists them, then tasks as the playbook lists them. Pure and
    deterministic: the same text, playbook and state give the same list."""
    patterns = _patterns(playbook)
    lowered = text.lower().replace("\u2019", "'")
    if not _DIGIT.search(lowered) and not any(hint in lowered for hint in patterns.hints):
        return []
    read = _Text(text, lowered, patterns)
    found: list[_Found] = []
    if PRICING in patterns.categories:
        found += _pricing(read, currency=playbook.currency)
    if PLATFORM in patterns.categories:
        found += _platforms(read, patterns)
    if TIMELINE in patterns.categories:
        found += _timeline(read, project_state)
    if CONTENT in patterns.categories:
        found += _content(read)
    if patterns.task_titles:
        found += _tasks(read, patterns)
    return _ordered(_conflicts_capped(found), playbook, patterns, read)


# --- Sentences ---------------------------------------------------------------------------------------------------

class _Text:
    """The message read once: in lower case (case-insensitive matching costs Python's re three times as much), cut
    into sentences, each pattern run once over the whole text and its matches placed in their sentence (a pattern
    per sentence would cost a call per sentence and pattern: ten times more on a 2 KB message)."""

    def __init__(self, text: str, lowered: str, patterns: _Patterns):
        self.lowered = lowered
        # str.lower() keeps the length of almost every text; the evidence quotes the creator's own casing then.
        self.original = text if len(self.lowered) == len(text) else self.lowered
        self.spans = _sentences(self.lowered)
        self.starts = [start for start, _ in self.spans]
        self._skipped: dict[int, bool] = {}
        # Sentences by the cues they hold; cadence anchors and platform names with their sentence and position.
        self.cued: dict[str, set[int]] = {"hedge": set(), "commit": set(), "hypothetical": set(), "launch": set(),
                                          "state": set()}
        cued = self.cued  # the sets the stance and the questions read most, also by name
        self.hedged, self.committed, self.hypothetical = cued["hedge"], cued["commit"], cued["hypothetical"]
        self.cadences: list[tuple[int, int]] = []
        self.platforms: list[tuple[int, int, str]] = []
        self.stated: list[int] = []  # where each "is done", "are live", ... starts
        cue_kinds, lowered, starts = patterns.cue_kinds, self.lowered, self.starts
        for match in _cues_found(lowered, patterns.cues):
            cue, start = match.group(1), match.start(1)
            kind = cue_kinds.get(cue) or _cue_kind(patterns, lowered, start, cue)
            index = bisect_right(starts, start) - 1
            if kind == "cadence":
                self.cadences.append((index, start))
            elif kind == "platform":
                self.platforms.append((index, start, cue))
            else:
                self.cued[kind].add(index)
                if kind == "state":
                    self.stated.append(start)
        # The scans one after the other: the lists whose order counts back in the text's.
        self.cadences.sort()
        self.platforms.sort()

    def sentence(self, index: int) -> str:
        start, end = self.spans[index]
        return self.lowered[start:end]

    def matches(self, scanned: Iterable[re.Match[str]]) -> list[tuple[int, re.Match[str]]]:
        """Each match with its sentence, in sentences that state something."""
        found, starts, known = [], self.starts, self._skipped
        for match in scanned:
            index = bisect_right(starts, match.start()) - 1
            skipped = known.get(index)
            if index >= 0 and not (self.skipped(index) if skipped is None else skipped):
                found.append((index, match))
        return found

    def skipped(self, index: int) -> bool:
        """Questions and hypotheticals state nothing."""
        known = self._skipped.get(index)
        if known is None:
            start, end = self.spans[index]
            sentence = self.lowered[start:end].strip()
            known = self._skipped[index] = (not sentence or sentence[-1] == "?" or index in self.hypothetical
                                            or _QUESTION_START.match(sentence) is not None)
        return known

    def stance(self, index: int) -> Decimal:
        if index in self.hedged:
            return HEDGED
        return COMMITTED if index in self.committed else PLAIN

    def negated(self, position: int, index: int) -> bool:
        """A negation shortly before the position, in the same sentence (the position's, `index`)."""
        return _NEGATION_BEFORE.search(self.lowered[max(self.starts[index], position - 40):position]) is not None

    def evidence(self, index: int) -> str:
        start, end = self.spans[index]
        return " ".join(self.original[start:end].split())[:200]


def _matches_of_any(patterns: tuple[re.Pattern[str], ...], lowered: str) -> list[re.Match[str]]:
    """What finditer of the patterns' alternation would find, when no two can match at the same position: each
    pattern's matches in the text's order, when none overlaps another (almost always); else the leftmost next match
    of any of them, then the leftmost after its end, and so on."""
    found = sorted((match for pattern in patterns for match in pattern.finditer(lowered)), key=re.Match.start)
    if all(before.end() <= after.start() for before, after in zip(found, found[1:])):
        return found
    found, upcoming = [], [pattern.search(lowered) for pattern in patterns]
    while (match := min((match for match in upcoming if match is not None), key=re.Match.start, default=None)):
        found.append(match)
        end = match.end()
        upcoming = [pattern.search(lowered, end) if following is not None and following.start() < end else following
                    for pattern, following in zip(patterns, upcoming)]
    return found


def _matches_at(pattern: re.Pattern[str], lowered: str, candidates: list[int]) -> Iterator[re.Match[str]]:
    """What pattern.finditer(lowered) finds, when every match starts at one of the candidates: the leftmost match,
    then the leftmost one after its end, and so on."""
    end = 0
    for start in sorted(set(candidates)):
        if start >= end and (match := pattern.match(lowered, start)) is not None:
            end = match.end()
            yield match


def _sentences(lowered: str) -> list[tuple[int, int]]:
    """Each sentence's (start, end); a sentence keeps its final . ! or ? (a question is known by it). One pattern
    whose runs re reads in C; the empty matches (at a line break or a semicolon) are no sentences."""
    return [span for span in map(re.Match.span, _SENTENCE.finditer(lowered)) if span[0] != span[1]]


def _negated_in(sentence: str, start: int) -> bool:
    return bool(_NEGATION_BEFORE.search(sentence[max(0, start - 40):start]))


def _decision(category: str, value: str, data: dict[str, Any], confidence: Decimal, sentence: int) -> _Found:
    """A decision found (its confidence a stance, 0.5 to 0.9, less at most 0.1: no bounds to check)."""
    return _Found(ActionKind.DECISION, category, value, data, confidence, sentence)


# --- Pricing -----------------------------------------------------------------------------------------------------

class _Price(NamedTuple):
    amount: Decimal
    currency: str | None
    interval: str | None
    slash: bool  # the interval written "/mo", "/ year"


def _pricing(read: _Text, *, currency: str) -> list[_Found]:
    """One pricing decision per sentence that states prices (module docstring)."""
    stated: dict[int, list[_Price]] = {}
    contexts: dict[int, bool] = {}
    pattern = _PRICE_ASCII if read.lowered.isascii() else _PRICE
    for index, match in read.matches(pattern.finditer(read.lowered)):
        price = _price(read.lowered, match, read.starts[index])
        if price is None:
            continue
        # A number is a price with a currency and an interval or a pricing word ("charge $29"), or with no
        # currency but a "/mo"-like interval or an interval and a pricing word ("charging 29 a month"): "I post 3 a
        # month" is not a price. The pricing word is looked for only when it decides, the negation last (dearest).
        if price.currency:
            stands = bool(price.interval) or _priced(read, index, contexts)
        else:
            stands = price.slash or (bool(price.interval) and _priced(read, index, contexts))
        if stands and not read.negated(match.start(), index):
            stated.setdefault(index, []).append(price)
    return [_price_decision(prices, stance=read.stance(index), sentence=index, currency=currency)
            for index, prices in stated.items()]


def _priced(read: _Text, index: int, contexts: dict[int, bool]) -> bool:
    """Whether the sentence has a pricing word ("charge", "price", "tier", ...), once per sentence."""
    if index not in contexts:
        contexts[index] = bool(_PRICE_CONTEXT.search(read.sentence(index)))
    return contexts[index]


def _price_decision(prices: list[_Price], *, stance: Decimal, sentence: int, currency: str) -> _Found:
    inexact, chosen, monthly, yearly = False, None, set(), set()
    for price in prices:
        inexact = inexact or price.currency is None or price.interval is None
        chosen = chosen or price.currency
        (yearly if price.interval == "year" else monthly).add(price.amount)
    chosen = chosen or currency
    if monthly:
        amount = _money(min(monthly))
        data: dict[str, Any] = {"amount": amount, "currency": chosen, "interval": "month"}
        value = f"{amount} {chosen} a month"
        if len(monthly) > 1:
            data["premium_amount"] = premium = _money(max(monthly))
            value += f" (premium {premium} {chosen})"
        if yearly:
            data["annual_amount"] = annual = _money(min(yearly))
            value += f" or {annual} {chosen} a year"
    else:
        amount = _money(min(yearly))
        data = {"amount": amount, "currency": chosen, "interval": "year"}
        value = f"{amount} {chosen} a year"
    return _decision(PRICING, value, data, stance - INEXACT if inexact else stance, sentence)


def _price(lowered: str, match: re.Match[str], floor: int) -> _Price | None:
    """The price at the match, or None: the middle of a word, a number or a date, or zero. Plain string tests, no
    pattern: a message can hold many numbers."""
    before = lowered[max(floor, match.start() - 4):match.start()]
    symbol, edge = "", before
    if before[-1:] in ("$", "€", "£") and before:
        symbol, edge = before[-1], before[:-1]
    elif before.rstrip()[-3:] in ("usd", "eur", "gbp"):
        code = before.rstrip()
        symbol, edge = code[-3:], code[:-3]
    if edge and (edge[-1].isalnum() or edge[-1] in "._,-/"):
        return None
    whole, cents, post, interval_text = match.groups()
    # Zero is no price (read on the digits: a Decimal costs more).
    if not (whole.strip("0,") or (cents and cents.strip("0"))):
        return None
    symbol = symbol or (post or "").strip()
    interval = None
    if interval_text:
        compact = interval_text.replace(" ", "")
        interval = "year" if ("year" in compact or "yr" in compact or "annu" in compact or compact == "/y") else "month"
    amount = Decimal(whole.replace(",", "") + "." + (cents or "0"))
    return _Price(amount, CURRENCIES.get(symbol), interval, (interval_text or "").lstrip().startswith("/"))


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


# --- Platform ----------------------------------------------------------------------------------------------------

def _platforms(read: _Text, patterns: _Patterns) -> list[_Found]:
    found = []
    for index, position, name in read.platforms:
        if not read.skipped(index) and not read.negated(position, index):
            platform = patterns.platforms[name]
            found.append(_decision(PLATFORM, platform.name, {"option": platform.option}, read.stance(index), index))
    return found


# --- Timeline ----------------------------------------------------------------------------------------------------

def _timeline(read: _Text, state: ProjectState | None) -> list[_Found]:
    found = []
    for index in sorted(index for index in read.cued["launch"] if not read.skipped(index)):
        resolved = _date(read.sentence(index), state)
        if resolved is not None:
            launch, exact = resolved
            found.append(_decision(TIMELINE, f"Launch on {MONTH_TITLES[launch.month]} {launch.day}, {launch.year}",
                                   {"launch_date": launch.isoformat()},
                                   read.stance(index) if exact else read.stance(index) - INEXACT, index))
    return found


def _date(sentence: str, state: ProjectState | None) -> tuple[date, bool] | None:
    """The first date in the sentence and whether it was written in full (with its year). Each pattern only where it
    can match (a digit, a hyphen, "in"): most launch sentences hold no date."""
    today = state.today if state else None
    digit = _DIGIT.search(sentence) is not None
    match = _DATE_ISO.search(sentence) if digit and "-" in sentence else None
    if match and not _negated_in(sentence, match.start()):
        return _safe_date(int(match["y"]), int(match["m"]), int(match["d"]), exact=True)
    for pattern in (_DATE_MONTH_DAY, _DATE_DAY_MONTH) if digit else ():
        match = pattern.search(sentence)
        if match is None or _negated_in(sentence, match.start()):
            continue
        month, day = MONTHS[match["month"]], int(match["day"])
        if match["year"]:
            return _safe_date(int(match["year"]), month, day, exact=True)
        if today is None:
            return None
        resolved = _safe_date(today.year, month, day, exact=False)
        if resolved and resolved[0] < today:
            resolved = _safe_date(today.year + 1, month, day, exact=False)
        return resolved
    match = _DATE_RELATIVE.search(sentence) if today is not None and "in" in sentence else None
    if match and today is not None and not _negated_in(sentence, match.start()):
        count = NUMBER_WORDS.get(match["count"]) or int(match["count"])
        return today + timedelta(days=count * UNIT_DAYS[match["unit"]]), False
    return None


def _safe_date(year: int, month: int, day: int, *, exact: bool) -> tuple[date, bool] | None:
    try:
        return date(year, month, day), exact
    except ValueError:
        return None


# --- Content -----------------------------------------------------------------------------------------------------

def _content(read: _Text) -> list[_Found]:
    found = []
    searched_to = 0
    for index, anchor in read.cadences:
        if read.skipped(index):
            continue
        start = max(read.spans[index][0], anchor - CADENCE_WINDOW, searched_to)
        match = _CADENCE.search(read.lowered, start, read.spans[index][1])
        if match is None or read.negated(match.start(), index):
            continue
        searched_to = match.end()
        if match["adverb"]:
            count, per, word = 1, _CADENCE_ADVERB[match["adverb"]], match["format2"]
        else:
            raw = match["count"] or "one"
            count, per, word = NUMBER_WORDS.get(raw) or int(raw), match["per"], match["format"]
        form = _format(word)
        value = f"{count} {form if count == 1 else _plural(form)} a {per}"
        found.append(_decision(CONTENT, value, {"count": count, "format": form, "per": per}, read.stance(index),
                               index))
    return found


def _format(word: str) -> str:
    if word.startswith("live"):
        return "live session"
    if word in ("ama", "q&a", "q&as"):
        return "q&a"
    return word[:-1] if word.endswith("s") else word


def _plural(form: str) -> str:
    return form + ("es" if form.endswith("s") else "s")


# --- Tasks -------------------------------------------------------------------------------------------------------

def _tasks(read: _Text, patterns: _Patterns) -> list[_Found]:
    if not any(hint in read.lowered for hint in DONE_HINTS):
        return []
    found = []
    first_person: set[int] = set()
    impersonal = _DONE_IMPERSONAL if read.stated else _DONE_WITH
    first_person_matches = _matches_of_any(_DONE_FIRST_PERSON, read.lowered)
    impersonal_matches = _matches_at(impersonal, read.lowered, _impersonal_starts(read))
    for confidence, scanned in ((COMMITTED, first_person_matches), (COMPLETED_IMPERSONAL, impersonal_matches)):
        for index, match in read.matches(scanned):
            if confidence != COMMITTED and index in first_person:
                continue  # "I'm done with X" also reads as "done with X": the first-person reading wins
            start = read.spans[index][0]
            if read.negated(match.start(), index) or _NOT_FINISHED.search(read.lowered, start, match.end()):
                continue
            task = _task_matched(match["object"] or match["object2"] if confidence == COMMITTED
                                 else match["object"] or read.lowered[match.start():match.end("subject")], patterns)
            if task is None:
                continue
            if confidence == COMMITTED:
                first_person.add(index)
            task_id, exact = task
            score = HEDGED if read.stance(index) == HEDGED else confidence
            if not exact:
                score -= INEXACT
            found.append(_Found(ActionKind.TASK, task_id, "", {}, score, index))
    return found


def _impersonal_starts(read: _Text) -> list[int]:
    """Every position where _DONE_IMPERSONAL (or _DONE_WITH) can match: each "done" and "finished", and each "the",
    "my" and "our" before an "is done" (a cue) in its clause (the subject holds none of , ; . ! ?). A scan of the
    whole text would try the lazy subject after every "the": half the cost of the tasks on a dense message."""
    lowered, found = read.lowered, []
    for word in ("done", "finished"):
        at = lowered.find(word)
        while at >= 0:
            found.append(at)
            at = lowered.find(word, at + 1)
    for stated in read.stated:
        clause = max(lowered.rfind(mark, 0, stated) for mark in _CLAUSE_MARKS) + 1
        for word in ("the", "my", "our"):
            at = lowered.find(word, clause, stated)
            while at >= 0:
                found.append(at)
                at = lowered.find(word, at + 1, stated)
    return found


def _task_matched(text: str, patterns: _Patterns) -> tuple[str, bool] | None:
    """The one task whose words the object (in lower case) shares most (a word weighs 1 / the number of tasks that
    have it), and whether the match is exact (a word only this task has, or two shared words); None when nothing is
    shared or two tasks tie. Floats are fine here: the scores only rank the tasks (and are rounded before
    comparing)."""
    word_keys = patterns.word_keys
    keys = {word_keys[word] if word in word_keys else _word_key(word, patterns) for word in _WORD.findall(text)}
    keys.discard("")
    if not keys:
        return None
    scores: dict[str, float] = {}
    shared: dict[str, int] = {}
    for key in keys:
        tasks = patterns.word_tasks[key]
        for task_id in tasks:
            scores[task_id] = scores.get(task_id, 0.0) + 1 / len(tasks)
            shared[task_id] = shared.get(task_id, 0) + 1
    # Rounded, the best score is the highest one rounded; only the scores near it can tie with it once rounded.
    highest = max(scores.values())
    best = round(highest, 9)
    best_ids = [task_id for task_id, score in scores.items() if highest - score < 2e-9 and round(score, 9) == best]
    if len(best_ids) > 1:
        return None
    return best_ids[0], best >= 1 or shared[best_ids[0]] >= 2


def _word_key(word: str, patterns: _Patterns) -> str:
    """The word as the playbook's tasks know it (stemmed, a synonym replaced), "" when no task has it; remembered
    per playbook (a vocabulary: bounded below)."""
    stem = _stem(word)
    key = patterns.aliases.get(stem, stem) if stem else ""
    if key not in patterns.word_tasks:
        key = ""
    if len(patterns.word_keys) < 50_000:
        patterns.word_keys[word] = key
    return key


def _stems(text: str) -> set[str]:
    return {stem for word in _WORD.findall(text.lower()) if (stem := _stem(word))}


def _stem(word: str) -> str:
    """The word without its plural ending; "" for a stop word or a short one."""
    if word in STOPWORDS or len(word) < 3:
        return ""
    if word in SYNONYMS:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


# --- Results -----------------------------------------------------------------------------------------------------

def _conflicts_capped(found: list[_Found]) -> list[_Found]:
    """One finding per decision value and per task (the highest confidence); a category given two different values
    in the message keeps each, capped at 0.5, so the user chooses."""
    best: dict[tuple[str, str, str], _Found] = {}
    for finding in found:
        key = (finding.kind, finding.name, finding.value)
        if key not in best or finding.confidence > best[key].confidence:
            best[key] = finding
    values: dict[tuple[str, str], int] = {}
    for kind, name, _ in best:
        values[(kind, name)] = values.get((kind, name), 0) + 1
    return [finding if values[(finding.kind, finding.name)] == 1
            else finding._replace(confidence=min(finding.confidence, CONFLICT_CAP))
            for finding in best.values()]


def _ordered(found: list[_Found], playbook: Playbook, patterns: _Patterns, read: _Text) -> list[DetectedAction]:
    categories, tasks = patterns.category_order, patterns.task_order
    ordered = sorted(found, key=lambda finding: (
        (0, categories[finding.name], finding.value) if finding.kind == ActionKind.DECISION
        else (1, tasks[finding.name], "")))
    return [DetectedAction(kind=finding.kind, source=ActionSource.PATTERN, confidence=finding.confidence,
                           category=finding.name, value=finding.value, data=finding.data,
                           evidence=read.evidence(finding.sentence))
            if finding.kind == ActionKind.DECISION else
            DetectedAction(kind=finding.kind, source=ActionSource.PATTERN, confidence=finding.confidence,
                           task_id=finding.name, task_title=patterns.task_titles[finding.name],
                           evidence=read.evidence(finding.sentence))
            for finding in ordered]


# --- Patterns per playbook ---------------------------------------------------------------------------------------

def _patterns(playbook: Playbook) -> _Patterns:
    key = (playbook.key, playbook.version)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = _patterns_build(playbook)
    return cached


def _patterns_build(playbook: Playbook) -> _Patterns:
    platforms: dict[str, _Platform] = {}
    platform_decision = playbook.decision(PLATFORM)
    if platform_decision is not None:
        for option in platform_decision.options:
            for name in OTHER_PLATFORMS if option.value == OTHER_OPTION else (option.label,):
                platforms[name.lower()] = _Platform(option=option.value, name=name)
    word_tasks: dict[str, list[str]] = {}
    for task in playbook.tasks:
        for word in sorted(_stems(f"{task.id.replace('-', ' ')} {task.title}")):
            word_tasks.setdefault(word, []).append(task.id)
    # A platform's name stands for the community space it hosts ("I've set up Discord").
    aliases = {**SYNONYMS, **{word: SYNONYMS["server"] for name in platforms for word in _stems(name)}}
    # "state" (is done, are live) last: no other cue starts with "is " or "are ", so each is found.
    kinds = {"hedge": _alternatives(HEDGE_CUES), "commit": _alternatives(COMMIT_CUES),
             "hypothetical": _alternatives(HYPOTHETICAL_CUES), "launch": _alternatives(LAUNCH_CUES),
             "cadence": _alternatives(CADENCE_CUES),
             "platform": [re.escape(name) for name in sorted(platforms, key=len, reverse=True)],
             "state": _alternatives(STATE_CUES)}
    return _Patterns(
        categories=frozenset(decision.category for decision in playbook.decisions),
        hints=tuple(platforms) + LAUNCH_HINTS + CADENCE_HINTS + DONE_HINTS,
        cues=_cues_compile(kinds), cue_kinds={},
        cue_patterns=tuple((kind, re.compile(rf"(?:{'|'.join(alternatives)})\b"))
                           for kind, alternatives in kinds.items() if alternatives),
        platforms=platforms, word_tasks={word: tuple(ids) for word, ids in word_tasks.items()}, word_keys={},
        aliases=aliases,
        task_titles={task.id: task.title for task in playbook.tasks},
        category_order=_places(decision.category for decision in playbook.decisions),
        task_order=_places(task.id for task in playbook.tasks))


def _places(names: Iterable[str]) -> dict[str, int]:
    """Each name's first place in the list."""
    places: dict[str, int] = {}
    for place, name in enumerate(names):
        places.setdefault(name, place)
    return places


def _cues_compile(kinds: dict[str, list[str]]) -> _CueScan:
    """The patterns that find every cue, the cue in group 1, branching on the first letter: Python's re skips a
    branch whose first letter differs in C, where it would try each of the hundred alternatives in turn. At one
    position the kinds are tried in their order, each kind's alternatives in theirs, as in one alternation per kind.
    No group per kind: groups cost re a third more; _cue_kind tells the kind.

    Every word start is tried, also inside another cue ("suppose" in "i suppose"): the cue is read in a lookahead
    after the one character that precedes the word. Most words follow a space, which re finds in C as fast as
    str.find; the other word starts (after a line break, an apostrophe, a slash, ...) are found by a second scan
    on a set of characters, the text's first word by a match: together about half the cost of one `\\b(?=...)`
    scan, which tries the cues at every position."""
    by_letter: dict[str, list[str]] = {}
    for alternatives in kinds.values():
        for alternative in alternatives:
            first, rest = (alternative[:2], alternative[2:]) if alternative[0] == "\\" else (alternative[0],
                                                                                           alternative[1:])
            by_letter.setdefault(first, []).append(rf"{rest}\b")
    cue = "|".join(rf"{first}(?:{'|'.join(rests)})" for first, rests in by_letter.items())
    if not all(re.match(r"\w", first) for first in by_letter):
        # A cue starting with a sign (a platform named "#general"): every word boundary is tried.
        return _CueScan(scans=(re.compile(rf"\b(?=({cue}))"),), at_start=None)
    return _CueScan(scans=(re.compile(rf" (?=({cue}))"), re.compile(rf"[^a-z0-9_ ](?<=\W)(?=({cue}))")),
                    at_start=re.compile(rf"({cue})"))


def _cues_found(lowered: str, scan: _CueScan) -> Iterator[re.Match[str]]:
    """Each cue's match (the cue in group 1), scan after scan: in the order of the text within each scan only."""
    first = scan.at_start.match(lowered) if scan.at_start is not None else None
    return chain(*(pattern.finditer(lowered) for pattern in scan.scans), () if first is None else (first,))


def _cue_kind(patterns: _Patterns, lowered: str, start: int, cue: str) -> str:
    """The kind of the cue found at `start`: the first kind (in their order) matching there, as in one alternation
    per kind. The first alternative matching at a position is the one the cue pattern chose, so a cue's words tell
    its kind wherever it appears: remembered by the words."""
    kind = next(kind for kind, pattern in patterns.cue_patterns if pattern.match(lowered, start))
    if len(patterns.cue_kinds) < 10_000:
        patterns.cue_kinds[cue] = kind
    return kind
