"""Slow, obviously-correct reference computations, used only by the tests.

Nothing here imports the engine: every formula is written again from the model's
definition (docs/model.md), as plainly as possible,
so that the fast vectorised engine can be checked against it.

* ``day_weights``            the U-curve, with explicit loops;
* ``fade``                   the duration effect on a stock circle's conversion;
* ``dynamics``               a scenario's [dynamics] with the defaults filled in;
* ``pledger_count_pmf``      exact pmf of a stock circle's pledgers K for fixed, Beta
                             and uniform conversion (Gauss quadrature, exact because
                             the binomial pmf is a polynomial in p of degree N);
* ``amount_pmf``             exact pmf of one pledger's amount (tiers, fixed, lognormal);
* ``gross_pmf``              exact pmf of the gross total, by convolution;
* ``enumerate_outcomes``     exact joint law of (gross, backers, net) for scenarios
                             whose circles each give one amount;
* ``simulate_reference``     a per-campaign, per-pledger simulation of the whole
                             model (loops over campaigns, days and people);
* ``simulate_many_reference`` the same model day by day, vectorised over simulations
                             only: fast enough for 20,000 runs and more.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

# ----------------------------------------------------------------------------- timing

DEFAULT_TIMING = {"launch_share": 0.30, "launch_days": 2.0,
                  "final_share": 0.20, "final_days": 2.0}
TIMING_KEYS = tuple(DEFAULT_TIMING)


def day_weights(duration_days: int, launch_share: float = 0.30, launch_days: float = 2.0,
                final_share: float = 0.20, final_days: float = 2.0) -> np.ndarray:
    """w(t) = a L(t) + c F(t) + (1 - a - c) / D, L and F each normalised to sum 1."""
    D = duration_days
    launch = [math.exp(-t / launch_days) for t in range(D)]
    final = [math.exp(-(D - 1 - t) / final_days) for t in range(D)]
    launch_total = sum(launch)
    final_total = sum(final)
    w = []
    for t in range(D):
        w.append(launch_share * launch[t] / launch_total
                 + final_share * final[t] / final_total
                 + (1 - launch_share - final_share) / D)
    return np.array(w)


def circle_timing(campaign_timing: dict, circle: dict) -> dict:
    """The campaign's timing keys, overridden by the circle's flat keys or its
    ``timing`` table."""
    timing = dict(DEFAULT_TIMING)
    timing.update(campaign_timing or {})
    timing.update(circle.get("timing", {}))
    timing.update({k: circle[k] for k in TIMING_KEYS if k in circle})
    return timing


#: The [dynamics] defaults of docs/model.md (a test holds the package to them).
DYNAMICS_DEFAULTS = {"post_goal_factor": 1.0, "appeal_sd": 0.63,
                     "surge_half_progress": 0.41, "surge_steepness": 7.5,
                     "completion_half_progress": 0.313, "completion_steepness": 3.56,
                     "reach_days": 45.0, "fade_per_day": 0.033}


#: The mechanisms fitted on real campaigns, switched off.
ISOLATED = {"appeal_sd": 0.0, "surge_half_progress": 0.0, "reach_days": 0.0,
            "fade_per_day": 0.0, "completion_half_progress": 0.0}


def isolated(spec: dict) -> dict:
    """``spec`` with the fitted mechanisms (appeal, progress-dependent surge, duration
    effect, goal completion) off unless it sets them: a test of other mechanisms, or of one of these
    alone, sees only what it studies."""
    return {**spec, "dynamics": {**ISOLATED, **spec.get("dynamics", {})}}


def dynamics(spec: dict) -> dict:
    """The scenario's [dynamics] keys, defaults filled in."""
    return {**DYNAMICS_DEFAULTS, **spec.get("dynamics", {})}


