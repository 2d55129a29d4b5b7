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

Speed: one pass of a few precompiled patterns per sentence; about 100 microseconds for 2 KB on a laptop
(bench/coach.py reports `detector_us_per_message`). The compiled patterns are cached per (playbook key, version) in
the process: playbooks only change with a deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from creators.chat.actions import ActionKind, ActionSource, DetectedAction
from creators.playbooks import Playbook

COMMITTED = Decimal("0.9")
COMPLETED_IMPERSONAL = Decimal("0.8")
PLAIN = Decimal("0.7")
HEDGED = Decimal("0.5")
INEXACT = Decimal("0.1")
CONFLICT_CAP = Decimal("0.5")

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
# A sentence ends at . ! ? followed by a space (not inside "1,299.50"), a line break or a semicolon.
_SENTENCE = re.compile(r"(?:[^.!?\n;]|[.!?](?=\S))+[.!?]*")
_QUESTION_START = re.compile(
    r"^\s*(?:should|shall|can|could|would|do|does|is|are|am|will|what|how|which|why|where|when)\b")
_HYPOTHETICAL = re.compile(r"\b(?:what if|if|suppose|supposing|imagine|in case|unless|would|could|might|"
                           r"wondering|whether)\b")
_HEDGE = re.compile(r"\b(?:maybe|perhaps|probably|possibly|i think|i guess|i suppose|thinking (?:about|of)|"
                    r"considering|leaning|not sure|kind of|sort of|roughly|around|approximately|tentatively|"
                    r"should|hopefully|ish)\b")
_COMMIT = re.compile(r"\b(?:i'll|i will|i'm going to|i am going to|gonna|we'll|we will|we're going to|let's|"
                     r"(?:i|we)(?:'ve| have)? decided|decided on|(?:i|we)(?:'ve| have)? chosen|(?:i|we) chose|"
                     r"(?:i'm|we're|i am|we are)? ?going with|(?:i'm|we're|i am|we are) (?:using|charging|launching|"
                     r"opening|posting|doing|picking)|(?:i|we) picked|my price is|the price (?:is|will be)|"
                     r"(?:i|we)(?:'ve| have)? (?:just |already )?(?:set up|created|built|opened)|it(?:'ll| will) be|"
                     r"settled on|definitely|for sure|committed to|(?:i|we) (?:charge|launch|"
                     r"use|post|open))\b")
# "not Circle", "I won't use Circle", "instead of Circle", "no Discord": a negation shortly before the match.
_NEGATION_BEFORE = re.compile(r"(?:\b(?:not|no|never|without|instead of|rather than|against|nor|neither|"
                              r"won't|wont|don't|dont|didn't|didnt|isn't|aren't|haven't|hasn't|can't|cannot)\b"
                              r"[^,]{0,30})$")
_NOT_FINISHED = re.compile(r"\b(?:almost|nearly|halfway|partly|partially|started|starting|working on|"
                           r"in progress|still|yet|not done|not finished|need to|have to|going to|want to|plan to|"
                           r"planning to|will|'ll|tomorrow|next week)\b")

_AMOUNT = r"(?P<amount>\d{1,3}(?:,\d{3})+|\d{1,6})(?:\.(?P<cents>\d{1,2}))?"
_CURRENCY_POST = r"(?:\s?(?P<post>€|£|(?:usd|eur|gbp|dollars?|bucks|euros?|pounds?)\b))"
_INTERVAL = (r"(?:\s*(?P<interval>/\s?(?:month|mo|mth|m|year|yr|y|annum)\b|(?:per|a|an|each|every|/)\s(?:month|"
             r"year|annum)\b|monthly\b|yearly\b|annually\b|per annum\b))")
