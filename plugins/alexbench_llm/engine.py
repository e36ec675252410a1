"""The local judge's engine: llama.cpp in this process, with deterministic prefix reuse.

Every prompt of a template shares a fixed beginning (system text and few-shot examples, everything
before the post). :class:`LocalEngine` evaluates that *prefix* once, saves llama.cpp's state
(``llama_state_get_data``: the KV cache and the last logits), and restores exactly that state
before each prompt that starts with it, so only the post's own tokens are evaluated. Because the
saved state is always the same bytes and the rest of the prompt is always evaluated as one batch
from the same position, a reply depends on the prompt (and its template's prefix) only: never on
the prompts evaluated before it. (llama-cpp-python's own prefix cache reuses whatever the previous
prompt left behind, so the rest was evaluated in batches that depended on the order of posts.)

Decoding is greedy at temperature 0, constrained by a GBNF grammar (the JSON schema of the reply):
the unconstrained best token is checked against the grammar first and the whole vocabulary is
filtered only when it is rejected, which picks the same token as filtering first (the best token
among the allowed ones) without checking Gemma's 262,144 tokens at every step. Temperature > 0
samples with llama.cpp's sampler chain (grammar, temperature, seeded distribution).

:meth:`LocalEngine.verdict_score` is the ``score`` verdict: one forward pass over the prompt
followed by the opening of the JSON reply (``{"verdict":``) and the probability of each answer's
first token at that position, read from the logits; nothing is decoded.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Prompt formats: ``plain`` writes the messages' contents one after another, separated by blank
#: lines (few-shot completion prompts for base models such as the bundled Gemma-3-270M);
#: ``chat`` applies the GGUF's own chat template (instruction-tuned models).
PROMPT_FORMATS = ("plain", "chat")


def render_plain(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(str(m.get("content") or "") for m in messages)


def schema_grammar(schema: Mapping[str, Any]) -> str:
    """GBNF for a JSON schema, allowing one space before the object (after "Answer:" a model may
    write " {")."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    rules = json_schema_to_gbnf(json.dumps(schema))
    return rules.replace("root ::=", "json-root ::=", 1) + '\nroot ::= " "? json-root\n'


def response_format_grammar(fmt: Mapping[str, Any] | None, grammar: str | None = None) -> str | None:
    """The GBNF an OpenAI-style ``response_format`` asks for (``json_schema`` with a schema,
    ``json_object`` with or without one), or ``grammar`` when given as GBNF directly."""
    if grammar:
        return grammar
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return schema_grammar(schema) if schema is not None else None
    if fmt.get("type") == "json_object":
        if fmt.get("schema") is not None:
            return schema_grammar(fmt["schema"])
        from llama_cpp.llama_grammar import JSON_GBNF

        return str(JSON_GBNF)
    return None


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
class VerdictScore:
    """Probabilities of the verdict's first token: ``p_true`` and ``p_false`` are shares of the
    whole vocabulary's probability; ``p_false_norm`` is P(false) / (P(true) + P(false))."""

    p_true: float
    p_false: float
    prompt_tokens: int
    reused_tokens: int
    seconds: float

    @property
    def p_false_norm(self) -> float:
        total = self.p_true + self.p_false
        return self.p_false / total if total > 0 else 0.5


#: The opening of the reply the ``score`` verdict reads the next token after.
VERDICT_OPEN = '{"verdict":'
VERDICT_WORDS = {True: ("true",), False: ("false",)}


class IdleCores:
    """How many cores the rest of the machine leaves idle, from the CPU time it used since the
    last look (Linux ``/proc/stat``, minus this process's own CPU time; looks less than 0.2 s
    apart give the previous answer, the first one samples 0.2 s); the
    1-minute load average where there is no ``/proc/stat``. The load average alone misleads on
    a quiet machine whose baseline load is ~1 (measured here: it chose one thread, 0.88 s a
    reply, where two give 0.65 s)."""

    MIN_SPAN_S = 0.2

    def __init__(self) -> None:
        self.cores = _cores()
        self.host_cpus = _host_cpus() or self.cores  # /proc/stat counts every CPU of the host (containers)
        self.last: tuple[float, float, float] | None = None  # (wall, machine busy s, own CPU s)
        self.idle = float(self.cores)

    def _sample(self) -> tuple[float, float, float] | None:
        import os
        import time

        try:
            with open("/proc/stat", encoding="ascii") as fh:
                fields = [float(x) for x in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        busy = (sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0.0)) / ticks  # all but idle, iowait
        own = sum(os.times()[:2])
        return time.monotonic(), busy, own

    def __call__(self) -> float:
        import os
        import time

        now = self._sample()
        if now is None:
            try:
                return max(0.0, self.cores - os.getloadavg()[0])
            except (AttributeError, OSError):  # no load average on this platform
                return float(self.cores)
        if self.last is None:  # the first look: a short sample
            self.last = now
            time.sleep(self.MIN_SPAN_S)
            now = self._sample() or now
        elif now[0] - self.last[0] < self.MIN_SPAN_S:  # too short to tell: the previous answer
            return self.idle
        wall, busy, own = (a - b for a, b in zip(now, self.last))
        self.last = now
        others = max(0.0, busy - own) / max(wall, 1e-9)  # CPUs the rest of the machine kept busy
        # in a container /proc/stat is the host's: take the others' share of it, not their count
        share = min(1.0, others / self.host_cpus) if self.host_cpus > self.cores else None
        self.idle = self.cores * (1.0 - share) if share is not None else max(0.0, self.cores - others)
        return self.idle