def fade(duration_days: int, reach_days: float = 0.0, fade_per_day: float = 0.0) -> float:
    """g(D) = (1 - exp(-D / reach_days)) exp(-fade_per_day D) divided by its largest
    value over all durations, found numerically (no closed form used here)."""
    from scipy import optimize

    def g(days: float) -> float:
        reached = 1.0 - math.exp(-days / reach_days) if reach_days > 0 else 1.0
        return reached * math.exp(-fade_per_day * days)

    if reach_days > 0 and fade_per_day > 0:
        span = 10 * (reach_days + 1 / fade_per_day)  # g is unimodal; its peak is inside
        best = -optimize.minimize_scalar(lambda d: -g(d), bounds=(1e-9, span),
                                         method="bounded",
                                         options={"xatol": 1e-10}).fun
    else:
        best = 1.0  # g(0) = 1 without reach; its supremum 1 without fading
    return g(duration_days) / best


def flow_days(duration_days: int, fade_per_day: float = 0.0) -> float:
    """Days of its daily reach a flow brings in D days when its novelty fades at
    ``fade_per_day``: the integral of exp(-fade_per_day t) over [0, D], numerically
    (no closed form used here)."""
    from scipy import integrate

    return integrate.quad(lambda t: math.exp(-fade_per_day * t), 0, duration_days,
                          epsabs=1e-12, epsrel=1e-12)[0]


def surge_window(D: int, final_days: float) -> int:
    """The final window's first day: the last ceil(3 final_days) days, from day 1 on."""
    return max(1, D - math.ceil(3 * final_days))


def surge_share(D: int, timing: dict, start: int) -> list[float]:
    """σ(t): the share of day t's would-be pledgers in the final surge, c F(t) / w(t)
    on the window's days, 0 before."""
    w = day_weights(D, **timing)
    final = [math.exp(-(D - 1 - t) / timing["final_days"]) for t in range(D)]
    out = []
    for t in range(D):
        surge = timing["final_share"] * final[t] / sum(final)
        out.append(min(1.0, surge / w[t]) if t >= start and w[t] > 0 else 0.0)
    return out


def closing_floor(D: int, final_days: float, start: int) -> list[float]:
    """The share of its gap a closing campaign has closed by the end of day t: the
    sum of exp(-(D - 1 - u) / final_days) over the window's days u <= t, over the
    sum over all its days (1 on the last day), 0 before the window."""
    rush = [math.exp(-(D - 1 - t) / final_days) if t >= start else 0.0 for t in range(D)]
    total = sum(rush)
    return [sum(rush[:t + 1]) / total if total > 0 else 0.0 for t in range(D)]


def surge_strength(progress, half: float, steepness: float):
    """s(x) = x^k / (x^k + h^k), 1 when h = 0; x a number or an array."""
    x = np.asarray(progress, dtype=float)
    if half <= 0:
        return np.ones_like(x)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(x > 0, 1.0 / (1.0 + (half / np.where(x > 0, x, 1.0)) ** steepness),
                        0.0)


def assert_same_outcome(one, two) -> None:
    """Two runs' raw outcomes (``engine.Outcome``) equal, field by field, bit for bit."""
    for name in one.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), name)


def mean_se(values: np.ndarray) -> float:
    """Standard error of the mean of simulated values (sample sd / sqrt(n))."""
    return float(np.std(values, ddof=1) / math.sqrt(values.size))


def lag_q(lag_days: float) -> float:
    """q of the geometric lag P(L = k) = (1 - q) q^k with mean lag_days."""
    return lag_days / (1 + lag_days)


# ----------------------------------------------------------------------------- conversion

def conversion_mean(conversion) -> float:
    if isinstance(conversion, (int, float)):
        return float(conversion)
    if "mean" in conversion:
        return float(conversion["mean"])
    return (conversion["low"] + conversion["high"]) / 2


def beta_parameters(mean: float, sd: float) -> tuple[float, float]:
    common = mean * (1 - mean) / sd**2 - 1
    return mean * common, (1 - mean) * common


