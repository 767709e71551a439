"""Exact samplers for the engine: counts by inversion of uniforms, and
categories from raw 64-bit words (``RawInverse``).

Inversion (the smallest k with F(k) >= u) makes a count a monotone function of
its parameter for a fixed uniform: under the same seed, a higher conversion or a
larger reach never gives fewer pledgers. NumPy's own binomial and Poisson
samplers switch algorithms with the mean and consume a varying number of
uniforms, so they cannot promise that. Vectorised: small means walk up from 0,
larger ones from a normal guess, a step or two away from the answer.
"""
from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["poisson_inverse", "poisson_nonzero", "binomial_inverse", "RawInverse"]

#: Means below which the walk starts at 0; from there on, near the answer (exact CDF).
_WALK_FROM_ZERO_BELOW = 30.0
#: u + mean at or below this gives a Poisson count of 0 (``_poisson_small``).
_NOT_ZERO_ABOVE = 1.0 - 2.0**-40


def _walk(u, k, pmf, cdf, up, down, stop, start) -> None:
    """Move ``k`` in place until ``F(k-1) < u <= F(k)`` for the items ``start``
    (those that began near the answer, in increasing order): down, then up wherever
    ``u > F(k)``.
    ``up(i, k, pmf)`` gives pmf(k+1) of items ``i``, ``down`` pmf(k-1); ``stop`` is
    the largest k."""
    going = start[(k[start] > 0) & (u[start] <= cdf[start] - pmf[start])]
    while going.size:
        cdf[going] -= pmf[going]
        pmf[going] = down(going, k[going], pmf[going])
        k[going] -= 1
        going = going[(k[going] > 0) & (u[going] <= cdf[going] - pmf[going])]
    going = start[u[start] > cdf[start]]
    going = going[(pmf[going] > 0) & (k[going] < stop[going])]
    while going.size:
        pmf[going] = up(going, k[going], pmf[going])
        k[going] += 1
        cdf[going] += pmf[going]
        going = going[(u[going] > cdf[going]) & (pmf[going] > 0) & (k[going] < stop[going])]


def _guess(u, mean, sd, skew, top) -> np.ndarray:
    """Where a walk starts: the Cornish-Fisher quantile ``mean + sd (z + skew (z² - 1)
    / 6)``, z the normal quantile of ``u``, floored and kept in [0, top]. The walk
    then takes a step or two; the answer does not depend on the start."""
    z = special.ndtri(np.maximum(u, np.finfo(float).tiny))  # u = 0 would give -inf
    return np.clip(np.floor(mean + sd * (z + skew * (z * z - 1.0) / 6.0)), 0.0, top)


