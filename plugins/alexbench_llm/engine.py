"""The local judge's engine: llama.cpp, with deterministic prefix reuse.

Every prompt of a template shares a fixed beginning (system text and few-shot examples, everything
before the post). :class:`LocalEngine` evaluates that *prefix* once, saves llama.cpp's state
(``llama_state_get_data``: the KV cache and the last logits), and restores exactly that state
before each prompt that starts with it, so only the post's own tokens are evaluated. Because the
saved state is always the same bytes and the rest of the prompt is always evaluated as one batch
from the same position, a reply depends on the prompt (and its template's prefix) only: never on
the prompts evaluated before it. (llama-cpp-python's own prefix cache reuses whatever the previous
prompt left behind, so the rest was evaluated in batches that depended on the order of posts.)

Decoding is greedy at temperature 0, constrained by a GBNF grammar (the JSON schema of the reply;
:mod:`.grammar`: the best token is checked first, the whole vocabulary filtered only when it is
rejected). Temperature > 0 samples with llama.cpp's sampler chain (grammar, temperature, seeded
distribution). :meth:`LocalEngine.verdict_score` is the ``score`` verdict (:mod:`.verdict`).

The explainer runs this engine in a child process (:mod:`.engine_process`, which also keeps the
one engine a grid shares). Elsewhere: prompt formats in :mod:`.prompt_format`, the thread count
in :mod:`.threads`, the models opened (closed at exit) and vocabulary-only tokenizers in
:mod:`.open_models`.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .grammar import GrammarCheck
from .open_models import open_llama
from .prompt_format import PROMPT_FORMATS, chat_formatter, render_plain
from .threads import IdleCores, threads_for
from .verdict import VERDICT_OPEN, VERDICT_WORDS, VerdictScore, first_token_probs, word_tokens


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    #: Prompt tokens restored from a saved prefix state instead of being evaluated.
    reused_tokens: int
    finish_reason: str  # "stop" (end of generation or a stop string) or "length"
    seconds: float
    #: Per generated token when asked for: (token text, logprob, [(alternative, logprob), ...]).
    logprobs: list[tuple[str, float, list[tuple[str, float]]]] | None = None


@dataclass(frozen=True)
class ContinuationScores:
    """:meth:`LocalEngine.continuation_logprobs`: one log-probability per continuation."""

    logprobs: list[float]
    prompt_tokens: int
    reused_tokens: int
    continuation_tokens: list[int]
    seconds: float


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


class LocalEngine:
    """One GGUF model in this process. Calls are serialised (a llama.cpp context is not
    thread-safe). ``prefix`` arguments are the fixed beginning of a prompt; its state is computed
    once and kept (the ``max_prefix_states`` most recently used)."""

    def __init__(self, model_path: str, *, n_ctx: int = 2048, n_threads: int = 0, prompt_format: str = "plain",
                 max_prefix_states: int = 8) -> None:
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
        import llama_cpp

        self._lib = llama_cpp
        self.model_path, self.prompt_format = model_path, prompt_format
        # n_threads 0: as many threads as the machine has idle cores, checked before each request
        # (:mod:`.threads`: on a busy machine a second thread costs far more than it gives).
        self.fixed_threads = n_threads
        self._idle: IdleCores | None = None
        self.threads = n_threads or 1
        self.llm = open_llama(model_path, n_ctx=n_ctx, n_threads=self.threads, n_threads_batch=self.threads,
                              seed=0, verbose=False)
        self.n_ctx = n_ctx
        self._ctx = self.llm._ctx.ctx
        self._vocab = self.llm._model.vocab
        self.n_vocab = self.llm.n_vocab()
        self.lock = threading.RLock()
        self._states: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._prefix_tokens: dict[str, list[int]] = {}
        self.max_prefix_states = max_prefix_states
        self._grammar = GrammarCheck(llama_cpp, self._vocab, self.n_vocab)
        self._chat_formatter: Any = None
        self.stats = {"prefix_states_computed": 0, "prefix_restores": 0, "full_grammar_checks": 0}

    # -- text -> tokens ------------------------------------------------------------------------
    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """The prompt text of chat messages in this engine's prompt format."""
        if self.prompt_format == "plain":
            return render_plain(messages)
        if self._chat_formatter is None:
            self._chat_formatter = chat_formatter(self.llm, self.model_path)
        return str(self._chat_formatter(messages=list(messages)).prompt)

    def tokenize(self, text: str) -> list[int]:
        # Plain prompts are data: a post containing "<eos>" is text, not a control token. A chat
        # template's own markers must be read as the special tokens they are.
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=self.prompt_format == "chat"))

    def piece(self, token: int) -> str:
        return self.llm.detokenize([token]).decode("utf-8", errors="replace")

    # -- state ---------------------------------------------------------------------------------
    def _logits(self) -> np.ndarray:
        return np.ctypeslib.as_array(self._lib.llama_get_logits_ith(self._ctx, -1), shape=(self.n_vocab,))

    def _eval(self, tokens: Sequence[int]) -> None:
        if tokens:
            self.llm.eval(list(tokens))

    def _save(self) -> Any:
        lib = self._lib
        size = lib.llama_state_get_size(self._ctx)
        buf = (ctypes.c_uint8 * size)()
        n = lib.llama_state_get_data(self._ctx, buf, size)
        if n <= 0 or n > size:
            raise RuntimeError("llama.cpp could not save its state")
        return (ctypes.c_uint8 * n).from_buffer_copy(memoryview(buf)[:n]), n

    def _load(self, saved: Any, tokens: Sequence[int]) -> None:
        data, n = saved
        if self._lib.llama_state_set_data(self._ctx, data, n) != n:
            raise RuntimeError("llama.cpp could not restore a saved state")
        k = len(tokens)
        self.llm.input_ids[:k] = tokens
        self.llm.n_tokens = k

    def prefix_tokens(self, prefix: str) -> list[int]:
        """The tokens whose state is saved for ``prefix``: its tokens without the last one, which
        may merge with the text that follows (e.g. "Tweet: " + "My" is "Tweet", ":", " My")."""
        if prefix not in self._prefix_tokens:
            self._prefix_tokens[prefix] = self.tokenize(prefix)[:-1] if prefix else []
        return self._prefix_tokens[prefix]

    def _start(self, tokens: list[int], prefix: str) -> int:
        """Put the context at the start of ``tokens``: restore the prefix's saved state when the
        prompt starts with it (computing it from scratch the first time), else clear everything.
        Returns how many tokens are already in place."""
        if len(tokens) >= self.n_ctx:
            raise ValueError(f"the prompt has {len(tokens)} tokens; n_ctx is {self.n_ctx}")
        head = self.prefix_tokens(prefix)
        if not head or len(head) >= len(tokens) or tokens[:len(head)] != head:
            self.llm.reset()
            return 0
        key = tuple(head)
        saved = self._states.get(key)
        if saved is None:
            self.llm.reset()
            self._eval(head)
            saved = self._states[key] = self._save()
            self.stats["prefix_states_computed"] += 1
            while len(self._states) > self.max_prefix_states:
                self._states.popitem(last=False)
        else:
            self._states.move_to_end(key)
            self._load(saved, head)
            self.stats["prefix_restores"] += 1
        return len(head)

    def _set_threads(self) -> None:
        if self.fixed_threads:
            return
        if self._idle is None:
            self._idle = IdleCores()
        threads = threads_for(self._idle())
        if threads != self.threads:
            self._lib.llama_set_n_threads(self._ctx, threads, threads)
            self.threads = threads

    def _prompt(self, tokens: list[int], prefix: str) -> int:
        self._set_threads()
        reused = self._start(tokens, prefix)
        self._eval(tokens[reused:])
        return reused

    # -- decoding ------------------------------------------------------------------------------
    def _top(self, logits: np.ndarray, token: int, k: int) -> tuple[str, float, list[tuple[str, float]]]:
        x = logits.astype(np.float64)
        lse = float(x.max() + np.log(np.exp(x - x.max()).sum()))
        top = np.argpartition(-x, k)[:k] if k < len(x) else np.arange(len(x))
        top = top[np.argsort(-x[top], kind="stable")]
        return self.piece(token), float(x[token] - lse), [(self.piece(int(t)), float(x[t] - lse)) for t in top]

    def complete(self, prompt: str, *, prefix: str = "", grammar: str | None = None, max_tokens: int = 128,
                 temperature: float = 0.0, seed: int | None = 0, stop: Sequence[str] = (),
                 top_logprobs: int | None = None) -> Generation:
        """Generate a reply to ``prompt`` (greedy at temperature 0), restoring ``prefix``'s state."""
        lib = self._lib
        start = time.perf_counter()
        with self.lock:
            tokens = self.tokenize(prompt)
            reused = self._prompt(tokens, prefix)
            gram = self._grammar.sampler(grammar) if grammar else None
            chain = None
            if temperature > 0:
                chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
                if grammar:
                    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_grammar(self._vocab, grammar.encode(),
                                                                                      b"root"))
                lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(temperature))
                lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(0 if seed is None else seed))
            out: list[int] = []
            logprobs: list[tuple[str, float, list[tuple[str, float]]]] | None = [] if top_logprobs else None
            finish = "length"
            try:
                while len(out) < max_tokens and len(tokens) + len(out) < self.n_ctx:
                    logits = self._logits()
                    if chain is not None:
                        token = int(lib.llama_sampler_sample(chain, self._ctx, -1))  # samples and accepts
                    else:
                        token = int(np.argmax(logits))
                        if gram is not None and not self._grammar.allowed(gram, token, float(logits[token])):
                            self.stats["full_grammar_checks"] += 1
                            token = self._grammar.best_allowed(gram, logits)
                    if lib.llama_vocab_is_eog(self._vocab, token):
                        finish = "stop"
                        break
                    if logprobs is not None:
                        logprobs.append(self._top(logits, token, top_logprobs or 1))
                    if gram is not None:
                        lib.llama_sampler_accept(gram, token)
                    out.append(token)
                    if stop and any(s in self._text(out) for s in stop):
                        finish = "stop"
                        break
                    self._eval([token])
            finally:
                if chain is not None:
                    lib.llama_sampler_free(chain)
            text = self._text(out)
            for s in stop:
                if s in text:
                    text = text[:text.index(s)]
        return Generation(text, len(tokens), len(out), reused, finish, time.perf_counter() - start, logprobs)

    def _text(self, tokens: Sequence[int]) -> str:
        return self.llm.detokenize(list(tokens)).decode("utf-8", errors="ignore")

    def continuation_logprobs(self, prompt: str, continuations: Sequence[str], *, prefix: str = "") -> ContinuationScores:
        """The log-probability of each continuation after ``prompt`` (the sum over its tokens):
        the prompt is evaluated once (``prefix`` restored as for :meth:`complete`); a one-token
        continuation is read from the prompt's last logits, a longer one evaluated from the
        prompt's saved state. What the ``llm`` classifier scores its labels' verbalisers with."""
        start = time.perf_counter()
        with self.lock:
            tokens = self.tokenize(prompt)
            reused = self._prompt(tokens, prefix)
            first = _log_softmax(self._logits())
            pieces = [list(self.llm.tokenize(c.encode("utf-8"), add_bos=False, special=False)) for c in continuations]
            if any(not p for p in pieces):
                raise ValueError(f"a continuation tokenizes to nothing: {[c for c, p in zip(continuations, pieces) if not p]}")
            saved = self._save() if any(len(p) > 1 for p in pieces) else None
            out: list[float] = []
            evaluated = False
            for piece in pieces:
                total = float(first[piece[0]])
                if len(piece) > 1:
                    if evaluated:
                        self._load(saved, tokens)
                    for prev, nxt in zip(piece, piece[1:]):
                        self._eval([prev])
                        total += float(_log_softmax(self._logits())[nxt])
                    evaluated = True
                out.append(total)
        return ContinuationScores(out, len(tokens), reused, [len(p) for p in pieces], time.perf_counter() - start)

    def verdict_score(self, prompt: str, *, prefix: str = "", opening: str = VERDICT_OPEN) -> VerdictScore:
        """P(true) and P(false) as the verdict's first token after ``prompt`` + ``opening``: one
        forward pass, nothing decoded. Both spellings count, with and without a leading space."""
        start = time.perf_counter()
        with self.lock:
            true_ids, false_ids = word_tokens(self.llm, VERDICT_WORDS[True]), word_tokens(self.llm, VERDICT_WORDS[False])
            if true_ids & false_ids:
                raise ValueError("this model's tokenizer starts 'true' and 'false' with the same token")
            sep = "" if not prompt or prompt[-1].isspace() else " "
            tokens = self.tokenize(prompt + sep + opening)
            reused = self._prompt(tokens, prefix)
            p_true, p_false = first_token_probs(self._logits(), true_ids, false_ids)
        return VerdictScore(p_true, p_false, len(tokens), reused, time.perf_counter() - start)