def expect_over_conversion(conversion, function, degree: int) -> float:
    """E[function(p)] for the conversion law, exact when ``function`` is a
    polynomial in p of degree at most ``degree`` (Gauss quadrature)."""
    nodes = degree // 2 + 2
    if isinstance(conversion, (int, float)) or conversion.get("sd", None) == 0:
        return function(conversion_mean(conversion))
    if "low" in conversion:
        low, high = conversion["low"], conversion["high"]
        if low == high:
            return function(low)
        x, weights = special.roots_legendre(nodes)
        p = low + (high - low) * (x + 1) / 2
        return float(sum(wi * function(pi) for wi, pi in zip(weights, p)) / weights.sum())
    alpha, beta = beta_parameters(conversion["mean"], conversion["sd"])
    # Jacobi weight (1 - x)^(beta - 1) (1 + x)^(alpha - 1) on [-1, 1], p = (1 + x) / 2.
    x, weights = special.roots_jacobi(nodes, beta - 1, alpha - 1)
    p = (1 + x) / 2
    return float(sum(wi * function(pi) for wi, pi in zip(weights, p)) / weights.sum())


def pledger_count_pmf(size: int, conversion, fade_factor: float = 1.0) -> np.ndarray:
    """Exact P(K = k), k = 0 … size, for K ~ Binomial(size, p * fade_factor), p drawn
    from the conversion law."""
    return np.array([
        expect_over_conversion(
            conversion, lambda p, k=k: math.comb(size, k) * (fade_factor * p) ** k
            * (1 - fade_factor * p) ** (size - k), degree=size)
        for k in range(size + 1)])


# ----------------------------------------------------------------------------- amounts

def amount_pmf(rewards: list[dict] | None, pledge=None) -> np.ndarray:
    """pmf of one pledger's (whole) amount, indexed by the amount."""
    if pledge is None:
        top = int(max(r["amount"] for r in rewards))
        pmf = np.zeros(top + 1)
        for r in rewards:
            assert float(r["amount"]).is_integer()
            pmf[int(r["amount"])] += r["share"]
        return pmf
    if isinstance(pledge, (int, float)):
        assert float(pledge).is_integer()
        pmf = np.zeros(int(pledge) + 1)
        pmf[int(pledge)] = 1.0
        return pmf
    mean, sd = pledge["mean"], pledge["sd"]
    sigma = math.sqrt(math.log1p((sd / mean) ** 2))
    mu = math.log(mean) - sigma**2 / 2
    law = stats.lognorm(s=sigma, scale=math.exp(mu))
    top = int(law.ppf(1 - 1e-13)) + 2
    edges = np.arange(top + 1) + 0.5           # amount k collects [k - 0.5, k + 0.5)
    cdf = law.cdf(edges)
    pmf = np.zeros(top + 1)
    pmf[1] = cdf[1]                            # below 1.5 rounds to 1 or is raised to 1
    pmf[2:] = np.diff(cdf[1:])
    pmf[top] += 1 - cdf[-1]                    # the (negligible) tail
    return pmf


def amount_moments(rewards, pledge=None) -> tuple[float, float]:
    pmf = amount_pmf(rewards, pledge)
    k = np.arange(pmf.size)
    return float(pmf @ k), float(pmf @ k**2)


def compound_pmf(count_pmf: np.ndarray, one_pmf: np.ndarray) -> np.ndarray:
    """pmf of the sum of K iid amounts, K ~ count_pmf."""
    total = np.zeros((count_pmf.size - 1) * (one_pmf.size - 1) + 1)
    power = np.array([1.0])                    # the pmf of a sum of 0 amounts
    for k, pk in enumerate(count_pmf):
        total[:power.size] += pk * power
        power = np.convolve(power, one_pmf)
    return total