# Starting with a digit lets Python's re skip to the digits; the currency before is read by _CURRENCY_BEFORE.
_PRICE = re.compile(rf"{_AMOUNT}(?!\d)(?!\.\d){_CURRENCY_POST}?{_INTERVAL}?")
_YEARLY = re.compile(r"y(?:ea)?r|annu|/\s?y$")
_CURRENCY_BEFORE = re.compile(r"(?:[$€£]|\b(?:usd|eur|gbp)\s?)$")
_PRICE_CONTEXT = re.compile(r"\b(?:charg\w*|price\w*|pricing|cost\w*|fee|membership|subscription|tier\w*|"
                            r"per member|members pay)\b")
_LAUNCH = re.compile(r"\b(?:launch\w*|open(?:ing)? (?:the )?doors|doors open|go(?:ing)? live|open(?:ing)? "
                     r"(?:it|the community|up)|release\w*|kick ?off|start date|launch date)\b")
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_ISO = re.compile(r"\b(?P<y>20\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b")
_DATE_MONTH_DAY = re.compile(rf"\b(?P<month>{_MONTH_NAMES})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
                             rf"(?:,?\s+(?P<year>20\d\d)\b)?")
_DATE_DAY_MONTH = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_NAMES})\b"
                             rf"(?:,?\s+(?P<year>20\d\d)\b)?")
_DATE_RELATIVE = re.compile(r"\bin\s+(?P<count>\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|"
                            r"twelve)\s+(?P<unit>day|week|month)s?\b")
_CADENCE = re.compile(
    r"\b(?P<count>\d{1,2}|a|an|one|two|three|four|five|six|seven|once|twice)?\s*(?:new\s+|short\s+|long\s+)?"
    r"(?P<format>posts?|videos?|lives?|live (?:sessions?|streams?|calls?)|calls?|workshops?|prompts?|challenges?|"
    r"threads?|lessons?|episodes?|emails?|q&as?|ama|check-ins?)\s+(?:a|per|each|every)\s+(?P<per>day|week|month)\b"
    r"|\b(?P<adverb>daily|weekly|monthly)\s+(?P<format2>posts?|videos?|lives?|live (?:sessions?|streams?|calls?)|"
    r"calls?|workshops?|prompts?|challenges?|threads?|lessons?|episodes?|emails?|q&as?|check-ins?)\b")
_CADENCE_ADVERB = {"daily": "day", "weekly": "week", "monthly": "month"}
# Cheap literal hints that gate the costlier patterns: most sentences of a long message state nothing.
# Literal hints that gate the costlier patterns: most sentences of a long message state nothing, and a substring
# test costs a fraction of a microsecond where a pattern costs tens (Python's re has no literal-set scan).
LAUNCH_HINTS = ("launch", "door", "live", "open", "release", "kick", "start date")
CADENCE_HINTS = (" a week", " a day", " a month", " per ", " every ", " each ", "daily", "weekly", "monthly")
DONE_HINTS = ("done", "finish", "set up", "creat", "built", "made", "complet", "wrote", "written", "publish",
              "launched", "opened", "recruit", "connect", "host", "sent", "planned", "tested", "announc", "design",
              "chose", "defined", "review", "welcom", "prepar", "did ", "live", "ready", " up")
# First-person completion: "I've set up", "I have just created", "we finished", "I'm done with".
_DONE_FIRST_PERSON = re.compile(
    r"\b(?:i|we)(?:'ve| have)?\s+(?:just\s+|already\s+|finally\s+|now\s+)?(?P<verb>set up|created|built|"
    r"made|finished|completed|wrote|written|published|launched|opened|recruited|connected|hosted|sent|planned|"
    r"tested|announced|designed|chose|defined|reviewed|welcomed|prepared|did|done)\s+(?P<object>[^,;]{2,80})"
    r"|\b(?:i'm|i am|we're|we are)\s+(?:all\s+)?(?:done|finished)\s+with\s+(?P<object2>[^,;]{2,80})")
_DONE_IMPERSONAL = re.compile(
    r"\b(?:done|finished)\s+with\s+(?P<object>[^,;]{2,80})"
    r"|\b(?P<object2>(?:the|my|our)\s+[^,;]{2,60}?)\s+(?:is|are)\s+(?:now\s+|all\s+)?(?:done|finished|live|ready|"
    r"set up|published|up)\b")


