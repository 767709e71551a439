"""Exact totals of a chunk's campaigns at many goals, from sums shared by every goal.

A sweep reads only each campaign's gross, net, backers and closing money, at many
goals of the same draws. ``engine._walk`` finds them goal by goal on whole daily
paths: after one path before any threshold, which every goal shares, each goal
builds every campaign's running total five times (after its featured day and after
its goal day, then three times again with the final surge and the goal completion).
Here a chunk's would-be pledgers are summed once more, by what their fate hangs on,
into running sums over each campaign's days; each goal then costs a few operations
per campaign:

- before the final window, a campaign's running total is its plain pledgers' (the
  settled ledgers' and those hearing from them) plus the boosted pledgers after its
  featured day, less the pledgers the goal day thins out. The featured day and the
  goal day are the first days these sums reach their thresholds; the total when the
  window opens gives the surge's strength s(x) and who closes the gap;
- over the final window's few days, each (campaign, day)'s surge pledgers, sorted by
  mark, give the money of those whose mark is below s(x): the first ones, so many
  of them as one comparison counts; the window's path is then built day by day
  (``engine._Closing.raised`` for the completion) and its thresholds crossed as
  ``engine._cross`` does.

The numbers are ``engine._walk``'s, bit for bit. Every amount and reward cost is a
whole number of 2**-k currency units (``money_unit``) and every campaign's money
stays below 2**53 of them, so every sum here and there is exact, whatever its order,
and each comparison with a threshold is the same; the completion's floor, which is
not exact, is computed by the same operations on the same numbers. Where that does
not hold, or where a fate hangs on something else (two featured circles, someone
hearing from a boosted pledger), ``prepare`` returns None and the caller walks each
goal. The campaigns whose source circle's size cap could bind are walked by
``engine._walk`` on a chunk of their own.
"""
from __future__ import annotations

import numpy as np

from . import engine
from .engine import _BOOSTED, _FINAL, _OWN, Outcome, _Chunk, _Closing, _Part

__all__ = ["GoalTotals", "money_unit"]

#: The finest unit of money tried: 2**-_UNIT_BITS of a currency unit (a quarter, an
#: eighth … of a dollar are exact in binary; a cent is not).
_UNIT_BITS = 8
#: Every campaign's money and reward costs, in units, stay below this: exact.
_EXACT = 2.0 ** 53


def money_unit(scenario) -> float | None:
    """The largest ``2**-k`` (k <= 8) of a currency unit of which every amount and
    reward cost a pledger or a commitment brings is a whole number (a free pledge
    with a spread is rounded to whole units), or None (an amount of 12.99)."""
    values = [v for r in scenario.rewards for v in (r.amount, r.unit_cost)]
    values += [v for c in scenario.commitments for v in (c.amount, c.unit_cost)]
    values += [c.pledge.mean for c in scenario.circles
               if c.pledge is not None and c.pledge.sd == 0]
    for bits in range(_UNIT_BITS + 1):
        if all(float(v * 2.0 ** bits).is_integer() for v in values):
            return 2.0 ** -bits
    return None


def _running(n: int, D: int, sim: np.ndarray, day: np.ndarray,
             weights: np.ndarray | None = None) -> np.ndarray:
    """Running sums (or counts) per simulation over the days, shape (n, D + 1):
    column j sums the entries of days before j."""
    out = np.zeros((n, D + 1))
    cells = np.bincount(sim * D + day, weights=weights, minlength=n * D)
    np.cumsum(cells.reshape(n, D), axis=1, out=out[:, 1:])
    return out


def _cells(n: int, W: int, sim: np.ndarray, day: np.ndarray,
           weights: np.ndarray) -> np.ndarray:
    """Sums per (simulation, day of the window), shape (n, W)."""
    return np.bincount(sim * W + day, weights=weights, minlength=n * W).reshape(n, W)