def gross_pmf(spec: dict) -> np.ndarray:
    """Exact pmf of the gross total of a scenario made of stock circles (fixed, Beta or
    uniform conversion; tiers or fixed/lognormal pledges) and commitments, whole amounts."""
    D = spec["campaign"]["duration_days"]
    dyn = dynamics(spec)
    assert dyn["appeal_sd"] == 0 and dyn["surge_half_progress"] == 0
    f = fade(D, dyn["reach_days"], dyn["fade_per_day"])
    pmf = np.array([1.0])
    for circle in spec["circle"]:
        assert set(circle) & {"source", "daily_reach", "budget"} == set()
        counts = pledger_count_pmf(circle["size"], circle["conversion"], f)
        one = amount_pmf(spec.get("reward"), circle.get("pledge"))
        pmf = np.convolve(pmf, compound_pmf(counts, one))
    for commitment in spec.get("commitment", []):
        amount = int(commitment["amount"])
        two = np.zeros(amount + 1)
        prob = commitment.get("probability", 1.0)
        two[0], two[amount] = 1 - prob, prob
        pmf = np.convolve(pmf, two)
    return pmf


def probability_at_least(pmf: np.ndarray, goal: float) -> float:
    return float(pmf[int(math.ceil(goal)):].sum())


# ----------------------------------------------------------------------------- money

@dataclass(frozen=True)
class Outcome:
    probability: float
    gross: float
    backers: int
    net: float


def enumerate_outcomes(spec: dict, fees: tuple[float, float, float]) -> list[Outcome]:
    """Every outcome (with its probability) of a scenario whose stock circles each give
    one amount (a single reward tier or a fixed pledge), plus commitments.

    ``fees`` = (platform_rate, payment_rate, per_pledge).
    """
    rate = fees[0] + fees[1]
    per_pledge = fees[2]
    D = spec["campaign"]["duration_days"]
    dyn = dynamics(spec)
    assert dyn["appeal_sd"] == 0 and dyn["surge_half_progress"] == 0
    f = fade(D, dyn["reach_days"], dyn["fade_per_day"])
    circles = []
    for circle in spec["circle"]:
        if "pledge" in circle:
            amount, unit_cost = float(circle["pledge"]), 0.0
        else:
            (tier,) = spec["reward"]
            amount, unit_cost = float(tier["amount"]), float(tier.get("unit_cost", 0.0))
        counts = pledger_count_pmf(circle["size"], circle["conversion"], f)
        circles.append((counts, amount, unit_cost))
    commitments = spec.get("commitment", [])
    outcomes = []
    for ks in itertools.product(*[range(c[0].size) for c in circles]):
        p_counts = math.prod(c[0][k] for c, k in zip(circles, ks))
        for kept in itertools.product((0, 1), repeat=len(commitments)):
            prob = p_counts
            gross = sum(k * c[1] for c, k in zip(circles, ks))
            costs = sum(k * c[2] for c, k in zip(circles, ks))
            backers = sum(ks)
            for m, on in zip(commitments, kept):
                pm = m.get("probability", 1.0)
                prob *= pm if on else 1 - pm
                if on:
                    gross += m["amount"]
                    costs += m.get("unit_cost", 0.0)
                    backers += 1
            net = gross - rate * gross - per_pledge * backers - costs
            outcomes.append(Outcome(prob, gross, backers, net))
    return outcomes


# ----------------------------------------------------------------------------- simulation

def _draw_conversion(rng: np.random.Generator, conversion) -> float:
    if isinstance(conversion, (int, float)):
        return float(conversion)
    if "low" in conversion:
        return float(rng.uniform(conversion["low"], conversion["high"]))
    if conversion["sd"] == 0:
        return float(conversion["mean"])
    return float(rng.beta(*beta_parameters(conversion["mean"], conversion["sd"])))


def _draw_amount(rng: np.random.Generator, rewards, pledge) -> float:
    if pledge is None:
        shares = [r["share"] for r in rewards]
        return float(rewards[rng.choice(len(rewards), p=np.array(shares) / sum(shares))]
                     ["amount"])
    if isinstance(pledge, (int, float)):
        return float(pledge)
    mean, sd = pledge["mean"], pledge["sd"]
    sigma = math.sqrt(math.log1p((sd / mean) ** 2))
    return max(1.0, float(np.rint(rng.lognormal(math.log(mean) - sigma**2 / 2, sigma))))


