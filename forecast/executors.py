"""Where tasks run: here, in a ``concurrent.futures.Executor`` or on a Dask cluster.

One small adapter (``Runner``) gives both kinds of executor the same three verbs:
``share`` a value every task needs (scattered once to a Dask cluster, otherwise sent
with each task), ``submit`` a call, and take its result. ``in_order`` maps calls with
a bounded number under way and yields their results in submission order, which is
what keeps a seed's numbers identical to one process whatever the executor;
``as_they_end`` yields each call as it ends (a batch's progress).

Dask is imported only when a ``dask.distributed.Client`` is passed (recognised by its
class, without importing dask) or asked for (``dask_client``), so that
it stays an optional extra: ``pip install 'forecast[dask]'``.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from concurrent.futures import Executor, Future
from typing import Any

__all__ = ["Runner", "check_executor", "is_dask_client", "dask_client", "DASK_MISSING"]

#: What to do without dask, said by every command and function that needs it.
DASK_MISSING = ("dask is not installed; install the optional extra with "
                "pip install 'forecast[dask]'")


def is_dask_client(executor: Any) -> bool:
    """Whether ``executor`` is a ``dask.distributed.Client`` (by its class: dask is
    not imported for the question)."""
    return any(cls.__module__.split(".")[0] == "distributed" and cls.__name__ == "Client"
               for cls in type(executor).__mro__)


def check_executor(executor: Any, workers: int = 1) -> None:
    """Raise ValueError, naming the argument, unless ``executor`` is None, a
    ``concurrent.futures.Executor`` or a ``dask.distributed.Client``; or when both
    ``executor`` and ``workers`` > 1 are given (the executor's workers do the work)."""
    if executor is None:
        return
    if not (isinstance(executor, Executor) or is_dask_client(executor)):
        raise ValueError(f"executor = {executor!r} is not valid; expected a "
                         "concurrent.futures.Executor or a dask.distributed.Client")
    if workers != 1:
        raise ValueError(f"workers = {workers!r} is not valid with an executor: the "
                         "executor's workers share the work; leave workers at 1")


class Runner:
    """Tasks for ``executor``: None runs each call here when it is submitted (a
    finished ``Future``), a ``concurrent.futures.Executor`` or a Dask ``Client``
    runs it there."""

    def __init__(self, executor: Any = None):
        check_executor(executor)
        self.executor = executor
        self.dask = executor is not None and is_dask_client(executor)

    @property
    def parallelism(self) -> int:
        """How many calls the executor runs at once (1 here)."""
        if self.executor is None:
            return 1
        if self.dask:
            return max(1, sum(self.executor.nthreads().values()))
        return max(1, int(getattr(self.executor, "_max_workers", 0) or os.cpu_count() or 1))

    def share(self, values: list) -> list:
        """Handles to pass to ``submit`` in place of ``values``: on Dask each is
        scattered once to the workers (a future the workers resolve); elsewhere each
        is the value itself, sent with every task that takes it."""
        if self.dask and values:
            return self.executor.scatter(list(values), hash=False)
        return list(values)

    def submit(self, function: Callable, *args: Any) -> Any:
        """Start ``function(*args)``; the returned future's ``result()`` gives its
        value or raises its exception."""
        if self.executor is None:
            future: Future = Future()
            try:
                future.set_result(function(*args))
            except Exception as error:  # kept for result(), as an executor would
                future.set_exception(error)
            return future
        if self.dask:
            # pure=False: no hashing of the arguments; each call is its own task.
            return self.executor.submit(function, *args, pure=False)
        from .engine import _submit  # signals held while a pool starts its processes

        return _submit(self.executor, function, *args)

    @property
    def window(self) -> int:
        """How many calls to keep under way by default: twice the parallelism, and
        on Dask at least 16, so that its round trips (scheduler, worker, back) hide
        behind other calls' work."""
        if self.executor is None:
            return 1
        return max(16 if self.dask else 1, 2 * self.parallelism)

    def as_they_end(self, function: Callable, calls: Iterable[tuple],
                    ahead: int | None = None
                    ) -> Iterator[tuple[int, Any, BaseException | None]]:
        """``(index, value, error)`` of each ``function(*call)`` as it ends, whatever
        the order: ``error`` is the exception it raised (then ``value`` is None), else
        None. At most ``ahead`` calls are under way (by default ``window``; here, one
        at a time, so that each is reported as soon as it is done); what is left is
        cancelled when the iterator is closed."""
        ahead = self.window if ahead is None else max(1, ahead)
        pending: dict[Any, int] = {}
        ended = None
        if self.dask:  # results gathered in the background as the futures end
            from distributed import as_completed
            ended = as_completed(with_results=True, raise_errors=False)
        try:
            for index, call in enumerate(calls):
                future = self.submit(function, *call)
                pending[future] = index
                if ended is not None:
                    ended.add(future)
                while len(pending) >= ahead:
                    yield from self._ended(pending, ended)
            while pending:
                yield from self._ended(pending, ended)
        finally:
            self.cancel(pending)

    def _ended(self, pending: dict[Any, int], ended: Any
               ) -> Iterator[tuple[int, Any, BaseException | None]]:
        """Wait for at least one of ``pending`` to end; take out and yield each that
        has."""
        if ended is not None:  # Dask: (future, result or (type, error, traceback))
            done = [next(ended)]
            while ended.has_ready():
                done.append(next(ended))
            for future, result in done:
                if future.status == "finished":
                    yield pending.pop(future), result, None
                else:  # an error, or cancelled (by the cluster: its exception)
                    error = result[1] if isinstance(result, tuple) else result
                    yield pending.pop(future), None, error
            return
        from concurrent.futures import FIRST_COMPLETED, wait

        for future in sorted(wait(list(pending), return_when=FIRST_COMPLETED).done,
                             key=pending.__getitem__):
            error = future.exception()
            yield pending.pop(future), None if error else future.result(), error

    def cancel(self, futures: Iterable[Any]) -> None:
        """Cancel what has not started (Dask: and forget what has)."""
        futures = list(futures)
        if self.dask and futures:
            self.executor.cancel(futures)
        else:
            for future in futures:
                future.cancel()

    def in_order(self, function: Callable, calls: Iterable[tuple],
                 ahead: int | None = None) -> Iterator[Any]:
        """``function(*call)`` of each call, yielded in the order of ``calls``, with
        at most ``ahead`` (by default ``window``) submitted and not yet taken, so
        that memory stays bounded (on Dask a result stays on its worker until its
        turn). A call's exception is raised at its place; what is left is cancelled
        when the iterator is closed."""
        ahead = self.window if ahead is None else max(1, ahead)
        under_way: deque = deque()
        try:
            for call in calls:
                if len(under_way) >= ahead:
                    yield under_way.popleft().result()
                under_way.append(self.submit(function, *call))
            while under_way:
                yield under_way.popleft().result()
        finally:
            self.cancel(under_way)


@contextmanager
def dask_client(scheduler: str | None = None, local_workers: int | None = None,
                memory_limit: str = "auto") -> Iterator[Any]:
    """A ``dask.distributed.Client``, closed (with its cluster) when the block ends:
    of the scheduler at ``scheduler`` (``tcp://HOST:8786``), or of a new
    ``LocalCluster`` of ``local_workers`` processes of one thread and
    ``memory_limit`` each (``"auto"``: the machine's memory shared equally), its
    dashboard on a free port (two clusters on one machine do not collide).

    Raises ImportError without dask (saying how to get it), OSError when no
    scheduler answers at ``scheduler``.
    """
    if (scheduler is None) == (local_workers is None):
        raise ValueError("give either scheduler or local_workers, not both or neither")
    try:
        import distributed
    except ImportError:
        raise ImportError(DASK_MISSING) from None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:
            raise OSError(f"no Dask scheduler answers at {scheduler} ({error}); start "
                          "one with 'dask scheduler' and give the tcp://HOST:8786 "
                          "address it prints") from None
        with client:
            yield client
        return
    import dask

    # The workers start without the MALLOC_TRIM_THRESHOLD_ Dask's nanny sets by
    # default: with it, a chunk of the La Ruche example took 1.8 times the CPU
    # (the engine's large temporary arrays were mapped and unmapped each time).
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ",
                                                {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
            distributed.LocalCluster(n_workers=local_workers, threads_per_worker=1,
                                     processes=True, memory_limit=memory_limit,
                                     dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield client
