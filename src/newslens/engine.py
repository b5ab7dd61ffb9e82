"""Where the per-partition work of a stage runs: in this process, or on a Dask cluster.

Each parallel stage (ingest, tokenize, the document-term counts) is written as
pure functions over partitions (lists of documents) with an ordered reduction
in between. An :class:`Engine` maps such a function over partitions and
returns the results *in partition order*, so a reduction gives the same result
on every engine:

* ``pandas`` (the default): in this process, or in joblib worker processes when
  there is enough work to pay for them;
* ``dask``: tasks on a ``distributed`` cluster — the scheduler at
  ``DASK_SCHEDULER_ADDRESS`` when that is set, otherwise a LocalCluster of one
  single-threaded worker process per core on this machine. Objects every task
  needs (the frozen tokenizer, a vocabulary) are scattered once to every worker,
  not shipped with each task.

``map`` keeps at most ``window`` partitions in flight, so a stage that streams its
input (ingest) holds a bounded number of partitions in memory on any engine.

``fold`` maps a function and merges its results with an associative ``combine`` in one
tree of :data:`FAN_IN` results, in partition order (:func:`tree_merge`), the same on every
engine and worker count, so sums of floats come out to the same bytes too. The whole tree
runs where the work runs and the driver receives the root alone (vocabulary-sized state:
counters of forms, document frequencies): on Dask as futures, on the pandas engine as
worker tasks that leave their merges in scratch files.

Every engine can count what crosses between the driver and the work (:class:`Traffic`):
the pickled bytes of each task's partition, of what is broadcast, and of each result
that comes back. Counting pickles each object once more, so it is off unless asked for
(``count_bytes=True``, or ``NEWSLENS_COUNT_BYTES=1`` for a whole run); the benchmarks and
the tests use it to check that tasks carry references and the driver receives summaries.
The pandas engine counts the same bytes as the Dask engine would send, so the two agree.

The engine is chosen by the run's ``engine`` key, or for one command by the
``NEWSLENS_ENGINE`` environment variable (``make report ENGINE=dask``); see
:func:`newslens.params.load_run`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
from collections import deque
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any, Callable, ContextManager, Iterable, Iterator

logger = logging.getLogger(__name__)

ENGINES = ("pandas", "dask")
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
# Task retries on the cluster: a worker that dies mid-task has its tasks re-run elsewhere.
DASK_RETRIES = 2
COUNT_ENV = "NEWSLENS_COUNT_BYTES"
# Documents per partition in every stage: fixed by the data, never by the worker count, so a
# stage's partitions (and any result that depends on them) are the same on 1 worker or 32.
PARTITION_DOCUMENTS = 500
# Results merged by one combine task in a fold: the tree over P partitions has ceil(log_8 P) levels.
FAN_IN = 8
# A pandas fold's first tasks per worker process, at least: each maps a run of FAN_IN ** k consecutive
# partitions (a subtree of the fold's tree) and merges it; runs of more partitions cost fewer scratch files.
GROUPS_PER_JOB = 2


def _size(value: Any) -> int:
    """Bytes of ``value`` pickled as the engines send it (a future held on the cluster: its key)."""
    if type(value).__name__ == "Future" and hasattr(value, "key"):
        return len(str(value.key))
    return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass
class MapTraffic:
    """What one ``map`` call moved: its tasks' partitions, the broadcast object and the results."""

    label: str
    tasks: int = 0
    submitted: int = 0  # bytes of all tasks' partitions
    largest_task: int = 0  # bytes of the largest task's partition
    shared: int = 0  # bytes of the object broadcast to every worker (sent once per worker)
    received: int = 0  # bytes of the results the driver received

    def add(self, submitted: int, received: int) -> None:
        self.tasks += 1
        self.submitted += submitted
        self.largest_task = max(self.largest_task, submitted)
        self.received += received


@dataclass
class Traffic:
    """Every counted ``map`` of an engine, in order (see the module docstring)."""

    maps: list[MapTraffic] = field(default_factory=list)

    def by_label(self) -> dict[str, MapTraffic]:
        """The maps summed by label (a stage's maps share its label's prefix)."""
        total: dict[str, MapTraffic] = {}
        for one in self.maps:
            into = total.setdefault(one.label, MapTraffic(one.label))
            into.tasks += one.tasks
            into.submitted += one.submitted
            into.largest_task = max(into.largest_task, one.largest_task)
            into.shared = max(into.shared, one.shared)
            into.received += one.received
        return total


def _function_label(function: Callable) -> str:
    inner = getattr(function, "func", function)  # functools.partial
    return f"{getattr(inner, '__module__', '?')}.{getattr(inner, '__qualname__', type(inner).__name__)}"