def _settings(spec: dict) -> tuple:
    """What both simulations read from a spec: D, goal, post-goal factor, fade, the
    circles, the rewards, each circle's w(t) and the circles' names."""
    camp = spec["campaign"]
    D, goal = camp["duration_days"], camp["goal"]
    dyn = dynamics(spec)
    f = fade(D, dyn["reach_days"], dyn["fade_per_day"])
    circles = spec["circle"]
    weights = [day_weights(D, **circle_timing(spec.get("timing", {}), c)) for c in circles]
    return (D, goal, dyn["post_goal_factor"], f, circles, spec.get("reward"), weights,
            [c["name"] for c in circles])


def _fitted(spec: dict) -> tuple[dict, int, list[list[float]], list[float]]:
    """What both simulations read for the appeal, the final surge and the goal
    completion: the dynamics, the final window's first day, each circle's σ(t)
    (zeros for a source) and the share of its gap a closing campaign has closed by
    each day (zeros without a completion or a window)."""
    D = spec["campaign"]["duration_days"]
    circles = spec["circle"]
    timings = [circle_timing(spec.get("timing", {}), c) for c in circles]
    final_days = circle_timing(spec.get("timing", {}), {})["final_days"]
    window = surge_window(D, final_days)
    sigma = [surge_share(D, t, window) if "source" not in c else [0.0] * D
             for t, c in zip(timings, circles)]
    dyn = dynamics(spec)
    closed = ([0.0] * D if dyn["completion_half_progress"] <= 0
              else closing_floor(D, final_days, window))
    return dyn, window, sigma, closed


