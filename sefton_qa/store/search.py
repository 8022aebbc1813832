"""What a person typed into a search box, as the words both engines' search indexes hold."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")


def words_of(text: str) -> list[list[str]]:
    """Each typed term's word parts: "LCS-123 neglect" → [["LCS", "123"], ["neglect"]].

    Letters and digits only (underscores and punctuation split words), as SQLite's unicode61
    tokenizer and the server's index (non-alphanumerics replaced by spaces) both read text.
    """
    return [parts for term in text.split() if (parts := _WORD.findall(term))]
