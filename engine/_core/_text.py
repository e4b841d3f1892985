"""Text analysis shared by the embedded keyword index and the Redis backend: the tokenizer,
the stop list, a memory's weighted terms and the BM25 constants.

BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009)
with k1 = 1.2, b = 0.75; a memory's topics count twice (``TOPIC_WEIGHT``). The index and
the scoring are :class:`engine._store._keyword.KeywordIndex`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import filterfalse
from typing import Final

__all__ = ["B", "K1", "STOP_WORDS", "TOPIC_WEIGHT", "memory_terms", "tokenize"]

K1 = 1.2
B = 0.75
TOPIC_WEIGHT = 2
_TOKEN = re.compile(r"\w+", re.UNICODE)

#: English function words that carry no meaning for search; neither indexed nor
#: queried. A subset of the Glasgow IR group's stop list (the one scikit-learn ships
#: as ``ENGLISH_STOP_WORDS``), plus contraction fragments ("don't" -> "don", "t").
STOP_WORDS: Final = frozenset(
    """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s t d ll m re ve don doesn didn isn aren
    wasn weren won wouldn couldn shouldn haven hasn hadn im ive id youre dont
    """.split()
)
_IS_STOP_WORD = STOP_WORDS.__contains__
_FINDALL = _TOKEN.findall


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (Unicode ``\\w+`` runs) of ``text``, stop words removed.

    O(len(text)), filtered in C.
    """
    return list(filterfalse(_IS_STOP_WORD, _FINDALL(text.lower())))


def memory_terms(text: str, topics: Iterable[str]) -> Counter[str]:
    """Term frequencies of a memory: its text's tokens plus its topics' tokens, weighted.

    Counted in C, in one pass: the keys come in the order their tokens first appear
    (the text's, then the topics'). The topics are tokenized joined by a space: a
    character that is neither a word character nor cased nor case-ignorable, so it
    changes neither the tokens nor their lower-casing (e.g. of a final sigma).
    """
    tokens = tokenize(text)
    tokens += tokenize(" ".join(topics)) * TOPIC_WEIGHT
    return Counter(tokens)
