"""leafgrad.utils.data against torch.utils.data: orders, batches, collation, workers, errors."""

from __future__ import annotations

import collections
import os
import random
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import leafgrad
import leafgrad.utils.data as lud

LIBS = [(torch, tud), (leafgrad, lud)]


def _plain(x):
    """A batch as nested Python values plus dtypes, comparable across the two libraries."""
    if isinstance(x, torch.Tensor | leafgrad.Tensor):
        return ("T", str(x.dtype), x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *map(_plain, x))
    if isinstance(x, list | tuple):
        return type(x)(map(_plain, x))
    return x


def _digits_like(lib, n=37):
    x = lib.arange(n * 3, dtype=lib.float32).reshape(n, 3)
    y = lib.arange(n) % 5
    return x, y


def _epochs(lib, data, epochs=3, **kw):
    x, y = _digits_like(lib)
    loader = data.DataLoader(data.TensorDataset(x, y), **kw)
    return [[_plain(b) for b in loader] for _ in range(epochs)]


@pytest.mark.parametrize("kw", [
    {"batch_size": 8, "shuffle": True},
    {"batch_size": 5, "shuffle": True, "drop_last": True},
    {"batch_size": 6},
    {"batch_size": None, "shuffle": True},
])
def test_shuffle_order_and_rng_state_match_torch(kw):
    out = []
    for lib, data in LIBS:
        lib.manual_seed(1234)
        batches = _epochs(lib, data, **kw)
        # the global generator is where torch leaves it (base seed + sampler seed per epoch)
        out.append((batches, bytes(lib.get_rng_state().numpy())))
    assert out[0] == out[1]


def test_explicit_generator_and_samplers_match_torch():
    def run(lib, data):
        g = lib.Generator().manual_seed(7)
        ds = list(range(23))
        res = [list(data.DataLoader(ds, batch_size=4, shuffle=True, generator=g))[0].tolist()]
        res.append(list(data.RandomSampler(ds, replacement=True, num_samples=70, generator=g)))
        res.append(list(data.RandomSampler(ds, num_samples=50, generator=g)))
        res.append(list(data.SubsetRandomSampler([3, 9, 12, 40], generator=g)))
        w = [0.1, 2.0, 0.0, 1.0, 5.0]
        res.append(list(data.WeightedRandomSampler(w, 12, generator=g)))
        res.append(list(data.WeightedRandomSampler(w, 4, replacement=False, generator=g)))
        res.append(list(data.BatchSampler(data.SequentialSampler(ds), 5, drop_last=True)))
        res.append(bytes(g.get_state().numpy()))
        return res
    assert run(torch, tud) == run(leafgrad, lud)


@pytest.mark.parametrize("n", [10, 11, 13])
def test_distributed_sampler_matches_torch(n):
    for replicas in (1, 3, 4):
        for shuffle in (True, False):
            for drop_last in (True, False):
                for rank in range(replicas):
                    seqs = []
                    for _, data in LIBS:
                        s = data.DistributedSampler(list(range(n)), num_replicas=replicas,
                                                    rank=rank, shuffle=shuffle, seed=5,
                                                    drop_last=drop_last)
                        seqs.append([len(s), list(s)])
                        s.set_epoch(3)
                        seqs[-1].append(list(s))
                    assert seqs[0] == seqs[1], (replicas, shuffle, drop_last, rank)
    with pytest.raises(ValueError, match="Invalid rank"):
        lud.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="num_replicas"):
        lud.DistributedSampler(range(4))


def test_random_split_matches_torch():
    out = []
    for lib, data in LIBS:
        lib.manual_seed(3)
        parts = [list(s) for s in data.random_split(range(17), [5, 12])]
        parts += [list(s) for s in data.random_split(range(10), [0.33, 0.33, 0.34])]
        g = lib.Generator().manual_seed(9)
        parts += [list(s) for s in data.random_split(range(9), [0.5, 0.5], generator=g)]
        out.append((parts, bytes(lib.get_rng_state().numpy())))
    assert out[0] == out[1]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        lud.random_split(range(5), [2, 2])


Point = collections.namedtuple("Point", "x y")