class _Boosted:
    """Running sums over the days (``_running``) of a featured circle's boosted
    pledgers outside the surge: money, count and reward cost of all of them and of
    those still pledging after the goal (``_kept``)."""

    def __init__(self, n: int, D: int, sim, day, amount, cost, kept):
        self.money, self.count, self.cost = (_running(n, D, sim, day, w)
                                             for w in (amount, None, cost))
        if kept is None:
            self.money_kept, self.count_kept, self.cost_kept = (
                self.money, self.count, self.cost)
        else:
            s, d = sim[kept], day[kept]
            self.money_kept, self.count_kept, self.cost_kept = (
                _running(n, D, s, d, w) for w in (amount[kept], None, cost[kept]))

    def upto(self, name: str, take, featured: np.ndarray, goal_day: np.ndarray,
             day: int) -> np.ndarray:
        """The sum ``name`` (money, count, cost) of those pledging on days up to
        ``day``: after the featured day, and, after the goal day, only those kept."""
        every, kept = getattr(self, name), getattr(self, name + "_kept")
        low = np.minimum(day, goal_day)
        before = take(every, low + 1) - take(every, np.minimum(featured, low) + 1)
        late = np.minimum(np.maximum(featured, goal_day), day)
        return before + kept[:, day + 1] - take(kept, late + 1)


class _Surge:
    """One group of the final surge's pledgers (every circle's own, or a featured
    circle's boosted ones), sorted by (simulation, day of the window, mark): in each
    such cell, those pledging for a strength s are the first ones, whose mark is
    below s. Running sums in that order give each cell's money, count and reward
    cost (of all, and of those kept after the goal) for any s."""

    def __init__(self, n: int, W: int, start: int, sim, day, mark, amount, cost, kept):
        cell = sim * W + (day - start)
        # By mark, then stably by cell (a radix sort for small cell numbers): three
        # times faster than np.lexsort. Equal marks pledge together, in any order.
        order = np.argsort(mark)
        small = np.uint16 if n * W <= 2**16 else np.uint32
        order = order[np.argsort(cell[order].astype(small), kind="stable")]
        self.n, self.W = n, W
        self.mark = mark[order]
        counts = np.bincount(cell, minlength=n * W)
        self.first = np.cumsum(counts) - counts
        #: The cells with pledgers, where each one's pledgers start, and the
        #: campaign of each pledger.
        self.cells = np.flatnonzero(counts)
        self.starts = self.first[self.cells]
        self.campaign = sim[order]
        kept = np.ones(sim.size, bool) if kept is None else kept[order]
        amount, cost = amount[order], cost[order]
        self.sums, self.base = {}, {}
        for name, values in (("money", amount), ("money_kept", amount * kept),
                             ("count_kept", kept), ("cost", cost),
                             ("cost_kept", cost * kept)):
            sums = self.sums[name] = np.concatenate(([0.0], np.cumsum(values)))
            self.base[name] = sums[self.first]

    def below(self, strength: np.ndarray) -> np.ndarray:
        """Each cell's end of its pledgers whose mark < its campaign's strength:
        those are the first of the cell, so the end is its start plus their count."""
        end = self.first.copy()
        if self.cells.size:
            under = self.mark < strength[self.campaign]
            end[self.cells] = self.starts + np.add.reduceat(under, self.starts,
                                                            dtype=np.int64)
        return end

    def at(self, end: np.ndarray, name: str) -> np.ndarray:
        """Each cell's sum ``name`` over its pledgers before ``end``, shape (n, W)."""
        if name == "count":
            return (end - self.first).astype(float).reshape(self.n, self.W)
        return (self.sums[name][end] - self.base[name]).reshape(self.n, self.W)