def simulate_reference(spec: dict, sims: int, seed: int) -> np.ndarray:
    """Gross totals of ``sims`` campaigns, simulated person by person.

    The campaign's appeal A = exp(σ Z - σ²/2) multiplies every conversion p (capped at
    1). Stock pledgers: each of the N people pledges with probability p * fade, on a
    day drawn from w. Flow: each active day, Poisson(reach_t * p * boost) people pledge.
    Source: each pledger of the source on day s reaches Poisson(r) people, each of whom
    pledges with probability p after a geometric lag (mean lag_days), if that lands
    before the deadline and the circle is not full. After the day the goal is first
    reached, every circle's pledger is kept with probability post_goal_factor. On each
    day t of the final window, a stock or flow circle's pledger is kept with
    probability 1 - σ(t) (1 - s(x)), x the running total over the goal when the
    window opened; a campaign short of its goal then closes its gap with probability
    s(x) for the completion's (h, k), its total raised at the end of each day to at
    least where it was plus the gap times the share closed by then, the goal on the
    last day.
    """
    rng = np.random.default_rng(seed)
    D, goal, phi, f, circles, rewards, weights, names = _settings(spec)
    dyn, window, sigma, closed = _fitted(spec)
    reach_days = flow_days(D, dyn["fade_per_day"])
    totals = np.zeros(sims)
    for sim in range(sims):
        appeal = math.exp(dyn["appeal_sd"] * rng.standard_normal() - dyn["appeal_sd"] ** 2 / 2)
        p = [min(1.0, _draw_conversion(rng, c["conversion"]) * appeal) for c in circles]
        strength = 1.0
        closing, opened = False, 0.0
        # Stock pledgers' days are known from the start.
        planned = [[0] * D for _ in circles]
        for i, c in enumerate(circles):
            if "size" in c and not set(c) & {"source", "daily_reach", "budget"}:
                for _ in range(c["size"]):
                    if rng.random() < p[i] * f:
                        planned[i][rng.choice(D, p=weights[i])] += 1
        running, goal_day, featured_day = 0.0, None, {}
        landed = [0] * len(circles)              # pledgers so far, per circle
        for day in range(D):
            if day == window and dyn["surge_half_progress"] > 0:
                strength = surge_strength(running / goal, dyn["surge_half_progress"],
                                          dyn["surge_steepness"])
            if day == window and closed[-1] > 0 and running < goal:
                opened = running
                closing = rng.random() < surge_strength(
                    running / goal, dyn["completion_half_progress"],
                    dyn["completion_steepness"])
            for m in spec.get("commitment", []):
                if m.get("day", 0) == day and rng.random() < m.get("probability", 1.0):
                    running += m["amount"]
            pending = list(range(len(circles)))
            while pending:                       # sources after their source
                i = next(j for j in pending if "source" not in circles[j]
                         or names.index(circles[j]["source"]) not in pending)
                pending.remove(i)
                c = circles[i]
                if "source" in c:
                    count = planned[i][day]
                elif "daily_reach" in c or "budget" in c:
                    w = weights[i]
                    start = c.get("start_day", 0)
                    end = min(c.get("end_day", D - 1), D - 1)
                    if not start <= day <= end:
                        count = 0
                    else:
                        if "budget" in c:
                            active = sum(w[start:end + 1])
                            reach = c["budget"] / c["cost_per_click"] * w[day] / active
                        else:
                            reach = c["daily_reach"] * reach_days * w[day]
                        boost = 1.0
                        if c.get("featured_at") is not None and i in featured_day \
                                and day > featured_day[i]:
                            boost = c.get("featured_boost", 1.0)
                        count = rng.poisson(reach * p[i] * boost)
                else:
                    count = planned[i][day]
                if sigma[i][day] > 0 and dyn["surge_half_progress"] > 0:
                    count = rng.binomial(count, 1 - sigma[i][day] * (1 - strength))
                if goal_day is not None and day > goal_day:
                    count = rng.binomial(count, phi)
                if "source" in c and c.get("size") is not None:
                    count = min(count, c["size"] - landed[i])
                landed[i] += count
                for _ in range(count):
                    running += _draw_amount(rng, rewards, c.get("pledge"))
                # Each of today's pledgers reaches people who pledge later.
                for j, other in enumerate(circles):
                    if other.get("source") == c["name"]:
                        q = lag_q(other.get("lag_days", 2.0))
                        reached = rng.poisson(other["reach_per_pledger"], size=count).sum()
                        converted = rng.binomial(reached, p[j])
                        lags = rng.geometric(1 - q, size=converted) - 1  # 0, 1, 2, …
                        for lag in lags:
                            if day + lag < D:
                                planned[j][day + lag] += 1
            if closing:  # the owner closes what the circles leave of the gap
                running = max(running, goal if day == D - 1
                              else opened + (goal - opened) * closed[day])
            if goal_day is None and running >= goal:
                goal_day = day
            for i, c in enumerate(circles):
                if c.get("featured_at") is not None and i not in featured_day \
                        and running >= c["featured_at"] * goal:
                    featured_day[i] = day
        totals[sim] = running
    return totals


# ----------------------------------------------------------------------------- files