def _samples(lib):
    return [
        [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
        [np.arange(3, dtype=np.int32), np.ones(3, dtype=np.int32)],
        [1.5, 2.5], [1, 2], [True, False], ["a", "b"], [b"x", b"y"],
        [np.float32(1.5), np.float32(2.0)], [np.int64(4), np.int64(5)],
        [{"img": lib.ones(2), "label": 3, "name": "p"},
         {"img": lib.zeros(2), "label": 4, "name": "q"}],
        [(lib.tensor(1), 2.0, "s"), (lib.tensor(3), 4.0, "t")],
        [Point(1, lib.tensor([0.5])), Point(2, lib.tensor([1.5]))],
        [[1, [2.0, "u"]], [3, [4.0, "v"]]],
        [np.array(2.5), np.array(3.5)],
    ]


def test_default_collate_and_convert_match_torch():
    for t_batch, l_batch in zip(_samples(torch), _samples(leafgrad)):
        assert _plain(lud.default_collate(l_batch)) == _plain(tud.default_collate(t_batch))
        assert _plain(lud.default_convert(l_batch)) == _plain(tud.default_convert(t_batch))
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        lud.default_collate([object(), object()])
    with pytest.raises(TypeError):
        lud.default_collate([np.array(["a"]), np.array(["b"])])


def test_bad_batches_get_torch_errors_with_reasons():
    # a dataset returning inconsistent shapes
    bad = [leafgrad.ones(3), leafgrad.ones(4)]
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size") as e:
        next(iter(lud.DataLoader(bad, batch_size=2)))
    assert "Why:" in str(e.value)
    with pytest.raises(RuntimeError):
        next(iter(tud.DataLoader([torch.ones(3), torch.ones(4)], batch_size=2)))
    with pytest.raises(RuntimeError, match="equal size"):
        lud.default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(RuntimeError):
        tud.default_collate([(1, 2), (1, 2, 3)])
    for lib, data in LIBS:
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            data.DataLoader(range(4), batch_size=0)
        with pytest.raises(ValueError, match="mutually exclusive"):
            data.DataLoader(range(4), shuffle=True, sampler=data.SequentialSampler(range(4)))
        with pytest.raises(ValueError, match="persistent_workers"):
            data.DataLoader(range(4), persistent_workers=True)
        with pytest.raises(ValueError, match="prefetch_factor"):
            data.DataLoader(range(4), prefetch_factor=2)
        with pytest.raises(ValueError, match="num_workers"):
            data.DataLoader(range(4), num_workers=-1)
        with pytest.raises(AssertionError, match="Size mismatch"):
            data.TensorDataset(lib.ones(2), lib.ones(3))
        loader = data.DataLoader(range(4))
        with pytest.raises(ValueError, match="should not be set"):
            loader.batch_size = 2


def test_pin_memory_is_accepted_with_torchs_warning():
    for _, data in LIBS:
        with pytest.warns(UserWarning, match="pin_memory"):
            batches = [b.tolist() for b in data.DataLoader(range(3), batch_size=2,
                                                           pin_memory=True)]
        assert batches == [[0, 1], [2]]


class _Stream(lud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = lud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class _TStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = tud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def test_iterable_dataset_matches_torch():
    for workers in (0, 2):
        got = []
        for stream, data in ((_TStream, tud), (_Stream, lud)):
            loader = data.DataLoader(stream(11), batch_size=3, num_workers=workers)
            got.append([b.tolist() for b in loader])
        assert got[0] == got[1]
    with pytest.raises(ValueError, match="shuffle"):
        lud.DataLoader(_Stream(3), shuffle=True)


class _Report(lud.Dataset):
    """Each sample says which worker made it and what its generators drew."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = lud.get_worker_info()
        return {"i": i, "worker": -1 if info is None else info.id,
                "seed": -1 if info is None else info.seed,
                "py": random.random(), "np": float(np.random.rand()),
                "lib": leafgrad.rand(1)}


class _TReport(tud.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = tud.get_worker_info()
        return {"i": i, "worker": -1 if info is None else info.id,
                "seed": -1 if info is None else info.seed,
                "py": random.random(), "np": float(np.random.rand()),
                "lib": torch.rand(1)}


def _init_fn(worker_id):
    os.environ["LEAFGRAD_TEST_WORKER"] = str(worker_id)  # runs in the worker; must not fail


def test_workers_are_seeded_and_ordered_as_torchs():
    got = []
    for lib, (ds, data) in ((torch, (_TReport, tud)), (leafgrad, (_Report, lud))):
        lib.manual_seed(42)
        loader = data.DataLoader(ds(), batch_size=2, shuffle=True, num_workers=2,
                                 worker_init_fn=_init_fn, prefetch_factor=1)
        got.append(([_plain(b) for b in loader], bytes(lib.get_rng_state().numpy())))
    assert got[0] == got[1]


def test_workers_give_the_same_batches_as_the_main_process():
    leafgrad.manual_seed(5)
    single = _epochs(leafgrad, lud, epochs=2, batch_size=4, shuffle=True)
    leafgrad.manual_seed(5)
    multi = _epochs(leafgrad, lud, epochs=2, batch_size=4, shuffle=True, num_workers=2)
    assert multi == single


def test_persistent_workers_match_torch():
    # persistent workers draw no new base seed after the first epoch, so the later epochs'
    # shuffles differ from non-persistent ones: exactly as in torch
    out = []
    for lib, data in LIBS:
        lib.manual_seed(5)
        out.append((_epochs(lib, data, epochs=3, batch_size=4, shuffle=True, num_workers=2,
                            persistent_workers=True), bytes(lib.get_rng_state().numpy())))
    assert out[0] == out[1]


class _Fails(lud.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"sample {i} is corrupt")
        return i


def test_worker_exception_surfaces_with_its_traceback():
    loader = lud.DataLoader(_Fails(), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    start = time.monotonic()
    with pytest.raises(ValueError) as e:
        next(it)
    msg = str(e.value)
    assert "Caught ValueError in DataLoader worker process 0" in msg
    assert "Original Traceback" in msg and "sample 5 is corrupt" in msg
    assert "__getitem__" in msg  # the worker's own traceback, not the main process's
    assert next(it).tolist() == [6, 7]  # and the loop goes on, as torch's does
    with pytest.raises(StopIteration):
        next(it)
    assert time.monotonic() - start < 30  # generous: it must not hang


class _Slow(lud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(3)
        return i


def test_timeout_raises_instead_of_hanging():
    loader = lud.DataLoader(_Slow(), batch_size=2, num_workers=1, timeout=0.5)
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        next(iter(loader))


class _Dies(lud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


def test_dead_worker_is_reported():
    loader = lud.DataLoader(_Dies(), batch_size=2, num_workers=1)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        next(iter(loader))


def test_dataset_classes_match_torch():
    for lib, data in LIBS:
        x = lib.arange(6)
        ds = data.ConcatDataset([data.TensorDataset(x), data.TensorDataset(x * 10)])
        assert [int(ds[i][0]) for i in (0, 7, -1)] == [0, 10, 50]
        sub = data.Subset(ds, [11, 2])
        assert [int(s[0]) for s in sub] == [50, 2] and len(sub) == 2
        st = data.StackDataset(a=x, b=x * 2)
        assert [int(v) for v in st[2].values()] == [2, 4]
        batch = next(iter(data.DataLoader(data.StackDataset(x, x + 1), batch_size=3)))
        assert [b.tolist() for b in batch] == [[0, 1, 2], [1, 2, 3]]


def test_tensor_dataset_batches_match_torch_through_subsets_and_odd_indices():
    # leafgrad gathers a TensorDataset's batch rows in one indexing; it must equal torch's
    # sample-by-sample collation, through nested Subsets and negative indices too
    got = []
    for lib, data in LIBS:
        x, y = _digits_like(lib, 20)
        ds = data.Subset(data.Subset(data.TensorDataset(x, y), list(range(19, -1, -1))),
                         [0, 3, 5, 7, 9, 11, -1, -2])
        sampler = data.BatchSampler([6, 7, -1, 0, 2], 3, drop_last=False)
        got.append([_plain(b) for b in data.DataLoader(ds, batch_sampler=sampler)])
        with pytest.raises(IndexError):
            next(iter(data.DataLoader(data.TensorDataset(x, y), sampler=[3, 25],
                                      batch_size=2)))
    assert got[0] == got[1]


def test_custom_sampler_subclass_matches_torch():
    got = []
    for lib, data in LIBS:
        class Reverse(data.Sampler):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                return iter(range(self.n - 1, -1, -1))

            def __len__(self):
                return self.n

        x, y = _digits_like(lib, 7)
        loader = data.DataLoader(data.TensorDataset(x, y), sampler=Reverse(7), batch_size=3)
        got.append((len(loader), [_plain(b) for b in loader]))
    assert got[0] == got[1]