@dataclass(frozen=True)
class ProjectState:
    """What the detector may know of the project: today (to resolve "March 15" and "in 6 weeks")."""

    today: date


@dataclass(frozen=True)
class _Platform:
    option: str
    name: str


@dataclass(frozen=True)
class _Patterns:
    platforms: tuple[tuple[re.Pattern[str], _Platform], ...]
    gates: tuple[tuple[Any, tuple[str, ...]], ...]  # (a detector, the substrings worth running it for)
    word_tasks: dict[str, tuple[str, ...]]  # a stemmed word -> the tasks whose id or title has it
    aliases: dict[str, str]  # SYNONYMS and the platforms' names (-> space)
    task_titles: dict[str, str]


_CACHE: dict[tuple[str, int], _Patterns] = {}


def actions_detect(*, text: str, playbook: Playbook, project_state: ProjectState | None = None
                   ) -> list[DetectedAction]:
    """Every decision and task completion the creator states in `text`, scored as the module docstring says, in
    the order: decisions by category as the playbook lists them, then tasks as the playbook lists them. Pure and
    deterministic: the same text, playbook and state give the same list."""
    patterns = _patterns(playbook)
    # The patterns read lower case (case-insensitive matching costs Python's re three times as much).
    lowered = text.lower().replace("\u2019", "'")
    gates = _gates_present(lowered, patterns)
    found: list[DetectedAction] = []
    if not gates:
        return found
    for match in _SENTENCE.finditer(lowered):
        sentence = match.group()
        checks = _checks(sentence, gates)
        if not checks or _skipped(sentence):
            continue
        # str.lower() keeps the length of almost every text; the evidence quotes the creator's own casing then.
        evidence = _evidence(text[match.start():match.end()] if len(lowered) == len(text) else sentence)
        stance = _stance(sentence)
        for check in checks:
            found.extend(check(sentence, stance, evidence, patterns, playbook, project_state))
    return _ordered(_conflicts_capped(found), playbook)


def _gates_present(lowered: str, patterns: _Patterns) -> list[tuple[Any, tuple[str, ...]]]:
    """Each detector with the hints of it that the whole text contains (detectors with none are left out)."""
    present = [(check, tuple(hint for hint in hints if hint in lowered)) for check, hints in patterns.gates]
    return [(check, hints) for check, hints in present if hints]


def _checks(sentence: str, gates: list[tuple[Any, tuple[str, ...]]]) -> list[Any]:
    return [check for check, hints in gates if any(hint in sentence for hint in hints)]


# --- Sentences ---------------------------------------------------------------------------------------------------

def _skipped(sentence: str) -> bool:
    """Questions and hypotheticals state nothing."""
    stripped = sentence.strip()
    return (not stripped or stripped.endswith("?") or bool(_QUESTION_START.match(stripped))
            or bool(_HYPOTHETICAL.search(stripped)))


def _stance(sentence: str) -> Decimal:
    if _HEDGE.search(sentence):
        return HEDGED
    if _COMMIT.search(sentence):
        return COMMITTED
    return PLAIN


def _negated(sentence: str, start: int) -> bool:
    return bool(_NEGATION_BEFORE.search(sentence[max(0, start - 40):start]))


def _evidence(sentence: str) -> str:
    return " ".join(sentence.split())[:200]


def _decision(category: str, value: str, data: dict[str, Any], confidence: Decimal, evidence: str
              ) -> DetectedAction:
    return DetectedAction(kind=ActionKind.DECISION, source=ActionSource.PATTERN, category=category, value=value,
                          data=data, confidence=max(Decimal(0), min(Decimal(1), confidence)), evidence=evidence)


# --- Pricing -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Price:
    amount: Decimal
    currency: str | None
    interval: str | None


