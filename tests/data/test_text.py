"""Character-level text data: splits, vocabulary, n-gram floors and bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch

from bsd.data.sources import DataSourceError
from bsd.data.text import TextDataModule, Vocab, ngram_floors, read_text_path, split_spans


def write(tmp_path: Path, text: str, name="a.txt") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_spans_are_contiguous_and_chronological():
    assert split_spans(100, [0.8, 0.1, 0.1]) == [(0, 80), (80, 90), (90, 100)]
    with pytest.raises(ValueError, match="splits"):
        split_spans(100, [0.5, 0.5])


def test_vocabulary_comes_from_the_training_span_with_unk(tmp_path):
    text = "abcabcabcabc" * 20 + "xyz" * 10  # x, y, z appear only after the training span
    dm = TextDataModule("text_file", str(write(tmp_path, text)), seq_len=4, splits=[0.8, 0.1, 0.1])
    assert dm.vocab.itos == ["<unk>", "a", "b", "c"]
    assert (dm.spans["test"] == 0).all()  # unseen characters map to <unk>
    x, y = dm.sequences("train").tensors
    assert x.shape[1] == 4 and np.array_equal(x[0, 1:].numpy(), y[0, :-1].numpy())


def test_context_inputs_hold_each_character_and_the_ones_before_it(tmp_path):
    text = "abcdefgh" * 40
    path = str(write(tmp_path, text))
    plain = TextDataModule("text_file", path, seq_len=5, splits=[0.8, 0.1, 0.1], eval_streams=2)
    ctx = TextDataModule("text_file", path, seq_len=5, splits=[0.8, 0.1, 0.1], eval_streams=2, context=3)
    assert ctx.in_shape == (3 * len(ctx.vocab),) and ctx.context == 3
    for x0, x in ((plain.sequences("train").tensors[0], ctx.sequences("train").tensors[0]),
                  (plain.streams("test").tensors[0], ctx.streams("test").tensors[0])):
        assert x.shape == (*x0.shape, 3) and torch.equal(x[..., 0], x0)  # column 0: the character itself
    a = torch.from_numpy(ctx.spans["train"])
    x = ctx.sequences("train").tensors[0].reshape(-1, 3)
    assert torch.equal(x[2:, 1], a[1: len(x) - 1]) and torch.equal(x[2:, 2], a[: len(x) - 2])
    assert x[0, 1] == 0 and x[0, 2] == 0 and x[1, 2] == 0  # <unk> before the span's start
    with pytest.raises(ValueError, match="data.context"):
        TextDataModule("text_file", path, seq_len=5, splits=[0.8, 0.1, 0.1], context=0)


def test_vocab_round_trip():
    v = Vocab("hello world")
    assert v.decode(v.encode("hello")) == "hello"
    assert v.encode("hq").tolist() == [v.stoi["h"], 0]


def _brute_force(train, test, n):
    from collections import Counter, defaultdict

    counts = [defaultdict(Counter) for _ in range(n)]
    for k in range(n):
        for j in range(k, len(train)):
            counts[k][tuple(train[j - k:j])][train[j]] += 1
    hits = 0
    for j in range(1, len(test)):
        for k in range(min(n - 1, j), -1, -1):
            c = counts[k].get(tuple(test[j - k:j]))
            if c:
                best = max(c.values())
                pred = min(t for t, v in c.items() if v == best)
                break
        hits += pred == test[j]
    return hits / (len(test) - 1)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_ngram_floor_matches_a_brute_force_count_model(n):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 4, 400)
    train[::3] = 1  # some structure
    test = rng.integers(0, 4, 120)
    got = ngram_floors(train, test, [n], 4)[f"{n}-gram"]
    assert got == pytest.approx(_brute_force(list(train), list(test), n))


def test_folder_of_files_is_read_in_path_order(tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    write(d, "second", "b.txt")
    write(d, "first ", "a.txt")
    text, source = read_text_path(d)
    assert text == "first second" and "2 files" in source


@pytest.mark.parametrize("content, match", [
    (b"", "holds no text"),
    (b"\x00\x01\x02binary", "binary"),
    (b"caf\xe9 latin-1", "not UTF-8"),
])
def test_bad_text_files_are_named_in_a_clear_error(tmp_path, content, match):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(DataSourceError, match=match) as e:
        TextDataModule("text_file", str(p))
    assert "bad.txt" in str(e.value)


def test_missing_path_and_sequence_longer_than_a_split(tmp_path):
    with pytest.raises(DataSourceError, match="does not exist"):
        TextDataModule("text_file", str(tmp_path / "nope.txt"))
    with pytest.raises(ValueError, match="data.path"):
        TextDataModule("text_file", None)
    p = write(tmp_path, "abcdefghij" * 20)
    with pytest.raises(DataSourceError, match="seq_len"):
        TextDataModule("text_file", str(p), seq_len=50)


def test_evaluation_streams_continue_from_one_batch_to_the_next(tmp_path):
    text = "".join(chr(97 + (i * 7) % 26) for i in range(3000))
    dm = TextDataModule("text_file", str(write(tmp_path, text)), seq_len=10, splits=[0.6, 0.2, 0.2],
                        eval_streams=4)
    batches = list(dm.test_dataloader())
    assert all(x.shape == (4, 10) for x, _ in batches)
    span = dm.spans["test"]
    length = len(batches) * 10
    for r in range(4):  # row r of every batch, in order, is one contiguous stream of the span
        stream = np.concatenate([x[r].numpy() for x, _ in batches])
        assert np.array_equal(stream, span[r * length:(r + 1) * length])
        nxt = np.concatenate([y[r].numpy() for _, y in batches])
        assert np.array_equal(nxt, span[r * length + 1:(r + 1) * length + 1])