class GoalTotals:
    """What every goal's totals of one chunk share (module docstring); ``walk``
    gives one goal's."""

    @classmethod
    def prepare(cls, chunk: _Chunk) -> "GoalTotals | None":
        """The shared sums of ``chunk``, or None where its numbers would not be
        ``engine._walk``'s (module docstring)."""
        plan, circles = chunk.plan, chunk.scenario.circles
        unit = money_unit(chunk.scenario)
        if unit is None or len(plan.featured) > 1 or any(
                circles[i].featured_at >= 1.0 for i in plan.featured):
            return None
        if any(p.source is not None and p.source.kind not in (_OWN, _FINAL)
               for p in chunk.open):
            return None
        totals = cls(chunk)
        if max(totals.most_money, totals.most_cost) / unit >= _EXACT:
            return None
        return totals

    def __init__(self, chunk: _Chunk):
        plan, scenario = chunk.plan, chunk.scenario
        n, D = chunk.n, chunk.D
        self.n, self.D, self.plan, self.scenario = n, D, plan, scenario
        self.chunk = chunk
        start = plan.window if plan.window is not None else D
        self.start, self.W = start, D - start
        self.index = np.arange(n) * (D + 1)
        boosted = [p for p in chunk.open if p.kind == _BOOSTED]
        final = [p for p in chunk.open if p.kind == _FINAL]
        heard = [p for p in chunk.open if p.source is not None and p.source.kind == _OWN]
        heard_final = [p for p in chunk.open
                       if p.source is not None and p.source.kind == _FINAL]

        # Plain pledgers: the ledgers', and those hearing from a settled pledger.
        # Some stop at the goal day: the ledgers' who would not pledge after it
        # (their own day t), and those hearing from one of them (t: that one's day).
        all_money = chunk.all_money.copy()
        count = chunk.settled_count.copy()
        cost = chunk.settled_cost.copy()
        sims, days, ts, amounts, costs = [], [], [], [], []
        for _, sim, day, amount, cost_ in chunk.lost:
            sims.append(sim), days.append(day), ts.append(day)
            amounts.append(amount), costs.append(cost_)
        for part in heard:
            all_money += _cells(n, D, part.sim, part.day, part.amount)
            count += np.bincount(part.sim, minlength=n)
            cost += np.bincount(part.sim, weights=part.cost, minlength=n)
            kept = _kept(part)
            parent_day = part.source.day[part.parent]
            parent_kept = _kept(part.source)[part.parent]
            t = np.where(kept, parent_day, part.day)
            stops = ~(kept & parent_kept)
            sims.append(part.sim[stops]), days.append(part.day[stops])
            ts.append(t[stops]), amounts.append(part.amount[stops])
            costs.append(part.cost[stops])
        sim, day, t, amount, cost_ = (np.concatenate(a) if a else np.zeros(0, int)
                                      for a in (sims, days, ts, amounts, costs))
        amount, cost_ = amount.astype(float), cost_.astype(float)
        self.plain = np.zeros((n, D + 1))
        np.cumsum(all_money, axis=1, out=self.plain[:, 1:])
        self.count, self.cost = count, cost
        #: Running sums by the day t after which they stop: count and cost; and the
        #: money of those pledging before the window.
        self.stop_count = _running(n, D, sim, t)
        self.stop_cost = _running(n, D, sim, t, cost_)
        early = day < start
        self.stop_money_early = _running(n, D, sim[early], t[early], amount[early])
        W = self.W
        late = ~early
        own_stop = late & (t == day)
        #: The plain pledgers' money per (campaign, window day): all of them, and
        #: those pledging after the goal (but those hearing from one who stops).
        self.window_plain = np.diff(self.plain[:, start:], axis=1)
        self.window_plain_kept = self.window_plain - _cells(
            n, W, sim[own_stop], day[own_stop] - start, amount[own_stop])
        #: Hearing in the window from one who stops at the goal day: they stop then.
        switch = late & (t != day)
        self.switch = (sim[switch], (day - start)[switch], t[switch], amount[switch])

        # Boosted pledgers outside the surge, and the surge's.
        self.featured_at = (scenario.circles[plan.featured[0]].featured_at
                            if plan.featured else None)
        self.boost: _Boosted | None = None
        self.surges: list[tuple[bool, _Surge]] = []
        most = self.plain[:, D] + 0.0
        most_cost = cost.astype(float)
        if boosted:
            part = boosted[0]
            mark = part.mark if part.mark is not None else np.full(part.sim.size, -np.inf)
            kept = part.kept
            plain_ = mark < 0
            self.boost = _Boosted(n, D, part.sim[plain_], part.day[plain_],
                                  part.amount[plain_].astype(float),
                                  part.cost[plain_].astype(float),
                                  None if kept is None else kept[plain_])
            self.window_boost = np.diff(self.boost.money[:, start:], axis=1)
            self.window_boost_kept = np.diff(self.boost.money_kept[:, start:], axis=1)
            if (~plain_).any():
                s = ~plain_
                self.surges.append((True, _Surge(n, W, start, part.sim[s], part.day[s],
                                                 mark[s], part.amount[s].astype(float),
                                                 part.cost[s].astype(float),
                                                 None if kept is None else kept[s])))
        if final:
            get = lambda name: np.concatenate([getattr(p, name) for p in final])  # noqa: E731
            kept = None if final[0].kept is None else get("kept")
            self.surges.append((False, _Surge(n, W, start, get("sim"), get("day"),
                                              get("mark"), get("amount").astype(float),
                                              get("cost").astype(float), kept)))
        #: Those hearing from the surge's pledgers: each pledges iff the one it heard
        #: from did (mark below s, kept or by the goal day) and it is kept or
        #: pledges by the goal day.
        self.heard_final = []
        for part in heard_final:
            source = part.source
            self.heard_final.append((part.sim, part.day, _kept(part),
                                     source.mark[part.parent], source.day[part.parent],
                                     _kept(source)[part.parent],
                                     part.amount.astype(float), part.cost.astype(float)))
        for part in boosted + final + heard_final:
            most += np.bincount(part.sim, weights=part.amount, minlength=n)
            most_cost += np.bincount(part.sim, weights=part.cost, minlength=n)
        #: The most money and reward cost a campaign could have (the bound on sums).
        self.most_money = float(np.max(most, initial=0.0))
        self.most_cost = float(np.max(most_cost, initial=0.0))

        # The campaigns where a source circle's size cap could bind.
        capped = np.zeros(n, dtype=bool)
        for i, circle in enumerate(scenario.circles):
            if circle.kind == "source" and circle.size is not None:
                capped |= sum(p.per_sim for p in chunk.parts if p.circle == i) > circle.size
        self.capped = np.flatnonzero(capped)
        self.capped_chunk = _subset(chunk, self.capped) if capped.any() else None

    # ------------------------------------------------------------------ a goal

    def _take(self, table: np.ndarray, column: np.ndarray) -> np.ndarray:
        """``table[s, column[s]]`` for every simulation s."""
        return table.reshape(-1).take(self.index + column)

    def _first_day(self, value, threshold: float) -> np.ndarray:
        """The first day before the final window on which ``value(day)`` (running
        totals, non-decreasing in the day) reaches ``threshold``, D if none: a
        binary search on every campaign at once."""
        start = self.start
        low, high = np.zeros(self.n, dtype=np.int64), np.full(self.n, start)
        while True:
            active = low < high
            if not active.any():
                return np.where(low < start, low, self.D)
            mid = np.minimum((low + high) >> 1, start - 1)
            reached = value(mid) >= threshold
            high = np.where(active & reached, mid, high)
            low = np.where(active & ~reached, mid + 1, low)

    def _before_window(self, goal: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each campaign's featured day and goal day if reached before the final
        window (else D), and its running total at the end of the day before it,
        without the surge (the last day's if there is no window)."""
        D, start, n = self.D, self.start, self.n
        plain, take = self.plain, self._take
        featured = np.full(n, D)
        if self.boost is None:
            goal_day = self._first_day(lambda day: take(plain, day + 1), goal)
        else:
            featured = self._first_day(lambda day: take(plain, day + 1),
                                       self.featured_at * goal)
            boost = self.boost.money
            then = take(boost, np.minimum(featured + 1, D))
            goal_day = self._first_day(
                lambda day: take(plain, day + 1)
                + np.maximum(take(boost, day + 1) - then, 0.0), goal)
        stop = np.minimum(goal_day + 1, D)
        total = (plain[:, start]
                 - (self.stop_money_early[:, D] - take(self.stop_money_early, stop)))
        if self.boost is not None:
            total = total + self.boost.upto("money", take, featured, goal_day, start - 1)
        return featured, goal_day, total

    def walk(self, goal: float) -> Outcome:
        """The outcome of the chunk at ``goal``: gross, net, backers and closing,
        those of ``engine._walk``; no sums, no paths."""
        n, D, start, W = self.n, self.D, self.start, self.W
        featured, goal_day, opened = self._before_window(goal)
        plan, dyn = self.plan, self.scenario.dynamics
        closing = window = None
        gross = opened
        if W:
            strength = None
            if plan.surge_start is not None:
                strength = engine.surge_strength(opened / goal, dyn.surge_half_progress,
                                                 dyn.surge_steepness)
            if plan.closing is not None:
                closing = _Closing(plan, self.chunk.closing_mark, goal, opened)
            window = _Window(self, strength, opened, closing)
            thresholds = [(self.featured_at, True)] if self.boost is not None else []
            for fraction, is_featured in thresholds + [(1.0, False)]:
                crossed = featured if is_featured else goal_day
                if (crossed < D).all():
                    continue
                _, running = window.path(featured, goal_day)
                later = start + np.count_nonzero(running < fraction * goal, axis=1)
                crossed = np.where(crossed < D, crossed, later)
                if is_featured:
                    featured = crossed
                else:
                    goal_day = crossed
            own, running = window.path(featured, goal_day)
            gross = running[:, -1].copy()
            if closing is not None and closing.rows.size:
                rows = closing.rows
                closing.amount[rows] = (running[rows] - own[rows])[:, -1]
        backers, reward_cost = self._pledgers(featured, goal_day, window)
        closed = closing.amount if closing is not None else None
        net = engine._net(self.scenario, self.chunk.commitments, gross, backers,
                          reward_cost, closed)
        closed = np.zeros(n) if closed is None else closed
        if self.capped_chunk is not None:
            walked = engine._walk(self.capped_chunk, goal, 0)
            for mine, theirs in ((gross, walked.gross), (net, walked.net),
                                 (backers, walked.backers), (closed, walked.closing)):
                mine[self.capped] = theirs
        return engine._totals_only(gross, net, backers, closed)

    def _pledgers(self, featured: np.ndarray, goal_day: np.ndarray,
                  window: "_Window | None") -> tuple[np.ndarray, np.ndarray]:
        """Each campaign's backers and reward cost, given its featured day and goal
        day."""
        D = self.D
        stop = np.minimum(goal_day + 1, D)
        backers = self.count - (self.stop_count[:, D] - self._take(self.stop_count, stop))
        cost = self.cost - (self.stop_cost[:, D] - self._take(self.stop_cost, stop))
        if self.boost is not None:
            backers = backers + self.boost.upto("count", self._take, featured, goal_day,
                                                D - 1)
            cost = cost + self.boost.upto("cost", self._take, featured, goal_day, D - 1)
        if window is not None:
            more_backers, more_cost = window.pledgers(featured, goal_day)
            backers, cost = backers + more_backers, cost + more_cost
        return np.rint(backers).astype(np.int64), cost


class _Window:
    """One goal's final window: what its path over the window's days takes from
    the surge (``strength``: s(x) of each campaign, None without a surge) and from
    the goal completion (``closing``), on top of the total when it opens."""

    def __init__(self, totals: GoalTotals, strength: np.ndarray | None,
                 opened: np.ndarray, closing: _Closing | None):
        self.totals, self.opened, self.closing = totals, opened, closing
        t = totals
        self.days = np.arange(t.start, t.D)
        #: Per (campaign, window day), by (boosted, what, kept after the goal): the
        #: surge's pledgers below the strength.
        surge = {}
        if strength is not None:
            for boosted, group in t.surges:
                end = group.below(strength)
                for what in ("money", "count", "cost"):
                    for kept in (False, True):
                        value = group.at(end, what + "_kept" * kept)
                        key = (boosted, what, kept)
                        surge[key] = surge[key] + value if key in surge else value
        self.surge = surge
        zero = 0.0
        self.every = t.window_plain + surge.get((False, "money", False), zero)
        self.kept = t.window_plain_kept + surge.get((False, "money", True), zero)
        if t.boost is not None:
            self.boost_every = t.window_boost + surge.get((True, "money", False), zero)
            self.boost_kept = t.window_boost_kept + surge.get((True, "money", True), zero)
        #: Those hearing from the surge's pledgers, with whether that one's mark is
        #: below the strength.
        self.heard = [(sim, day, kept, mark < strength[sim], parent_day,
                       parent_kept, amount, cost)
                      for sim, day, kept, mark, parent_day, parent_kept, amount, cost
                      in t.heard_final] if strength is not None else []

    def _heard(self, goal_day: np.ndarray):
        """Each of those hearing from the surge's pledgers, with whether it pledges."""
        for sim, day, kept, ok, parent_day, parent_kept, amount, cost in self.heard:
            g = goal_day[sim]
            yield (sim, day, ok & (parent_kept | (parent_day <= g)) & (kept | (day <= g)),
                   amount, cost)

    def path(self, featured: np.ndarray, goal_day: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """The running totals over the window of each campaign's own pledgers, and
        raised by the completion, shape (n, W) each, given its featured day and goal
        day (D: not reached)."""
        t = self.totals
        n, W = t.n, t.W
        after = self.days > goal_day[:, None]
        money = np.where(after, self.kept, self.every)
        sim, day, stop, amount = t.switch
        if sim.size:
            money -= _cells(n, W, sim, day, np.where(stop > goal_day[sim], amount, 0.0))
        if t.boost is not None:
            on = self.days > featured[:, None]
            money += np.where(on, np.where(after, self.boost_kept, self.boost_every), 0.0)
        for sim, day, pledging, amount, _ in self._heard(goal_day):
            money += _cells(n, W, sim, day - t.start, np.where(pledging, amount, 0.0))
        own = self.opened[:, None] + np.cumsum(money, axis=1)
        running = own
        closing = self.closing
        if closing is not None and closing.rows.size:
            running = own.copy()
            running[closing.rows] = closing.raised(own[closing.rows])
        return own, running

    def pledgers(self, featured: np.ndarray, goal_day: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """The backers and reward cost of the surge's pledgers and of those hearing
        from them, given each campaign's featured day and goal day, shape (n,)."""
        n = self.totals.n
        after = self.days > goal_day[:, None]
        on = self.days > featured[:, None]
        count, cost = np.zeros(n), np.zeros(n)
        for (boosted, what, kept), value in self.surge.items():
            if kept or what == "money":
                continue
            value = np.where(after, self.surge[boosted, what, True], value)
            if boosted:
                value = np.where(on, value, 0.0)
            if what == "count":
                count += value.sum(axis=1)
            elif what == "cost":
                cost += value.sum(axis=1)
        for sim, _, pledging, _, cost_ in self._heard(goal_day):
            count += np.bincount(sim[pledging], minlength=n)
            cost += np.bincount(sim, weights=np.where(pledging, cost_, 0.0), minlength=n)
        return count, cost


def _kept(part: _Part) -> np.ndarray:
    """Whether each pledger of ``part`` still pledges after the goal."""
    return np.ones(part.sim.size, bool) if part.kept is None else part.kept


def _subset(chunk: _Chunk, sims: np.ndarray) -> _Chunk:
    """The chunk's simulations ``sims`` (sorted) alone, for ``engine._walk``: their
    would-be pledgers in the same order, so that their totals are those of the
    whole chunk, bit for bit. Its per-day and per-circle sums are not kept."""
    sub = object.__new__(_Chunk)
    n = sims.size
    where = np.full(chunk.n, -1)
    where[sims] = np.arange(n)
    sub.plan, sub.scenario, sub.n, sub.D, sub.phi = (chunk.plan, chunk.scenario, n,
                                                      chunk.D, chunk.phi)
    sub.first, sub.stop = chunk.first, chunk.stop
    sub.settled_count = chunk.settled_count[sims]
    sub.settled_cost = chunk.settled_cost[sims]
    sub.circle_money = np.zeros_like(chunk.circle_money)
    sub.circle_count = np.zeros_like(chunk.circle_count)
    sub.all_money, sub.kept_money = chunk.all_money[sims], chunk.kept_money[sims]
    sub.commitments = [made[sims] for made in chunk.commitments]
    sub.closing_mark = None if chunk.closing_mark is None else chunk.closing_mark[sims]
    sub.lost = []
    for circle, sim, day, amount, cost in chunk.lost:
        keep = where[sim] >= 0
        sub.lost.append((circle, where[sim[keep]], day[keep], amount[keep], cost[keep]))
    parts: dict[int, tuple[_Part, np.ndarray]] = {}
    for part in chunk.parts:  # sources come before those hearing from them
        if id(part) not in chunk.needed:
            continue
        keep = where[part.sim] >= 0
        source, parent = None, None
        if part.source is not None:
            source, source_keep = parts[id(part.source)]
            parent = (np.cumsum(source_keep) - 1)[part.parent[keep]]
        piece = _Part(part.circle, part.kind, part.choice, part.per_sim[sims],
                      part.category[keep], sim=where[part.sim[keep]],
                      day=part.day[keep], amount=part.amount[keep], source=source,
                      parent=parent, mark=None if part.mark is None else part.mark[keep])
        piece.free_amount, piece.settled = part.free_amount, part.settled
        parts[id(part)] = (piece, keep)
    sub.parts = [piece for piece, _ in parts.values()]
    sub.open = [parts[id(p)][0] for p in chunk.open]
    sub.needed = {id(p) for p in sub.parts}
    return sub