def _pricing(sentence: str, stance: Decimal, evidence: str, patterns: _Patterns, playbook: Playbook,
             state: ProjectState | None) -> list[DetectedAction]:
    has_context = bool(_PRICE_CONTEXT.search(sentence))
    prices = []
    for match in _PRICE.finditer(sentence):
        price = _price(sentence, match)
        if price is None or _negated(sentence, match.start()):
            continue
        # A number is a price with a currency and an interval or a pricing word ("charge $29"), or with no
        # currency but a "/mo"-like interval or an interval and a pricing word ("charging 29 a month"): "I post 3 a
        # month" is not a price.
        slash = match.group("interval") is not None and match.group("interval").lstrip().startswith("/")
        if price.currency and not (price.interval or has_context):
            continue
        if not price.currency and not (slash or (price.interval and has_context)):
            continue
        prices.append(price)
    if not prices:
        return []
    inexact = any(price.currency is None or price.interval is None for price in prices)
    chosen_currency = next((price.currency for price in prices if price.currency), playbook.currency)
    monthly = sorted({price.amount for price in prices if price.interval in ("month", None)})
    yearly = sorted({price.amount for price in prices if price.interval == "year"})
    if monthly:
        data: dict[str, Any] = {"amount": _money(monthly[0]), "currency": chosen_currency, "interval": "month"}
        value = f"{_money(monthly[0])} {chosen_currency} a month"
        if len(monthly) > 1:
            data["premium_amount"] = _money(monthly[-1])
            value += f" (premium {_money(monthly[-1])} {chosen_currency})"
        if yearly:
            data["annual_amount"] = _money(yearly[0])
            value += f" or {_money(yearly[0])} {chosen_currency} a year"
    else:
        data = {"amount": _money(yearly[0]), "currency": chosen_currency, "interval": "year"}
        value = f"{_money(yearly[0])} {chosen_currency} a year"
    return [_decision(PRICING, value, data, stance - (INEXACT if inexact else 0), evidence)]


def _price(sentence: str, match: re.Match[str]) -> _Price | None:
    before = sentence[max(0, match.start() - 4):match.start()]
    prefix = _CURRENCY_BEFORE.search(before)
    edge = before[:prefix.start()] if prefix else before
    if edge and (edge[-1].isalnum() or edge[-1] in "._,-/"):
        return None  # the middle of a word, a number or a date
    amount = Decimal(match.group("amount").replace(",", "") + "." + (match.group("cents") or "0"))
    if amount <= 0:
        return None
    symbol = (prefix.group() if prefix else match.group("post") or "").strip()
    interval_text = match.group("interval") or ""
    interval = None
    if interval_text:
        interval = "year" if _YEARLY.search(interval_text) else "month"
    return _Price(amount=amount, currency=CURRENCIES.get(symbol), interval=interval)


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


# --- Platform ----------------------------------------------------------------------------------------------------

def _platforms(sentence: str, stance: Decimal, evidence: str, patterns: _Patterns, playbook: Playbook,
               state: ProjectState | None) -> list[DetectedAction]:
    found = []
    for pattern, platform in patterns.platforms:
        match = pattern.search(sentence) if platform.name.lower() in sentence else None
        if match and not _negated(sentence, match.start()):
            found.append(_decision(PLATFORM, platform.name, {"option": platform.option}, stance, evidence))
    return found


# --- Timeline ----------------------------------------------------------------------------------------------------

def _timeline(sentence: str, stance: Decimal, evidence: str, patterns: _Patterns, playbook: Playbook,
              state: ProjectState | None) -> list[DetectedAction]:
    if not _LAUNCH.search(sentence):
        return []
    resolved = _date(sentence, state)
    if resolved is None:
        return []
    launch, exact = resolved
    return [_decision(TIMELINE, f"Launch on {launch:%B} {launch.day}, {launch.year}",
                      {"launch_date": launch.isoformat()}, stance - (0 if exact else INEXACT), evidence)]