def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def to_toml(spec: dict) -> str:
    """A scenario dict as TOML text: top-level tables, arrays of tables, inline tables
    for values that are dicts inside them. Enough for the scenario schema."""
    lines = []
    for key, value in spec.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for table in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        else:
            lines.insert(0, f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- vectorised

@dataclass(frozen=True)
class Runs:
    """What ``simulate_many_reference`` gives: per simulated campaign, the gross
    ``gross`` (sims,), the money pledged each day ``daily`` (sims, D) and the pledgers of
    each circle ``pledgers`` (sims, C), in the order of the file."""

    gross: np.ndarray
    daily: np.ndarray
    pledgers: np.ndarray


def _amounts(rng: np.random.Generator, count: np.ndarray, rewards, pledge) -> np.ndarray:
    """The money of ``count[s]`` pledgers of one circle in simulation s, shape (sims,):
    each picks a reward tier by its share, or gives a fixed or lognormal amount
    (rounded to whole units, at least 1)."""
    if pledge is None:
        shares = np.array([r["share"] for r in rewards], dtype=float)
        amounts = np.array([r["amount"] for r in rewards], dtype=float)
        return rng.multinomial(count, shares / shares.sum()) @ amounts
    if isinstance(pledge, (int, float)):
        return count * float(pledge)
    mean, sd = pledge["mean"], pledge["sd"]
    if sd == 0:
        return count * float(mean)
    sigma = math.sqrt(math.log1p((sd / mean) ** 2))
    values = np.maximum(np.rint(rng.lognormal(math.log(mean) - sigma**2 / 2, sigma,
                                              size=int(count.sum()))), 1.0)
    total = np.zeros(count.size)
    some = count > 0
    if values.size:
        total[some] = np.add.reduceat(values, (np.cumsum(count) - count)[some])
    return total


def _conversions(rng: np.random.Generator, conversion, sims: int) -> np.ndarray:
    if isinstance(conversion, (int, float)):
        return np.full(sims, float(conversion))
    if "low" in conversion:
        return rng.uniform(conversion["low"], conversion["high"], size=sims)
    if conversion["sd"] == 0:
        return np.full(sims, float(conversion["mean"]))
    return rng.beta(*beta_parameters(conversion["mean"], conversion["sd"]), size=sims)


def _kind(circle: dict) -> str:
    if "source" in circle:
        return "source"
    if "daily_reach" in circle or "budget" in circle:
        return "flow"
    return "stock"


def _flow_reach(circle: dict, weights: np.ndarray, D: int, fade_per_day: float
                ) -> np.ndarray:
    """People a flow reaches each day, before any boost, shape (D,)."""
    start, end = circle.get("start_day", 0), min(circle.get("end_day", D - 1), D - 1)
    active = np.zeros(D, dtype=bool)
    active[start:end + 1] = True
    if "budget" in circle:
        clicks = circle["budget"] / circle["cost_per_click"]
        return np.where(active, clicks * weights / weights[active].sum(), 0.0)
    return np.where(active, circle["daily_reach"] * flow_days(D, fade_per_day) * weights,
                    0.0)


def simulate_many_reference(spec: dict, sims: int, seed: int) -> Runs:
    """The model of docs/model.md simulated day by day, vectorised over simulations
    only (a loop over days and circles), independently of the engine's design (no
    would-be pledgers, no inversion, no thresholds crossed in order): what happens on
    each day follows from the days before it.

    Each campaign draws its appeal A = exp(σ Z - σ²/2), which multiplies every
    conversion p (capped at 1). Each day, circles in source order: a stock circle's
    pledgers of the day (its Binomial(size, p * fade) pledgers spread over the days by
    w, drawn at the start);
    a flow's Poisson(reach_t * p * boost), the boost from the day after its
    featured_at * goal is reached; a source circle's pledgers planned for the day.
    On a day t of the final window, a stock or flow circle's pledgers are each kept
    with probability 1 - σ(t) (1 - s(x)), x the running total over the goal when the
    window opened. Then, after the goal day, each is kept with probability post_goal_factor; a
    source circle's size caps its pledgers; each pledger of the day gives its amount
    and, for each circle sourced from it, brings Poisson(reach_per_pledger * p)
    pledgers after a geometric lag (0, 1, … days; lost past the deadline).
    Commitments are added on their day. A campaign short of its goal when the window
    opens closes its gap with probability s(x) for the completion's (h, k): at the
    end of each day from then on its running total is raised to at least where it
    was plus the gap times the share closed by then (the goal on the last day), the
    rise counted as that day's money. The goal day and featured days are read from
    the running total at the end of each day.

    To add a mechanism, change ``count`` (the day's pledgers of a circle) where it
    acts, or the end-of-day state (goal and featured days), and say so here.
    """
    rng = np.random.default_rng(seed)
    D, goal, phi, f, circles, rewards, weights, names = _settings(spec)
    dyn, window, sigma, closed = _fitted(spec)
    C = len(circles)
    order, placed = [], set()
    while len(order) < C:                       # each source after its source
        for i, c in enumerate(circles):
            if i not in placed and ("source" not in c or names.index(c["source"]) in placed):
                order.append(i)
                placed.add(i)
    sd = dyn["appeal_sd"]
    appeal = np.exp(sd * rng.standard_normal(sims) - sd * sd / 2)
    p = [np.minimum(_conversions(rng, c["conversion"], sims) * appeal, 1.0) for c in circles]
    strength = np.ones(sims)
    planned = np.zeros((C, sims, D + 1), dtype=np.int64)   # column D: past the deadline
    for i, c in enumerate(circles):
        if _kind(c) == "stock":
            planned[i, :, :D] = rng.multinomial(rng.binomial(c["size"], p[i] * f),
                                                weights[i])
    reach = {i: _flow_reach(c, weights[i], D, dyn["fade_per_day"])
             for i, c in enumerate(circles) if _kind(c) == "flow"}
    running = np.zeros(sims)
    daily = np.zeros((sims, D))
    pledgers = np.zeros((sims, C), dtype=np.int64)
    goal_day = np.full(sims, D)                 # D: not reached
    featured_day = {i: np.full(sims, D) for i, c in enumerate(circles)
                    if c.get("featured_at") is not None}
    for day in range(D):
        if day == window and dyn["surge_half_progress"] > 0:
            strength = surge_strength(running / goal, dyn["surge_half_progress"],
                                      dyn["surge_steepness"])
        if day == window and closed[-1] > 0:
            opened = running.copy()
            closing = (running < goal) & (rng.random(sims) < surge_strength(
                running / goal, dyn["completion_half_progress"], dyn["completion_steepness"]))
        for m in spec.get("commitment", []):
            if m.get("day", 0) == day:
                daily[:, day] += m["amount"] * (rng.random(sims) < m.get("probability", 1.0))
        for i in order:
            c = circles[i]
            if _kind(c) == "flow":
                boost = np.ones(sims)
                if i in featured_day:
                    boost = np.where(day > featured_day[i], c.get("featured_boost", 1.0), 1.0)
                count = rng.poisson(reach[i][day] * p[i] * boost)
            else:
                count = planned[i, :, day]
            if sigma[i][day] > 0 and dyn["surge_half_progress"] > 0:
                count = rng.binomial(count, 1 - sigma[i][day] * (1 - strength))
            after = day > goal_day
            count = np.where(after, rng.binomial(count, phi), count)
            if _kind(c) == "source" and c.get("size") is not None:
                count = np.minimum(count, c["size"] - pledgers[:, i])
            pledgers[:, i] += count
            daily[:, day] += _amounts(rng, count, rewards, c.get("pledge"))
            for j, other in enumerate(circles):
                if other.get("source") == c["name"]:
                    heard = rng.poisson(other["reach_per_pledger"] * p[j] * count)
                    q = lag_q(other.get("lag_days", 2.0))
                    lags = (1 - q) * q ** np.arange(D - day)
                    lags = np.append(lags, max(0.0, 1.0 - lags.sum()))
                    planned[j, :, day:] += rng.multinomial(heard, lags / lags.sum())
        running += daily[:, day]
        if closed[-1] > 0 and day >= window:  # the owner closes the rest of the gap
            floor = goal if day == D - 1 else opened + (goal - opened) * closed[day]
            lifted = np.where(closing, np.maximum(running, floor), running)
            daily[:, day] += lifted - running
            running = lifted
        goal_day = np.where((goal_day == D) & (running >= goal), day, goal_day)
        for i in featured_day:
            crossed = (featured_day[i] == D) & (running >= circles[i]["featured_at"] * goal)
            featured_day[i] = np.where(crossed, day, featured_day[i])
    return Runs(gross=running, daily=daily, pledgers=pledgers)
