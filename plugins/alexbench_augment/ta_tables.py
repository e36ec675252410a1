"""TextAttack's tokenizer and the tables its ALEX transformations read, without importing TextAttack.

``import textattack`` takes several seconds (it imports transformers, flair and torch); the fast
engine (:mod:`alexbench_augment.alex_fast`) and its worker processes need only these few pieces.
They are copied from TextAttack 0.3.11 (MIT licence: ``textattack/shared/utils/strings.py``,
``textattack/shared/data.py``, ``textattack/transformations/word_swaps/word_swap_qwerty.py``);
``tests/test_augment_fast_engine.py`` checks that every one of them still equals the installed
TextAttack's, so an upgrade that changes them fails loudly instead of drifting.
"""

from __future__ import annotations

import re

#: Characters TextAttack keeps inside words besides ``\w`` (homoglyphs, then ``'-_*@``).
HOMOGLYPHS = '˗৭Ȣ𝟕бƼᏎƷᒿlO`ɑЬϲԁе𝚏ɡհіϳ𝒌ⅼｍոорԛⲅѕ𝚝սѵԝ×уᴢ'
_EXCEPTIONS = "'-_*@"
_WORD = re.compile(f"[\\w{HOMOGLYPHS}'\\-_\\*@]+")
_CJK = re.compile("[\u4e00-\u9fff]")


def words_from_text(s: str) -> list[str]:
    """``textattack.shared.utils.words_from_text``: whitespace tokens, each split into runs of word
    characters, with ``'-_*@`` stripped from both ends (Chinese text is segmented by jieba first)."""
    if _CJK.search(s):
        try:
            import jieba

            s = " ".join(jieba.cut(s, cut_all=False))
        except Exception:  # noqa: BLE001 - TextAttack falls back to plain splitting the same way
            s = " ".join(s.split())
    else:
        s = " ".join(s.split())
    words: list[str] = []
    for token in s.split():
        token = token.strip(_EXCEPTIONS)
        words.extend(w.strip(_EXCEPTIONS) for w in _WORD.findall(token))
    return [w for w in words if w]


def is_one_word(word: str) -> bool:
    return len(words_from_text(word)) == 1


#: ``WordSwapQWERTY._keyboard_adjacency`` (lower case; an upper-case key gets the upper-case neighbours).
QWERTY_ADJACENCY: dict[str, str] = {
    'q': 'was',
    'w': 'qeasd',
    'e': 'wsdfr',
    'r': 'edfgt',
    't': 'rfghy',
    'y': 'tghju',
    'u': 'yhjki',
    'i': 'ujklo',
    'o': 'iklp',
    'p': 'ol',
    'a': 'qwszx',
    's': 'qweadzx',
    'd': 'werfcxs',
    'f': 'ertgvcd',
    'g': 'rtyhbvd',
    'h': 'tyugjbn',
    'j': 'yuikmnh',
    'k': 'uiolmj',
    'l': 'iopk',
    'z': 'asx',
    'x': 'sdzc',
    'c': 'xdfv',
    'v': 'cfgb',
    'b': 'vghn',
    'n': 'bhjm',
    'm': 'njk',
}


def qwerty_neighbours(char: str) -> str:
    """``WordSwapQWERTY._get_adjacent``."""
    keys = QWERTY_ADJACENCY.get(char.lower(), "")
    return keys.upper() if keys and char.isupper() else keys


#: ``textattack.shared.data.EXTENSION_MAP`` (contraction -> expansion).
EXTENSION_MAP: dict[str, str] = {
    "ain't": "isn't", "aren't": 'are not', "can't": 'cannot', "can't've": 'cannot have', "could've": 'could have',
    "couldn't": 'could not', "didn't": 'did not', "doesn't": 'does not', "don't": 'do not', "hadn't": 'had not',
    "hasn't": 'has not', "haven't": 'have not', "he'd": 'he would', "he'd've": 'he would have', "he'll": 'he will',
    "he's": 'he is', "how'd": 'how did', "how'd'y": 'how do you', "how'll": 'how will', "how's": 'how is',
    "I'd": 'I would', "I'll": 'I will', "I'm": 'I am', "I've": 'I have', "i'd": 'i would', "i'll": 'i will',
    "i'm": 'i am', "i've": 'i have', "isn't": 'is not', "it'd": 'it would', "it'll": 'it will', "it's": 'it is',
    "ma'am": 'madam', "might've": 'might have', "mightn't": 'might not', "must've": 'must have',
    "mustn't": 'must not', "needn't": 'need not', "oughtn't": 'ought not', "shan't": 'shall not',
    "she'd": 'she would', "she'll": 'she will', "she's": 'she is', "should've": 'should have',
    "shouldn't": 'should not', "that'd": 'that would', "that's": 'that is', "there'd": 'there would',
    "there's": 'there is', "they'd": 'they would', "they'll": 'they will', "they're": 'they are',
    "they've": 'they have', "wasn't": 'was not', "we'd": 'we would', "we'll": 'we will', "we're": 'we are',
    "we've": 'we have', "weren't": 'were not', "what're": 'what are', "what's": 'what is', "when's": 'when is',
    "where'd": 'where did', "where's": 'where is', "where've": 'where have', "who'll": 'who will',
    "who's": 'who is', "who've": 'who have', "why's": 'why is', "won't": 'will not', "would've": 'would have',
    "wouldn't": 'would not', "you'd": 'you would', "you'd've": 'you would have', "you'll": 'you will',
    "you're": 'you are', "you've": 'you have',
}

#: ``WordSwapContract.reverse_contraction_map``: expansion -> contraction.
CONTRACTIONS: dict[str, str] = {v: k for k, v in EXTENSION_MAP.items()}