def _date(sentence: str, state: ProjectState | None) -> tuple[date, bool] | None:
    """The first date in the sentence and whether it was written in full (with its year)."""
    today = state.today if state else None
    match = _DATE_ISO.search(sentence)
    if match and not _negated(sentence, match.start()):
        return _safe_date(int(match["y"]), int(match["m"]), int(match["d"]), exact=True)
    for pattern in (_DATE_MONTH_DAY, _DATE_DAY_MONTH):
        match = pattern.search(sentence)
        if match is None or _negated(sentence, match.start()):
            continue
        month, day = MONTHS[match["month"].lower()], int(match["day"])
        if match["year"]:
            return _safe_date(int(match["year"]), month, day, exact=True)
        if today is None:
            return None
        resolved = _safe_date(today.year, month, day, exact=False)
        if resolved and resolved[0] < today:
            resolved = _safe_date(today.year + 1, month, day, exact=False)
        return resolved
    match = _DATE_RELATIVE.search(sentence)
    if match and today is not None and not _negated(sentence, match.start()):
        count = NUMBER_WORDS.get(match["count"].lower()) or int(match["count"])
        return today + timedelta(days=count * UNIT_DAYS[match["unit"].lower()]), False
    return None


def _safe_date(year: int, month: int, day: int, *, exact: bool) -> tuple[date, bool] | None:
    try:
        return date(year, month, day), exact
    except ValueError:
        return None


# --- Content -----------------------------------------------------------------------------------------------------

def _content(sentence: str, stance: Decimal, evidence: str, patterns: _Patterns, playbook: Playbook,
             state: ProjectState | None) -> list[DetectedAction]:
    match = _CADENCE.search(sentence)
    if match is None or _negated(sentence, match.start()):
        return []
    if match["adverb"]:
        count, per, word = 1, _CADENCE_ADVERB[match["adverb"].lower()], match["format2"]
    else:
        raw = (match["count"] or "one").lower()
        count, per, word = NUMBER_WORDS.get(raw) or int(raw), match["per"].lower(), match["format"]
    form = _format(word)
    plural = form if count == 1 else _plural(form)
    value = f"{count} {plural} a {per}"
    return [_decision(CONTENT, value, {"count": count, "format": form, "per": per}, stance, evidence)]


def _format(word: str) -> str:
    word = word.lower()
    if word.startswith("live") or word.startswith("live "):
        return "live session"
    if word in ("ama", "q&a", "q&as"):
        return "q&a"
    return word[:-1] if word.endswith("s") else word


def _plural(form: str) -> str:
    return form + ("es" if form.endswith("s") else "s")


# --- Tasks -------------------------------------------------------------------------------------------------------

def _tasks(sentence: str, stance: Decimal, evidence: str, patterns: _Patterns, playbook: Playbook,
           state: ProjectState | None) -> list[DetectedAction]:
    found = []
    for pattern, confidence in ((_DONE_FIRST_PERSON, COMMITTED), (_DONE_IMPERSONAL, COMPLETED_IMPERSONAL)):
        for match in pattern.finditer(sentence):
            if _negated(sentence, match.start()) or _NOT_FINISHED.search(sentence[:match.end()]):
                continue
            task = _task_matched(match["object"] or match["object2"], patterns)
            if task is None:
                continue
            task_id, exact = task
            score = (HEDGED if stance == HEDGED else confidence) - (0 if exact else INEXACT)
            found.append(DetectedAction(kind=ActionKind.TASK, source=ActionSource.PATTERN, confidence=score,
                                        task_id=task_id, task_title=patterns.task_titles[task_id],
                                        evidence=evidence))
        if found:
            break  # "I'm done with X" also reads as "done with X": the first-person reading wins
    return found