def _host_cpus() -> int:
    """CPUs listed in /proc/stat (``cpu0``, ``cpu1``, …): the host's, also inside a container."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            return sum(1 for line in fh if line.startswith("cpu") and line[3:4].isdigit())
    except OSError:
        return 0


def _cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_for(idle_cores: float) -> int:
    """Threads for the next request: the idle cores (rounded, so a core another job uses half of
    is taken), at least 1 and at most 4 (a 270M model gains little from more)."""
    return max(1, min(4, round(idle_cores)))


#: Every llama.cpp model this process opened: closed before the interpreter shuts down, since
#: llama-cpp-python's own finaliser runs after its library is unloaded and prints an error.
_OPEN_MODELS: weakref.WeakSet[Any] = weakref.WeakSet()


@atexit.register
def _close_models() -> None:
    for model in list(_OPEN_MODELS):
        try:
            model.close()
        except Exception:  # noqa: BLE001 - shutting down: nothing left to report to
            pass


class LocalEngine:
    """One GGUF model in this process. Calls are serialised (a llama.cpp context is not
    thread-safe). ``prefix`` arguments are the fixed beginning of a prompt; its state is computed
    once and kept (the ``max_prefix_states`` most recently used)."""

    def __init__(self, model_path: str, *, n_ctx: int = 2048, n_threads: int = 0, prompt_format: str = "plain",
                 max_prefix_states: int = 8) -> None:
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
        import llama_cpp
        from llama_cpp import Llama

        self._lib = llama_cpp
        self.model_path, self.prompt_format = model_path, prompt_format
        # n_threads 0: as many threads as the machine has idle cores, checked before each request
        # (IdleCores, threads_for). llama.cpp's threads wait for each other at every layer, so on a busy
        # machine a second thread costs far more than it gives (measured here with other jobs on
        # both cores: a verdict score took 6.2 s with 2 threads, 0.65 s with 1). The numbers do not
        # depend on the thread count (each row of every product is computed by one thread; tested).
        self.fixed_threads = n_threads
        self._idle: IdleCores | None = None
        self.threads = n_threads or 1
        self.llm = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=self.threads, n_threads_batch=self.threads,
                         seed=0, verbose=False)
        _OPEN_MODELS.add(self.llm)
        self.n_ctx = n_ctx
        self._ctx = self.llm._ctx.ctx
        self._vocab = self.llm._model.vocab
        self.n_vocab = self.llm.n_vocab()
        self.lock = threading.RLock()
        self._states: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._prefix_tokens: dict[str, list[int]] = {}
        self.max_prefix_states = max_prefix_states
        self._grammars: dict[str, Any] = {}
        self._ids = np.arange(self.n_vocab, dtype=np.intc)
        self._full = np.zeros(self.n_vocab, dtype=np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)],
                                                           align=True))
        self._full_arr = llama_cpp.llama_token_data_array(
            data=self._full.ctypes.data_as(llama_cpp.llama_token_data_p), size=self.n_vocab, selected=-1, sorted=False)
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_arr = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._one, llama_cpp.llama_token_data_p), size=1, selected=-1, sorted=False)
        self._chat_formatter: Any = None
        self.stats = {"prefix_states_computed": 0, "prefix_restores": 0, "full_grammar_checks": 0}

    # -- text -> tokens ------------------------------------------------------------------------
    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """The prompt text of chat messages in this engine's prompt format."""
        if self.prompt_format == "plain":
            return render_plain(messages)
        if self._chat_formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self.llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise ValueError(f"{self.model_path} has no chat template; use prompt_format 'plain'")
            piece = self.llm._model.token_get_text
            self._chat_formatter = Jinja2ChatFormatter(template, eos_token=piece(self.llm.token_eos()),
                                                       bos_token=piece(self.llm.token_bos()))
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
    def _grammar(self, gbnf: str) -> Any:
        sampler = self._grammars.get(gbnf)
        if sampler is None:
            sampler = self._lib.llama_sampler_init_grammar(self._vocab, gbnf.encode(), b"root")
            if not sampler:
                raise ValueError("invalid grammar (GBNF)")
            self._grammars[gbnf] = sampler
        self._lib.llama_sampler_reset(sampler)
        return sampler

    def _allowed(self, grammar: Any, token: int, logit: float) -> bool:
        self._one[0].id, self._one[0].logit, self._one[0].p = token, logit, 0.0
        self._one_arr.size, self._one_arr.selected, self._one_arr.sorted = 1, -1, False
        self._lib.llama_sampler_apply(grammar, ctypes.byref(self._one_arr))
        return bool(np.isfinite(self._one[0].logit))

    def _best_allowed(self, grammar: Any, logits: np.ndarray) -> int:
        self.stats["full_grammar_checks"] += 1
        full = self._full
        full["id"] = self._ids
        full["logit"] = logits
        full["p"] = 0.0
        arr = self._full_arr
        arr.data = full.ctypes.data_as(self._lib.llama_token_data_p)
        arr.size, arr.selected, arr.sorted = self.n_vocab, -1, False
        self._lib.llama_sampler_apply(grammar, ctypes.byref(arr))
        if arr.size != self.n_vocab:  # the grammar sampler filters in place and never drops; be safe
            raise RuntimeError("unexpected grammar sampler behaviour")
        best = int(np.argmax(full["logit"]))
        if not np.isfinite(full["logit"][best]):
            raise RuntimeError("the grammar allows no token here")
        return int(full["id"][best])

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
            gram = self._grammar(grammar) if grammar else None
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
                        if gram is not None and not self._allowed(gram, token, float(logits[token])):
                            token = self._best_allowed(gram, logits)
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

    def _word_tokens(self, words: Sequence[str]) -> set[int]:
        ids = set()
        for word in words:
            for variant in (f" {word}", word):
                toks = self.llm.tokenize(variant.encode(), add_bos=False, special=False)
                if toks:
                    ids.add(int(toks[0]))
        return ids

    def verdict_score(self, prompt: str, *, prefix: str = "", opening: str = VERDICT_OPEN) -> VerdictScore:
        """P(true) and P(false) as the verdict's first token after ``prompt`` + ``opening``: one
        forward pass, nothing decoded. Both spellings count, with and without a leading space."""
        start = time.perf_counter()
        with self.lock:
            true_ids, false_ids = self._word_tokens(VERDICT_WORDS[True]), self._word_tokens(VERDICT_WORDS[False])
            if true_ids & false_ids:
                raise ValueError("this model's tokenizer starts 'true' and 'false' with the same token")
            sep = "" if not prompt or prompt[-1].isspace() else " "
            tokens = self.tokenize(prompt + sep + opening)
            reused = self._prompt(tokens, prefix)
            x = self._logits().astype(np.float64)
            m = x.max()
            z = np.exp(x - m)
            total = z.sum()
            p_true = float(z[list(true_ids)].sum() / total)
            p_false = float(z[list(false_ids)].sum() / total)
        return VerdictScore(p_true, p_false, len(tokens), reused, time.perf_counter() - start)


_ENGINES: dict[tuple[str, int, int, str], LocalEngine] = {}
_ENGINES_LOCK = threading.Lock()


def shared_engine(model_path: str, *, n_ctx: int = 2048, n_threads: int = 0, prompt_format: str = "plain") -> LocalEngine:
    """The engine for these settings, loaded once per process (a grid's runs share it and its
    prefix states). One model is kept: asking for another unloads the previous one."""
    key = (model_path, n_ctx, n_threads, prompt_format)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            _ENGINES.clear()
            engine = _ENGINES[key] = LocalEngine(model_path, n_ctx=n_ctx, n_threads=n_threads,
                                                 prompt_format=prompt_format)
        return engine


_TOKENIZERS: dict[str, Any] = {}


def vocab_tokenizer(model_path: str) -> Any:
    """A tokenizer for counting a GGUF's prompt tokens without loading its weights (dry runs)."""
    if model_path not in _TOKENIZERS:
        from llama_cpp import Llama

        llm = Llama(model_path=model_path, vocab_only=True, verbose=False)
        _OPEN_MODELS.add(llm)
        _TOKENIZERS[model_path] = lambda text: llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    return _TOKENIZERS[model_path]
