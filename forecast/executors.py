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
        return self.executor.submit(function, *args)

    def as_they_end(self, function: Callable, calls: Iterable[tuple],
                    ahead: int | None = None) -> Iterator[tuple[int, Any]]:
        """``(index, future)`` of each ``function(*call)`` as it ends, whatever the
        order, with at most ``ahead`` under way (by default twice the parallelism;
        one at a time here, so that each is reported as soon as it is done). The
        future's ``result()`` gives the value or raises the call's exception; what is
        left is cancelled when the iterator is closed."""
        if ahead is None:
            ahead = 1 if self.executor is None else 2 * self.parallelism
        pending: dict[Any, int] = {}
        try:
            for index, call in enumerate(calls):
                pending[self.submit(function, *call)] = index
                while len(pending) >= max(1, ahead):
                    yield from self._ended(pending)
            while pending:
                yield from self._ended(pending)
        finally:
            self.cancel(pending)

    def _ended(self, pending: dict[Any, int]) -> Iterator[tuple[int, Any]]:
        """Wait for at least one of ``pending`` to end; take out and yield those that
        have, in the order of their calls."""
        if self.dask:
            from distributed import wait
        else:
            from concurrent.futures import wait
        done = wait(list(pending), return_when="FIRST_COMPLETED").done
        for future in sorted(done, key=pending.__getitem__):
            yield pending.pop(future), future

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
        at most ``ahead`` (by default twice the parallelism) under way or waiting to
        be taken, so that memory stays bounded. A call's exception is raised at its
        place; what is left is cancelled when the iterator is closed."""
        ahead = 2 * self.parallelism if ahead is None else max(1, ahead)
        pending: deque = deque()
        try:
            for call in calls:
                pending.append(self.submit(function, *call))
                if len(pending) > ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            self.cancel(pending)


def _distributed() -> Any:
    """The ``distributed`` module, or ImportError saying how to get it."""
    try:
        import distributed
    except ImportError:
        raise ImportError(DASK_MISSING) from None
    return distributed


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
        except (OSError, TimeoutError) as error:
            raise OSError(f"no Dask scheduler answers at {scheduler} ({error}); start "
                          "one with 'dask scheduler' and give the tcp://HOST:8786 "
                          "address it prints") from None
        with client:
            yield client
        return
    with distributed.LocalCluster(n_workers=local_workers, threads_per_worker=1,
                                  processes=True, memory_limit=memory_limit,
                                  dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            yield client