def _task_matched(text: str, patterns: _Patterns) -> tuple[str, bool] | None:
    """The one task whose words the object shares most (a word weighs 1 / the number of tasks that have it), and
    whether the match is exact (a word only this task has, or two shared words); None when nothing is shared or
    two tasks tie. Floats are fine here: the scores only rank the tasks (and are rounded before comparing)."""
    scores: dict[str, float] = {}
    shared: dict[str, int] = {}
    for word in {patterns.aliases.get(word, word) for word in _stems(text)}:
        tasks = patterns.word_tasks.get(word, ())
        for task_id in tasks:
            scores[task_id] = scores.get(task_id, 0.0) + 1 / len(tasks)
            shared[task_id] = shared.get(task_id, 0) + 1
    if not scores:
        return None
    ranked = sorted(((round(score, 9), task_id) for task_id, score in scores.items()), reverse=True)
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return None
    best_score, best_id = ranked[0]
    return best_id, best_score >= 1 or shared[best_id] >= 2


def _stems(text: str) -> set[str]:
    stems = set()
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 3:
            continue
        if word in SYNONYMS:
            stems.add(word)
            continue
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        stems.add(word)
    return stems


# --- Results -----------------------------------------------------------------------------------------------------

def _conflicts_capped(found: list[DetectedAction]) -> list[DetectedAction]:
    """One action per decision category and per task (the highest confidence); a category given two different
    values in the message keeps each, capped at 0.5, so the user chooses."""
    best: dict[tuple[str, str, str], DetectedAction] = {}
    for action in found:
        key = (action.kind, action.category or action.task_id, action.value)
        if key not in best or action.confidence > best[key].confidence:
            best[key] = action
    values: dict[tuple[str, str], int] = {}
    for kind, name, _ in best:
        values[(kind, name)] = values.get((kind, name), 0) + 1
    return [action if values[(action.kind, action.category or action.task_id)] == 1
            else replace(action, confidence=min(action.confidence, CONFLICT_CAP))
            for action in best.values()]


def _ordered(found: list[DetectedAction], playbook: Playbook) -> list[DetectedAction]:
    categories = [decision.category for decision in playbook.decisions]
    tasks = [task.id for task in playbook.tasks]
    return sorted(found, key=lambda action: (
        (0, categories.index(action.category), action.value) if action.kind == ActionKind.DECISION
        else (1, tasks.index(action.task_id), "")))


# --- Patterns per playbook ---------------------------------------------------------------------------------------

def _patterns(playbook: Playbook) -> _Patterns:
    key = (playbook.key, playbook.version)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = _patterns_build(playbook)
    return cached


def _patterns_build(playbook: Playbook) -> _Patterns:
    platforms: list[tuple[str, str]] = []  # (option value, a name of it)
    platform_words: set[str] = set()
    platform_decision = playbook.decision(PLATFORM)
    if platform_decision is not None:
        for option in platform_decision.options:
            names = OTHER_PLATFORMS if option.value == OTHER_OPTION else (option.label,)
            for name in names:
                platforms.append((option.value, name))
                platform_words.update(_WORD.findall(name.lower()))
    word_tasks: dict[str, list[str]] = {}
    for task in playbook.tasks:
        for word in sorted(_stems(f"{task.id.replace('-', ' ')} {task.title}")):
            word_tasks.setdefault(word, []).append(task.id)
    # A platform's name stands for the community space it hosts ("I've set up Discord").
    aliases = {**SYNONYMS, **{word: SYNONYMS["server"] for name in platform_words for word in _stems(name)}}
    categories = frozenset(decision.category for decision in playbook.decisions)
    names = tuple(name.lower() for _, name in platforms)
    gates = tuple((check, hints) for check, category, hints in (
        (_pricing, PRICING, tuple("0123456789")), (_platforms, PLATFORM, names), (_timeline, TIMELINE, LAUNCH_HINTS),
        (_content, CONTENT, CADENCE_HINTS), (_tasks, None, DONE_HINTS if playbook.tasks else ()))
        if hints and (category is None or category in categories))
    return _Patterns(platforms=tuple((re.compile(rf"\b{re.escape(name.lower())}\b"), _Platform(option, name))
                                     for option, name in platforms), gates=gates,
                     word_tasks={word: tuple(ids) for word, ids in word_tasks.items()}, aliases=aliases,
                     task_titles={task.id: task.title for task in playbook.tasks})
