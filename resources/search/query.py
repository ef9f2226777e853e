"""What a person typed, as clauses to match: words, "quoted phrases", -excluded words.

A clause that is a curated synonym ("lawyer", "a place to stay") carries it, so that
matching also looks for the needs and terms it maps to. Parsing never fails, whatever
the input: punctuation and query operators are read as text.
"""

import re
from dataclasses import dataclass, field

from resources.models import Synonym

MAX_CLAUSES = 12
MAX_QUERY_LENGTH = 500

# Words too common to narrow a search: "the" alone is no filter.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me more most my myself no nor not of off on once only
    or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with you
    your yours yourself yourselves
    """.split()  # noqa: SIM905 (a word list reads better as prose)
)
TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
WORD_CHARS = re.compile(r"[^\w']+")


@dataclass
class Clause:
    text: str
    phrase: bool = False
    negated: bool = False
    synonym: Synonym | None = None
    corrections: list[str] = field(default_factory=list)


@dataclass
class ParsedQuery:
    clauses: list[Clause]
    truncated: bool = False
    corrected: bool = False  # whether typo corrections have been looked for
    synonyms: dict = field(default_factory=dict, repr=False)  # the table it was parsed with

    def __bool__(self):
        return bool(self.clauses)

    @property
    def has_words(self):
        """Whether any clause must be found (not only excluded)."""
        return any(not clause.negated for clause in self.clauses)


def words(text):
    """Lower-case words with punctuation (and tsquery operators) removed."""
    return [w.strip("'_") for w in WORD_CHARS.split(text.lower()) if w.strip("'_")]


def parse_query(query, synonyms):
    """Split what a person typed into clauses. `synonyms` maps each curated phrase to its
    Synonym (resources.search.synonyms.synonym_table())."""
    query = (query or "")[:MAX_QUERY_LENGTH]
    longest_synonym = max((len(p.split()) for p in synonyms), default=1)

    clauses = []
    run = []  # consecutive plain words, where multi-word synonyms are looked for

    def flush():
        i = 0
        while i < len(run):
            for size in range(min(longest_synonym, len(run) - i), 0, -1):
                phrase = " ".join(run[i : i + size])
                if phrase in synonyms:
                    clauses.append(Clause(phrase, phrase=size > 1, synonym=synonyms[phrase]))
                    i += size
                    break
            else:
                if run[i] not in STOP_WORDS:
                    clauses.append(Clause(run[i]))
                i += 1
        run.clear()

    for quoted_neg, quoted, word_neg, word in TOKEN.findall(query):
        if word:
            found = words(word)
            if word_neg and found:
                flush()
                clauses.extend(Clause(w, negated=True) for w in found if w not in STOP_WORDS)
            else:
                run.extend(found)
        else:
            flush()
            found = words(quoted)
            if len(found) == 1 and found[0] in synonyms and not quoted_neg:
                clauses.append(Clause(found[0], synonym=synonyms[found[0]]))
            elif found:
                clauses.append(Clause(" ".join(found), phrase=True, negated=bool(quoted_neg)))
    flush()
    truncated = len(clauses) > MAX_CLAUSES or len(query) >= MAX_QUERY_LENGTH
    return ParsedQuery(clauses[:MAX_CLAUSES], truncated=truncated, synonyms=synonyms)