class Engine:
    """Ordered, bounded map of a pure function over partitions (the ``pandas`` engine)."""

    name = "pandas"

    def __init__(self, n_jobs: int = 2, *, count_bytes: bool | None = None):
        self.n_jobs = max(1, n_jobs)
        self.traffic = Traffic() if _counting(count_bytes) else None

    def _counted(self, function: Callable, shared: Any, results: Callable[[Iterable], Iterator],
                 partitions: Iterable) -> Iterator:
        """``results(partitions)``, with each task's bytes added to :attr:`traffic` when counting."""
        record = self._record(function, shared)
        if record is None:
            return results(partitions)
        sizes: deque = deque()

        def measured(parts):
            for part in parts:
                sizes.append(_size(part))
                yield part

        def gen():
            for result in results(measured(partitions)):
                record.add(sizes.popleft(), _size(result))
                yield result

        return gen()

    @property
    def workers(self) -> int:
        return self.n_jobs

    def map(self, function: Callable, partitions: Iterable, *, shared: Any = None,
            parallel: bool = True) -> Iterator:
        """Yield ``function(partition)`` (or ``function(shared, partition)``) in partition order.

        ``parallel=False`` runs in this process, for work too small to pay for worker start-up.
        """
        call = function if shared is None else _Bound(function, shared)
        return self._counted(function, shared, lambda parts: self._map(call, parts, parallel), partitions)

    def _map(self, call: Callable, partitions: Iterable, parallel: bool) -> Iterator:
        partitions = iter(partitions)
        head = list(islice(partitions, 2))  # one partition: not worth starting workers
        if not parallel or self.n_jobs == 1 or len(head) < 2:
            yield from map(call, chain(head, partitions))
            return
        yield from self._workers(call, chain(head, partitions))

    def _workers(self, call: Callable, partitions: Iterable) -> Iterator:
        """``call`` of each partition in the joblib worker processes, in order."""
        from joblib import Parallel, delayed

        runner = Parallel(n_jobs=self.n_jobs, backend="loky", return_as="generator",
                          pre_dispatch=f"{2 * self.n_jobs}")
        yield from runner(delayed(call)(p) for p in partitions)

    def task(self, function: Callable, job: Any) -> Any:
        """``function(job)`` as one task where the work runs, and its result: here in a worker
        process (in this one when ``n_jobs`` is 1), so that a large fit's working memory is never
        the driver's. ``job`` should be references (paths, settings), as every task's partition."""
        if self.n_jobs == 1:
            return next(self.map(function, [job], parallel=False))
        return next(self._counted(function, None, lambda parts: self._workers(function, parts), [job]))

    def fold(self, function: Callable, partitions: Iterable, combine: Callable[[list], Any], *,
             shared: Any = None, parallel: bool = True) -> Any:
        """``combine`` over ``function(partition)`` of every partition, merged in partition order.

        ``combine`` takes a list of results (in order) and returns one; it must be associative
        and must not change its inputs (a task may be retried). None when there are no partitions.

        The merges form one tree on every engine and any number of workers (:func:`tree_merge`:
        :data:`FAN_IN` consecutive results at a time, level by level from the partitions), so even
        a combine whose arithmetic depends on the order of its additions (sums of floats) gives the
        same bytes. Here each worker task maps a run of :data:`FAN_IN` ** k consecutive partitions
        (a subtree; at least ``n_jobs`` × :data:`GROUPS_PER_JOB` runs) and leaves its merge in a
        scratch file; worker tasks merge those files up the tree, and the last one returns the
        root: as on Dask, the root is all this process receives.
        """
        call = function if shared is None else _Bound(function, shared)
        record = self._record(function, shared)
        parts = list(self._measured_parts(record, partitions))
        if not parts:
            return None
        if not parallel or self.n_jobs == 1 or len(parts) < 2:
            root = _Group(call, combine)(parts)  # the same tree, in this process
        else:
            root = self._fold_on_workers(call, combine, parts, record)
        if record is not None:
            record.received += _size(root)
        return root

    def _fold_on_workers(self, call: Callable, combine: Callable[[list], Any], parts: list,
                         record: "MapTraffic | None") -> Any:
        """The tree of :meth:`fold` in worker tasks, its inner nodes in scratch files, the root returned."""
        import shutil
        import tempfile

        span = 1  # partitions per subtree: FAN_IN ** k, as large as leaves n_jobs × GROUPS_PER_JOB runs
        while -(-len(parts) // (span * FAN_IN)) >= self.n_jobs * GROUPS_PER_JOB:
            span *= FAN_IN
        scratch = tempfile.mkdtemp(prefix="newslens-fold-")
        try:
            nodes = list(self._map(_Stored(_Group(call, combine), scratch), chunked(parts, span), True))
            while len(nodes) > FAN_IN:  # one level of the tree: FAN_IN nodes merged per task
                nodes = list(self._map(_Stored(_Merged(combine), scratch), chunked(nodes, FAN_IN), True))
            if record is not None:
                record.received += sum(_size(node) for node in nodes)
            [root] = self._workers(_Merged(combine), [nodes])
            return root
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _record(self, function: Callable, shared: Any) -> "MapTraffic | None":
        if self.traffic is None:
            return None
        record = MapTraffic(_function_label(function), shared=0 if shared is None else _size(shared))
        self.traffic.maps.append(record)
        return record

    @staticmethod
    def _measured_parts(record: "MapTraffic | None", partitions: Iterable) -> Iterator:
        """The partitions, each counted as one task (its pickled size) as it is sent."""
        for part in partitions:
            if record is not None:
                record.add(_size(part), 0)
            yield part

    def keep(self, partitions: Iterable) -> list:
        """Hold partitions where the work runs, for several maps over the same data."""
        return list(partitions)

    def close(self) -> None:
        """Release the engine's resources."""

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _push(levels: list[list], result: Any, combine: Callable[[list], Any]) -> None:
    """Add the next result to a tree of partial merges (level i holds merges of FAN_IN**i results)."""
    level = 0
    while True:
        if level == len(levels):
            levels.append([])
        levels[level].append(result)
        if len(levels[level]) < FAN_IN:
            return
        result, levels[level] = combine(levels[level]), []
        level += 1


def _drain(levels: list[list], combine: Callable[[list], Any]) -> Any:
    """The root of a tree of partial merges (None when empty): what :func:`tree_merge` gives.

    Level i holds whole merges of FAN_IN**i results; the merge of each level's rest, with the
    rest of the levels below it last (they are later results), is the unfinished node above.
    """
    carry: list = []
    for level in levels:  # the lowest level first
        rest = level + carry
        carry = [] if not rest else [rest[0] if len(rest) == 1 else combine(rest)]
    return carry[0] if carry else None


def tree_merge(results: list, combine: Callable[[list], Any]) -> Any:
    """The one merge tree of a fold: ``combine`` of :data:`FAN_IN` consecutive results at a time,
    level by level, until one is left (None for no results); each engine builds this tree."""
    level = list(results)
    while len(level) > 1:
        level = [group[0] if len(group) == 1 else combine(group) for group in chunked(level, FAN_IN)]
    return level[0] if level else None


class _Group:
    """Map ``call`` over a run of partitions and merge the results in a tree of :data:`FAN_IN`, so a
    long run holds a few results at a time (one pandas worker task)."""

    def __init__(self, call: Callable, combine: Callable[[list], Any]):
        self.call, self.combine = call, combine

    def __call__(self, group: list):
        levels: list[list] = []
        for part in group:
            _push(levels, self.call(part), self.combine)
        return _drain(levels, self.combine)


class _Merged:
    """Load merges that :class:`_Stored` left in files and merge them in order (one worker task)."""

    def __init__(self, combine: Callable[[list], Any]):
        self.combine = combine

    def __call__(self, paths: list[str]) -> Any:
        loaded = []
        for path in paths:
            with open(path, "rb") as handle:
                loaded.append(pickle.load(handle))
        return loaded[0] if len(loaded) == 1 else self.combine(loaded)


class _Stored:
    """``call(item)`` pickled to a new file in ``scratch`` (the fold's private folder); the file's name returned."""

    def __init__(self, call: Callable, scratch: str):
        self.call, self.scratch = call, scratch

    def __call__(self, item) -> str:
        import tempfile

        result = self.call(item)
        handle, path = tempfile.mkstemp(dir=self.scratch, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
        return path


class _Bound:
    """``function`` with its shared first argument bound, picklable for worker processes."""

    def __init__(self, function: Callable, shared: Any):
        self.function, self.shared = function, shared

    def __call__(self, partition):
        return self.function(self.shared, partition)


class DaskEngine(Engine):
    """The same map on a ``distributed`` cluster, with retries when a worker dies."""

    name = "dask"

    def __init__(self, address: str | None = None, *, n_workers: int | None = None,
                 window: int | None = None, count_bytes: bool | None = None):
        from distributed import Client, LocalCluster

        self.traffic = Traffic() if _counting(count_bytes) else None

        address = address or os.environ.get(SCHEDULER_ENV) or None
        self._cluster = None
        if address:
            logger.info("dask: connecting to the scheduler at %s", address)
            self.client = Client(address, timeout="30s")
        else:
            workers = n_workers or min(2, os.cpu_count() or 1)
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.WARNING)
            self.client = Client(self._cluster)
            logger.info("dask: started a LocalCluster of %d worker processes", workers)
        self._window = window

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def map(self, function: Callable, partitions: Iterable, *, shared: Any = None,
            parallel: bool = True) -> Iterator:
        return self._counted(function, shared, lambda parts: self._submit(function, parts, shared), partitions)

    def _submit(self, function: Callable, partitions: Iterable, shared: Any) -> Iterator:
        from distributed import Future

        window = self._window or 2 * self.workers
        shared_future = None
        if shared is not None:
            [shared_future] = self.client.scatter([_Box(shared)], broadcast=True, hash=False)
        pending: deque = deque()
        try:
            for partition in partitions:
                # The partition travels inside its task, so the scheduler can re-run the task
                # on another worker if this one dies (scattered data would be lost with it).
                part = partition if isinstance(partition, Future) else _Box(partition)
                future = self.client.submit(_call_boxed, function, shared_future, part,
                                            pure=False, retries=DASK_RETRIES)
                pending.append(future)
                if len(pending) >= window:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()
            if shared_future is not None:
                shared_future.release()

    def fold(self, function: Callable, partitions: Iterable, combine: Callable[[list], Any], *,
             shared: Any = None, parallel: bool = True) -> Any:
        """As :meth:`Engine.fold`; the whole tree of merges runs on the workers, the driver gets its root."""
        record = self._record(function, shared)
        shared_future = None
        if shared is not None:
            [shared_future] = self.client.scatter([_Box(shared)], broadcast=True, hash=False)
        try:
            level = []
            for part in self._measured_parts(record, partitions):
                box = part if isinstance(part, _future_type()) else _Box(part)
                level.append(self.client.submit(_call_boxed, function, shared_future, box,
                                                pure=False, retries=DASK_RETRIES))
            if not level:
                return None
            # tree_merge's tree of futures: each merge waits on its inputs on the cluster; nothing comes here
            root = tree_merge(level, lambda group: self.client.submit(_combine_boxed, combine, *group, pure=False,
                                                                      retries=DASK_RETRIES))
            result = _result(root)
            if record is not None:
                record.received += _size(result)
            return result
        finally:
            if shared_future is not None:
                shared_future.release()

    def task(self, function: Callable, job: Any) -> Any:
        """As :meth:`Engine.task`: one task on the cluster, with its retries."""
        return next(self.map(function, [job]))

    def keep(self, partitions: Iterable) -> list:
        """Hold the partitions on the workers; later maps send only their keys.

        Each is the result of a task that carries the data, not scattered data, so a
        worker's death loses nothing the scheduler cannot recompute.
        """
        return [self.client.submit(_same, _Box(p), pure=False) for p in partitions]

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


class _Box:
    """One opaque object for the cluster: pickled whole, not walked item by item.

    Dask serialises plain lists and dicts element by element (msgpack), which for a
    partition of thousands of texts costs seconds; a box is one pickle.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _same(value):
    return value


def _future_type():
    from distributed import Future

    return Future


def _combine_boxed(combine: Callable[[list], Any], *boxes: _Box) -> _Box:
    return _Box(combine([box.value for box in boxes]))


def _call_boxed(function: Callable, shared: "_Box | None", partition: _Box):
    if shared is None:
        return _Box(function(partition.value))
    return _Box(function(shared.value, partition.value))


def _result(future):
    try:
        return future.result().value
    except Exception as exc:  # a task failed on every retry, or the cluster went away
        if type(exc).__module__.startswith("distributed"):
            raise RuntimeError(f"dask engine: a partition failed after {DASK_RETRIES} retries "
                               f"({type(exc).__name__}: {exc}); no output was written") from exc
        raise


def _counting(count_bytes: bool | None) -> bool:
    return os.environ.get(COUNT_ENV, "") not in ("", "0") if count_bytes is None else count_bytes


def open_engine(name: str = "pandas", *, n_jobs: int = 2) -> Engine:
    """An engine by name; use it as a context manager so a cluster is closed after the stage."""
    if name == "dask":
        return DaskEngine()
    if name == "pandas":
        return Engine(n_jobs)
    raise ValueError(f"engine: got {name!r}; expected one of {', '.join(ENGINES)}")


def engine_scope(engine: Engine | str | None = None, n_jobs: int = 2) -> ContextManager[Engine]:
    """The one way a stage gets its engine: ``with engine_scope(engine) as runner: ...``.

    An :class:`Engine` given is used as is and left open (its owner closes it); a name,
    or None for ``pandas``, opens one (with ``n_jobs`` local processes for ``pandas``)
    that is closed when the block ends.

    >>> with engine_scope("pandas", n_jobs=1) as runner:
    ...     runner.name, runner.workers
    ('pandas', 1)
    """
    if isinstance(engine, Engine):
        return contextlib.nullcontext(engine)
    return open_engine(engine or "pandas", n_jobs=n_jobs)


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last may be shorter), read lazily."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