def poisson_inverse(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson(mean) by inversion of ``u`` in [0, 1): ``min{k : F(k; mean) >= u}``.

    ``u`` and ``mean`` broadcast; returns int64 of their shape. Monotone in
    ``mean`` for fixed ``u``. Each item's count depends on its own ``u`` and
    ``mean`` only (means below ``_WALK_FROM_ZERO_BELOW`` walk up from 0, the others
    from a normal guess), never on the other items of the call.
    """
    u, lam = np.broadcast_arrays(np.asarray(u, float), np.asarray(mean, float))
    shape = u.shape
    u, lam = u.ravel(), lam.ravel()
    count = np.zeros(u.size, dtype=np.int64)
    small = lam < _WALK_FROM_ZERO_BELOW
    if small.all():  # the usual case: no masked copies
        index, some = _poisson_small(u, lam)
        count[index] = some
        return count.reshape(shape)
    index = np.flatnonzero(small)
    found, some = _poisson_small(u[index], lam[index])
    count[index[found]] = some
    big = np.flatnonzero(~small)
    u, lam = u[big], lam[big]
    k = _guess(u, lam, np.sqrt(lam), 1.0 / np.sqrt(lam), np.inf)
    pmf = np.exp(k * np.log(lam) - lam - special.gammaln(k + 1))
    cdf = special.pdtr(k, lam)
    _walk(u, k, pmf, cdf, up=lambda i, k, pmf: pmf * lam[i] / (k + 1),
          down=lambda i, k, pmf: pmf * k / lam[i],
          stop=np.broadcast_to(np.inf, u.shape), start=np.arange(u.size))
    count[big] = k
    return count.reshape(shape)


def poisson_nonzero(u: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``poisson_inverse`` of many small means, most of whose counts are 0: the
    flat indices of the items counting 1 or more, and their counts."""
    u, lam = np.broadcast_arrays(np.asarray(u, float), np.asarray(mean, float))
    u, lam = u.ravel(), lam.ravel()
    if (lam < _WALK_FROM_ZERO_BELOW).all():
        return _poisson_small(u, lam)
    count = poisson_inverse(u, lam)
    index = np.flatnonzero(count)
    return index, count[index]


def _poisson_small(u: np.ndarray, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``poisson_nonzero`` for means below ``_WALK_FROM_ZERO_BELOW``, walking up from 0 on
    ever fewer items, kept in compact arrays: most counts of small means are 0."""
    # A count is 0 unless u > F(0) = exp(-lam) >= 1 - lam: the exponential is taken
    # only where u + lam is that near 1 or above (the margin is far wider than the
    # roundings of exp and of the sum), not on the many cells of small means.
    maybe = np.flatnonzero(u + lam > _NOT_ZERO_ABOVE)
    u, lam = u[maybe], lam[maybe]
    pmf = np.exp(-lam)
    found = np.flatnonzero(u > pmf)
    index = maybe[found]
    count = np.ones(index.size, dtype=np.int64)
    u, lam, pmf = u[found], lam[found], pmf[found]
    cdf = pmf.copy()
    pmf *= lam
    cdf += pmf
    # Go on where u > F(step), unless the pmf underflowed (F is 1 in doubles).
    going = np.flatnonzero((u > cdf) & (pmf > 0))
    count[going] = _in_step(u[going], pmf[going], cdf[going], 1,
                            lambda k, pmf, lam: pmf * (lam / (k + 1)), [lam[going]])
    return index, count


def binomial_inverse(u: np.ndarray, trials, p: np.ndarray) -> np.ndarray:
    """Binomial(trials, p) by inversion of ``u`` in [0, 1).

    Arguments broadcast; returns int64. Monotone in ``p`` and ``trials`` for
    fixed ``u``.
    """
    u, n, p = np.broadcast_arrays(np.asarray(u, float), np.asarray(trials, float),
                                  np.asarray(p, float))
    shape = u.shape
    u, n, p = u.ravel(), n.ravel(), np.clip(p.ravel(), 0.0, 1.0)
    inner = (p > 0) & (p < 1)
    q = np.where(inner, p, 0.5)
    k = np.zeros(u.size)
    pmf = np.exp(n * np.log1p(-q))
    big = np.flatnonzero(inner & (n * q >= _WALK_FROM_ZERO_BELOW))
    if big.size:
        nb, qb = n[big], q[big]
        sd = np.sqrt(nb * qb * (1 - qb))
        k[big] = _guess(u[big], nb * qb, sd, (1 - 2 * qb) / sd, nb)
        pmf[big] = np.exp(special.gammaln(nb + 1) - special.gammaln(k[big] + 1)
                          - special.gammaln(nb - k[big] + 1) + k[big] * np.log(qb)
                          + (nb - k[big]) * np.log1p(-qb))
    cdf = pmf.copy()
    if big.size:
        cdf[big] = special.bdtr(k[big], n[big].astype(np.int64), q[big])
    ratio = q / (1 - q)
    zero = np.ones(u.size, dtype=bool)
    zero[big] = False
    _binomial_from_zero(u, k, pmf, cdf, n, ratio, np.flatnonzero(zero))
    _walk(u, k, pmf, cdf, up=lambda i, k, pmf: pmf * (n[i] - k) / (k + 1) * ratio[i],
          down=lambda i, k, pmf: pmf * k / (n[i] - k + 1) / ratio[i], stop=n, start=big)
    k = np.where(p >= 1, n, np.where(p <= 0, 0, k))
    return k.astype(np.int64).reshape(shape)


def _binomial_from_zero(u, k, pmf, cdf, n, ratio, index) -> None:
    """``_walk`` up of the items ``index``, which all start at k = 0: in step
    (``_in_step``). The same arithmetic as ``binomial_inverse``'s walk, item by
    item."""
    index = index[(u[index] > cdf[index]) & (pmf[index] > 0) & (n[index] > 0)]
    k[index] = _in_step(u[index], pmf[index], cdf[index], 0,
                        lambda k, pmf, n, ratio: pmf * (n - k) / (k + 1) * ratio,
                        [n[index], ratio[index]], stop=n[index])


#: Steps between two compactions of a walk in step (``_in_step``).
_COMPACT_EVERY = 4


def _in_step(u, pmf, cdf, k: int, up, params, stop=None) -> np.ndarray:
    """Where items walking up together from ``k`` (a number, the same for all: u >
    F(k) for each, ``pmf`` and ``cdf`` their pmf and running CDF there) stop:
    ``pmf(k+1) = up(k, pmf, *params)`` and ``F(k+1) = F(k) + pmf(k+1)``, until u <=
    F(k), the pmf underflows to 0 or k reaches ``stop``; ``params`` and ``stop`` are
    per-item arrays. Returns each item's k, int64.

    The items that stopped are dropped every ``_COMPACT_EVERY`` steps, not after each
    (dropping them costs more NumPy calls than a step): between two drops, an item
    that stopped steps on, its further steps not counted (a stopped item's test is
    not looked at again)."""
    out = np.empty(u.size, dtype=np.int64)
    index = np.arange(u.size)
    cdf = cdf.copy()  # added to in place
    while index.size:
        first = k
        on = np.ones(index.size, dtype=bool)
        passed = np.zeros(index.size, dtype=np.int64)
        with np.errstate(all="ignore"):  # a stopped item's further steps are not read
            for _ in range(_COMPACT_EVERY):
                pmf = up(k, pmf, *params)
                k += 1
                cdf += pmf
                on &= (u > cdf) & (pmf > 0)
                if stop is not None:
                    on &= k < stop
                passed += on
        ended = np.flatnonzero(~on)
        out[index[ended]] = first + 1 + passed[ended]
        going = np.flatnonzero(on)
        index, u, pmf, cdf = index[going], u[going], pmf[going], cdf[going]
        params = [a[going] for a in params]
        if stop is not None:
            stop = stop[going]
    return out


class RawInverse:
    """A discrete distribution drawn from raw 64-bit words by inversion: the shares'
    cumulative sums, times 2**64 and floored, cut the words into one interval per
    category, taken in order. A guide table indexed by a word's top ``bits`` names
    the category at once, except in the buckets an interval ends in (one in 64 or
    fewer, up to 16,384 categories), whose words are searched among the cuts.

    One word per draw and integer arithmetic only, about two passes over the words.
    Each category's probability is its share to about 1e-16 (the cuts come from
    doubles); zero shares are never drawn.
    """

    def __init__(self, probabilities):
        p = np.asarray(probabilities, dtype=float)
        self.size = p.size
        #: The categories that can be drawn, in order; the cuts end each one's words.
        self.drawn = np.flatnonzero(p > 0)
        # Divided by the last running sum, not by p.sum(): the last category's
        # interval then carries one rounding, not those of every sum before it.
        cdf = np.cumsum(p[self.drawn])
        cdf = cdf[:-1] / cdf[-1]
        self.cuts = np.minimum(np.floor(cdf * 2.0 ** 64), 2.0 ** 64 - 2.0 ** 11
                               ).astype(np.uint64)
        self.bits = int(np.clip(np.ceil(np.log2(64 * self.drawn.size)), 10, 20))
        self.shift = np.uint64(64 - self.bits)
        first = np.arange(1 << self.bits, dtype=np.uint64) << self.shift
        last = first | ((np.uint64(1) << self.shift) - np.uint64(1))
        low = np.searchsorted(self.cuts, first, side="right")
        dtype = np.int16 if p.size <= np.iinfo(np.int16).max else np.int32
        #: The category of each bucket of words, or -1 where a cut falls inside it.
        self.guide = np.where(low == np.searchsorted(self.cuts, last, side="right"),
                              self.drawn[low], -1).astype(dtype)

    def probabilities(self) -> np.ndarray:
        """The exact probability of each category under uniform 64-bit words."""
        ends = [0, *(int(c) for c in self.cuts), 1 << 64]
        p = np.zeros(self.size)
        p[self.drawn] = [(b - a) / 2.0 ** 64 for a, b in zip(ends, ends[1:])]
        return p

    def draw(self, words: np.ndarray) -> np.ndarray:
        """Categories of raw uint64 ``words``, one each (int16, or int32 beyond
        32,767 categories)."""
        category = self.guide.take((words >> self.shift).view(np.int64))
        cut = np.flatnonzero(category < 0)
        if cut.size:
            category[cut] = self.drawn.take(
                np.searchsorted(self.cuts, words.take(cut), side="right"))
        return category
