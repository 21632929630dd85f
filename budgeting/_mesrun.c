/*
 * The Method of Equal Shares' Add1 work, compiled (cost or cardinality satisfaction): one float
 * run (``run``) and the band proof that lets Add1 skip steps (``prove``, the proof of
 * ``budgeting.mes_band``, further down).
 *
 * The same certified computation as the ballot phase of ``budgeting.mes._FastRun`` with
 * ``exact=False`` (see that class and the module docstring of ``budgeting.mes``): every
 * ballot's float money carries its own proven error bound, every rho an interval that provably
 * contains the exact value, and a decision is taken only when the intervals are apart (or when
 * the exact rho of the projects in a near tie is known: ``cost / (unit * paying weight)``).
 * Anything the bounds cannot settle ends the run as *uncertain*; the caller then runs the step
 * exactly, taking the winners certified so far as given. Nothing here decides an outcome
 * that the exact rule would not: the error bounds are the Python engine's, summed in another
 * order (each bound holds for any order of summation).
 *
 * Reference: D. Peters, G. Pierczynski and P. Skowron, "Proportional participatory budgeting
 * with additive utilities", NeurIPS 2021 (the rule); equalshares.net, "Computation" (the lazy
 * evaluation of rho).
 *
 * Licence: EUPL-1.2, as the rest of stadmaken.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UR (1.0 / 9007199254740992.0) /* 2 ** -53 */
#define NEWTON_LIMIT 60
#define LOOSE_STEPS 8
#define TINY 1e-300

enum { EVAL_OK = 0, EVAL_NONE = 1, EVAL_UNCERTAIN = 2 };

typedef struct {
    double rho, lo, hi, center, resid, sure; /* resid infinite: loose bounds */
} Eval;

typedef struct {
    /* the election (read only) */
    const int64_t *sup_ptr, *near_ptr, *near, *rank, *q_num, *q_den;
    const double *weight, *cost, *unit;
    double b0f, eta, loose_eta;
    /* the run's state */
    double *bb, *berr;     /* per ballot: float money and its error bound (0 and 0: ran out) */
    int64_t *sup;          /* per project, its supporters who may have money (compacted) */
    int64_t *sup_len;
    int64_t *touched;      /* clock when a project's supporters last paid */
    int64_t *eval_clock;   /* clock of the project's kept evaluation (-1: none) */
    Eval *evals;
    double *gb, *gw, *ge;  /* the evaluated project's supporters' money, weight and error */
    int64_t clock;
} Run;

/* ------------------------------------------------------------------ heap of (stale, rank) */

typedef struct {
    double key;
    int64_t rank;
    int64_t project;
} Entry;

static int entry_less(const Entry *a, const Entry *b)
{
    return a->key < b->key || (a->key == b->key && a->rank < b->rank);
}

static void heap_push(Entry *heap, int64_t *size, Entry e)
{
    int64_t i = (*size)++;
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (!entry_less(&e, &heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = e;
}

static Entry heap_pop(Entry *heap, int64_t *size)
{
    Entry top = heap[0];
    Entry last = heap[--(*size)];
    int64_t i = 0, n = *size;
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && entry_less(&heap[child + 1], &heap[child]))
            child++;
        if (!entry_less(&heap[child], &last))
            break;
        heap[i] = heap[child];
        i = child;
    }
    if (n > 0)
        heap[i] = last;
    return top;
}

/* ------------------------------------------------------------------ evaluation */

/* Certified bounds where few supporters pay the full share (``_FastRun._loose``). */
static int loose(const Run *r, int64_t j, double pay, double tol, Eval *ev)
{
    const double *gb = r->gb, *gw = r->gw, *ge = r->ge;
    int64_t n = r->sup_len[j];
    double cost = r->cost[j], unit = r->unit[j];
    double free_w = 0.0, kept = 0.0;
    for (int64_t t = 0; t < n; t++) {
        if (gb[t] < pay)
            kept += gw[t] * (gb[t] + ge[t]);
        else
            free_w += gw[t];
    }
    double lower = 0.0;
    if (free_w > 0) {
        lower = (cost - kept - 2 * tol) / free_w * (1 - 8 * UR);
        if (lower < 0)
            lower = 0.0;
    }
    double upper = pay;
    int found = 0;
    for (int s = 0; s < LOOSE_STEPS && !found; s++) {
        upper *= 1 + r->loose_eta / LOOSE_STEPS;
        double f = 0.0;
        for (int64_t t = 0; t < n; t++) {
            double low = gb[t] - ge[t];
            if (low < 0)
                low = 0.0;
            f += gw[t] * (low < upper ? low : upper);
        }
        found = f >= cost + 2 * tol;
    }
    if (!found)
        return EVAL_UNCERTAIN;
    ev->rho = pay / unit;
    ev->lo = lower / unit * (1 - 8 * UR);
    ev->hi = upper / unit * (1 + 8 * UR);
    ev->center = pay;
    ev->resid = INFINITY;
    ev->sure = 1.0;
    return EVAL_OK;
}

/* Certified float rho of project ``j`` (``_FastRun._evaluate`` and ``_newton_uniform``).
 * Its supporters' money, weight and error are gathered into ``gb``, ``gw``, ``ge`` first. */
static int evaluate(Run *r, int64_t j, double start, Eval *ev)
{
    int64_t *ids = r->sup + r->sup_ptr[j];
    double *gb = r->gb, *gw = r->gw, *ge = r->ge;
    int64_t n = 0;
    double money = 0.0, err_sum = 0.0, weight = 0.0;
    for (int64_t t = 0; t < r->sup_len[j]; t++) {
        int64_t i = ids[t];
        double b = r->bb[i];
        if (b == 0.0)
            continue; /* a float 0 is exact: this voter ran out for good */
        double w = r->weight[i], e = r->berr[i];
        ids[n] = i;
        gb[n] = b;
        gw[n] = w;
        ge[n] = e;
        n++;
        money += w * b;
        err_sum += w * e;
        weight += w;
    }
    r->sup_len[j] = n;
    double cost = r->cost[j], unit = r->unit[j];
    double rounding = (double)(n + 8) * UR * (money + 2 * cost);
    double err_money = err_sum + rounding;
    if (money + err_money < cost)
        return EVAL_NONE;
    if (money - err_money < cost)
        return EVAL_UNCERTAIN;
    /* Newton's method from below on the concave money function F(pay) */
    double pay = start * unit;
    if (cost / weight > pay)
        pay = cost / weight;
    double tol = 4 * (double)(n + 8) * UR * (money + cost);
    double f = 0.0;
    int converged = 0;
    for (int it = 0; it < NEWTON_LIMIT; it++) {
        double s = 0.0; /* the slope: the weight of those who can pay ``pay`` */
        f = 0.0;
        for (int64_t t = 0; t < n; t++) {
            double b = gb[t], w = gw[t];
            if (b >= pay) {
                f += w * pay;
                s += w;
            } else {
                f += w * b;
            }
        }
        double gap = cost - f;
        if (gap <= tol) {
            converged = 1;
            break;
        }
        if (s <= 0)
            return EVAL_UNCERTAIN;
        pay += gap / s;
    }
    if (!converged)
        return EVAL_UNCERTAIN;
    /* |F(pay) - cost| <= resid; F rises at least at rate ``sure`` on [pay/(1+eta), pay(1+eta)] */
    double base = fabs(cost - f) + tol;
    double resid = base + err_sum;
    double sure = 0.0;
    for (int64_t t = 0; t < n; t++)
        if (gb[t] >= (pay * (1 + r->eta) + ge[t]) * (1 + 2 * UR))
            sure += gw[t];
    if (sure <= 0)
        return EVAL_UNCERTAIN;
    double delta = resid / sure;
    if (delta > r->eta * pay) {
        /* tighter: only voters who may be short of their share carry error */
        double short_err = 0.0;
        for (int64_t t = 0; t < n; t++)
            if (gb[t] < pay + ge[t])
                short_err += gw[t] * ge[t];
        delta = (base + short_err) / sure;
        if (delta > r->eta * pay)
            return loose(r, j, pay, tol, ev);
    }
    ev->rho = pay / unit;
    ev->lo = (pay - delta) / unit * (1 - 8 * UR);
    ev->hi = (pay + delta) / unit * (1 + 8 * UR);
    ev->center = pay;
    ev->resid = base;
    ev->sure = sure;
    return EVAL_OK;
}

/* The paying weight if every supporter with money surely pays the full share at the highest
 * possible rho (then rho = q / paying exactly, q = cost / unit); -1 otherwise. */
static int64_t known_paying(const Run *r, int64_t j, const Eval *ev)
{
    const int64_t *ids = r->sup + r->sup_ptr[j];
    double unit = r->unit[j], paying = 0.0;
    for (int64_t t = 0; t < r->sup_len[j]; t++) {
        int64_t i = ids[t];
        double b = r->bb[i];
        if (b == 0.0)
            continue;
        if (!(b >= (ev->hi * unit + r->berr[i]) * (1 + 4 * UR)))
            return -1;
        paying += r->weight[i];
    }
    return paying > 0 ? (int64_t)paying : -1;
}

/* -1, 0 or 1 as q_a / pa is below, equal to or above q_b / pb; 2 if it cannot be told here. */
static int compare_known(const Run *r, int64_t a, int64_t pa, int64_t b, int64_t pb)
{
    if (r->q_den[a] <= 0 || r->q_den[b] <= 0 || pa >= ((int64_t)1 << 53) ||
        pb >= ((int64_t)1 << 53))
        return 2;
    __int128 left = (__int128)r->q_num[a] * r->q_den[b] * pb;
    __int128 right = (__int128)r->q_num[b] * r->q_den[a] * pa;
    return left < right ? -1 : (left > right ? 1 : 0);
}

/* Supporters of ``j`` pay its float share (``_FastRun._pay_float``). */
static int pay_float(Run *r, int64_t j, const Eval *ev)
{
    const int64_t *ids = r->sup + r->sup_ptr[j];
    int64_t n = r->sup_len[j];
    double share = ev->center, unit = r->unit[j], radius;
    if (isinf(ev->resid)) {
        double below = ev->center - ev->lo * unit, above = ev->hi * unit - ev->center;
        radius = (below > above ? below : above) * (1 + 8 * UR);
        if (radius > r->loose_eta * ev->center)
            return EVAL_UNCERTAIN;
    } else {
        double short_err = 0.0;
        for (int64_t t = 0; t < n; t++) {
            int64_t i = ids[t];
            double e = r->berr[i];
            if (r->bb[i] < share + e)
                short_err += r->weight[i] * e;
        }
        radius = (ev->resid + short_err) / ev->sure;
        if (radius > r->eta * ev->center)
            return EVAL_UNCERTAIN;
    }
    double limit = (share - radius) * (1 - 4 * UR);
    double grow = radius + 4 * UR * r->b0f;
    r->clock++;
    for (int64_t t = 0; t < n; t++) {
        int64_t i = ids[t];
        double b = r->bb[i], e = r->berr[i];
        if (b + e <= limit) { /* surely paid all it had: exactly 0 from now on */
            r->bb[i] = 0.0;
            r->berr[i] = 0.0;
        } else {
            double left = b - share;
            r->bb[i] = left > TINY ? left : TINY;
            r->berr[i] = e + grow;
        }
    }
    /* the projects sharing a ballot with j: their supporters' money may have changed */
    for (int64_t p = r->near_ptr[j]; p < r->near_ptr[j + 1]; p++)
        r->touched[r->near[p]] = r->clock;
    return EVAL_OK;
}

/* ------------------------------------------------------------------ the run */

/* Returns 1 (certified to the end), 0 (uncertain), -1 (out of memory); ``winners`` gets the
 * projects funded, in order (when uncertain: those certified so far). */
static int run_mes(Run *r, int64_t m, const int64_t *candidates, int64_t n_candidates,
                   const double *stale0, int64_t *winners, int64_t *n_winners)
{
    int status = -1;
    double *stale = malloc(sizeof(double) * (size_t)(m > 0 ? m : 1));
    Entry *heap = malloc(sizeof(Entry) * (size_t)(n_candidates > 0 ? n_candidates : 1));
    int64_t *batch = malloc(sizeof(int64_t) * (size_t)(n_candidates > 0 ? n_candidates : 1));
    int64_t *known = malloc(sizeof(int64_t) * (size_t)(n_candidates > 0 ? n_candidates : 1));
    if (!stale || !heap || !batch || !known)
        goto done;
    memcpy(stale, stale0, sizeof(double) * (size_t)m);
    int64_t size = 0;
    for (int64_t c = 0; c < n_candidates; c++) {
        int64_t j = candidates[c];
        Entry e = {stale[j], r->rank[j], j};
        heap_push(heap, &size, e);
    }
    *n_winners = 0;
    while (size > 0) {
        double best_hi = INFINITY;
        int64_t n_batch = 0;
        while (size > 0 && heap[0].key <= best_hi) {
            int64_t j = heap_pop(heap, &size).project;
            Eval *ev = &r->evals[j];
            if (r->eval_clock[j] < r->touched[j]) {
                int outcome = evaluate(r, j, stale[j], ev);
                if (outcome == EVAL_UNCERTAIN) {
                    status = 0;
                    goto done;
                }
                if (outcome == EVAL_NONE)
                    continue; /* its supporters cannot pay for it, now or later */
                r->eval_clock[j] = r->clock;
            }
            batch[n_batch++] = j;
            if (ev->lo >= stale[j])
                stale[j] = ev->lo;
            if (ev->hi < best_hi)
                best_hi = ev->hi;
        }
        if (n_batch == 0)
            break;
        int64_t lead = batch[0];
        for (int64_t t = 1; t < n_batch; t++)
            if (r->evals[batch[t]].rho < r->evals[lead].rho)
                lead = batch[t];
        double lead_hi = r->evals[lead].hi;
        int64_t winner = lead, n_close = 0;
        for (int64_t t = 0; t < n_batch; t++)
            if (r->evals[batch[t]].lo <= lead_hi)
                known[n_close++] = batch[t];
        if (n_close > 1) {
            /* a near tie: decided only where every rho in it is known exactly */
            int64_t best = -1, best_paying = 0;
            for (int64_t t = 0; t < n_close; t++) {
                int64_t j = known[t];
                int64_t paying = known_paying(r, j, &r->evals[j]);
                if (paying < 0) {
                    status = 0;
                    goto done;
                }
                if (best >= 0) {
                    int order = compare_known(r, j, paying, best, best_paying);
                    if (order == 2) {
                        status = 0;
                        goto done;
                    }
                    if (order > 0 || (order == 0 && r->rank[j] > r->rank[best]))
                        continue;
                }
                best = j;
                best_paying = paying;
            }
            winner = best;
        }
        if (pay_float(r, winner, &r->evals[winner]) != EVAL_OK) {
            status = 0;
            goto done;
        }
        winners[(*n_winners)++] = winner;
        for (int64_t t = 0; t < n_batch; t++) {
            int64_t j = batch[t];
            if (j != winner) {
                Entry e = {stale[j], r->rank[j], j};
                heap_push(heap, &size, e);
            }
        }
    }
    status = 1;
done:
    free(stale);
    free(heap);
    free(batch);
    free(known);
    return status;
}

/* ------------------------------------------------------------------ band proof */

/*
 * The band proof of ``budgeting.mes_band.Band`` for cost and cardinality satisfaction (every
 * supporter's ``k`` is 1): that MES funds exactly ``winners``, in that order, for every
 * starting money in an interval. See that module's docstring for the argument; the code below
 * follows ``Band._prove`` step by step, reading each voter's bounds in place instead of
 * gathering them.
 */

typedef struct {
    const int64_t *sup_ptr, *sup, *place, *candidates;
    const double *weight, *cost, *inv_unit, *sigma_min, *rho_min, *tol_scale, *supporters;
    double *hints; /* (round, project, kind) -> last root, NAN where none */
    int64_t m, nb, n_candidates, hint_rounds;
    double *lo_a, *lo_b, *hi_a, *hi_b;
    double fail_start, fail_end; /* the failing condition's values at the two ends */
} Band;

enum { MONEY_A = 0, MONEY_B = 1, MONEY_MID = 2 };

static inline double band_money(const double *a, const double *b, int which, int64_t i)
{
    return which == MONEY_A ? a[i] : (which == MONEY_B ? b[i] : 0.5 * (a[i] + b[i]));
}

static double *hint_of(Band *g, int64_t r, int64_t j, int kind)
{
    if (r >= g->hint_rounds)
        return NULL;
    return &g->hints[(r * g->m + j) * 3 + kind];
}

static int fail(Band *g, double at_start, double at_end)
{
    g->fail_start = at_start;
    g->fail_end = at_end;
    return -1;
}

static int check(Band *g, double at_start, double at_end)
{
    return at_start > 0 && at_end > 0 ? 0 : fail(g, at_start, at_end);
}

static double tol_of(const Band *g, int64_t j, double top)
{
    return g->tol_scale[j] * top + 4 * UR * g->cost[j];
}

/* sum w min(money, sigma) over j's supporters, and (if ``slope``) its slope in sigma */
static double money_sum(const Band *g, int64_t j, const double *a, const double *b, int which,
                        double sigma, double *slope)
{
    double value = 0.0, rising = 0.0;
    for (int64_t t = g->sup_ptr[j]; t < g->sup_ptr[j + 1]; t++) {
        int64_t i = g->sup[t];
        double x = band_money(a, b, which, i), w = g->weight[i];
        if (x > sigma) {
            value += w * sigma;
            rising += w;
        } else {
            value += w * x;
        }
    }
    if (slope)
        *slope = rising;
    return value;
}

/* sum w a and sum w b over j's supporters, in one pass */
static void totals(const Band *g, int64_t j, const double *a, const double *b, double *sum_a,
                   double *sum_b)
{
    double ta = 0.0, tb = 0.0;
    for (int64_t t = g->sup_ptr[j]; t < g->sup_ptr[j + 1]; t++) {
        int64_t i = g->sup[t];
        double w = g->weight[i];
        ta += w * a[i];
        tb += w * b[i];
    }
    *sum_a = ta;
    *sum_b = tb;
}

static double total_of(const Band *g, int64_t j, const double *a, const double *b, int which)
{
    double total = 0.0;
    for (int64_t t = g->sup_ptr[j]; t < g->sup_ptr[j + 1]; t++) {
        int64_t i = g->sup[t];
        total += g->weight[i] * band_money(a, b, which, i);
    }
    return total;
}

/* ``Band._root``: a float sigma near the root of the money sum = cost, or INFINITY */
static double root(Band *g, int64_t j, const double *a, const double *b, int which, double *hint,
                   const double *total)
{
    double cost = g->cost[j];
    if ((total ? *total : total_of(g, j, a, b, which)) < cost)
        return INFINITY;
    double least = cost / g->supporters[j];
    double sigma = hint && !isnan(*hint) && *hint > least ? *hint : least;
    /* close enough: within the rounding of a sum taken in order (numpy's sums round less) */
    double close = cost * (1e-13 + 2 * (double)(g->sup_ptr[j + 1] - g->sup_ptr[j] + 8) * UR);
    for (int it = 0; it < 60; it++) {
        double slope;
        double gap = cost - money_sum(g, j, a, b, which, sigma, &slope);
        if (fabs(gap) <= close) {
            if (hint)
                *hint = sigma;
            return sigma;
        }
        if (slope <= 0) {
            if (gap < 0) {
                sigma = sigma * 0.5 > least ? sigma * 0.5 : least;
                continue;
            }
            return INFINITY;
        }
        sigma += gap / slope;
        if (sigma < least)
            sigma = least;
    }
    return INFINITY;
}

static const double BUMPS[3] = {1e-9, 1e-7, 1e-5};

/* ``Band._upper``: a float proven above the root for the ``lo`` money at one end */
static int upper(Band *g, int64_t j, const double *lo, double top, double *hint, double total,
                 double *out)
{
    double cost = g->cost[j], need = cost + tol_of(g, j, top);
    if (hint && !isnan(*hint) && total >= cost) {
        double slope, value = money_sum(g, j, lo, lo, MONEY_A, *hint, &slope);
        if (slope > 0) {
            double sigma = *hint + (cost - value) / slope, least = cost / g->supporters[j];
            if (sigma < least)
                sigma = least;
            double trial = sigma * (1 + BUMPS[0]);
            if (money_sum(g, j, lo, lo, MONEY_A, trial, NULL) >= need) {
                *hint = sigma;
                *out = trial;
                return 0;
            }
        }
    }
    double sigma = root(g, j, lo, lo, MONEY_A, hint, &total);
    if (isfinite(sigma))
        for (int t = 0; t < 3; t++) {
            double trial = sigma * (1 + BUMPS[t]);
            if (money_sum(g, j, lo, lo, MONEY_A, trial, NULL) >= need) {
                *out = trial;
                return 0;
            }
        }
    return fail(g, 0.0, 0.0);
}

/* ``Band._lower``: a lower line of sigma from the ``hi`` money (the partition bound) */
static void lower(Band *g, int64_t j, double top, double *hint, const double *guess,
                  double *low_start, double *low_end)
{
    double cost = g->cost[j], floor = g->sigma_min[j];
    const double *a = g->hi_a, *b = g->hi_b;
    int which = MONEY_MID;
    double sigma = guess ? *guess : root(g, j, a, b, MONEY_MID, hint, NULL);
    if (!isfinite(sigma)) {
        which = MONEY_B;
        sigma = root(g, j, a, b, MONEY_B, hint, NULL);
        if (!isfinite(sigma)) {
            *low_start = *low_end = floor;
            return;
        }
    }
    double free_w = 0.0, capped_a = 0.0, capped_b = 0.0;
    for (int64_t t = g->sup_ptr[j]; t < g->sup_ptr[j + 1]; t++) {
        int64_t i = g->sup[t];
        double w = g->weight[i], x = which == MONEY_B ? b[i] : 0.5 * (a[i] + b[i]);
        if (x < sigma) {
            capped_a += w * a[i];
            capped_b += w * b[i];
        } else {
            free_w += w;
        }
    }
    if (free_w <= 0) {
        *low_start = *low_end = floor;
        return;
    }
    double budget = cost - 2 * tol_of(g, j, top);
    double n = (double)(g->sup_ptr[j + 1] - g->sup_ptr[j]);
    double factor = (1 - 4 * (n + 8) * UR) / free_w;
    double s = (budget - capped_a) * factor, e = (budget - capped_b) * factor;
    if ((s < e ? s : e) >= 0 && s + e > 2 * floor) {
        *low_start = s;
        *low_end = e;
    } else {
        *low_start = *low_end = floor;
    }
}

/* ``Band._prove``; 0 proven, -1 not (``fail_start``, ``fail_end`` say where), -2 no memory */
static int band_prove(Band *g, const int64_t *winners, int64_t n_winners, double start,
                      double end)
{
    int64_t m = g->m, nb = g->nb;
    if (nb == 0)
        return fail(g, 0.0, 0.0);
    double top = end * (1 + 1e-9), margin = 4 * UR * top;
    double *low_a = malloc(sizeof(double) * (size_t)(m > 0 ? m : 1));
    double *low_b = malloc(sizeof(double) * (size_t)(m > 0 ? m : 1));
    double *reach = malloc(sizeof(double) * (size_t)(m > 0 ? m : 1));
    char *out = calloc((size_t)(m > 0 ? m : 1), 1);
    char *remaining = calloc((size_t)(m > 0 ? m : 1), 1);
    int status = -2;
    if (!low_a || !low_b || !reach || !out || !remaining)
        goto done;
    status = -1;
    for (int64_t i = 0; i < nb; i++) {
        g->lo_a[i] = start * (1 - 2 * UR);
        g->lo_b[i] = end * (1 - 2 * UR);
        g->hi_a[i] = start * (1 + 2 * UR);
        g->hi_b[i] = end * (1 + 2 * UR);
    }
    double start_hi = end * (1 + 2 * UR);
    for (int64_t j = 0; j < m; j++) {
        low_a[j] = low_b[j] = g->rho_min[j];
        reach[j] = g->cost[j] - g->tol_scale[j] * top - 4 * UR * g->cost[j];
    }
    for (int64_t c = 0; c < g->n_candidates; c++) {
        int64_t j = g->candidates[c];
        /* out of reach from the start: all supporters' money at the end is short */
        if (g->supporters[j] * start_hi < reach[j])
            out[j] = 1;
        else
            remaining[j] = 1;
    }
    for (int64_t r = 0; r < n_winners; r++) {
        int64_t win = winners[r];
        if (win < 0 || win >= m || !remaining[win]) {
            fail(g, 0.0, 0.0);
            goto done;
        }
        remaining[win] = 0;
        double need = g->cost[win] + tol_of(g, win, top);
        double total_a, total_b;
        totals(g, win, g->lo_a, g->lo_b, &total_a, &total_b);
        double up_a, up_b, down_a, down_b;
        if (check(g, total_a - need, total_b - need) ||
            upper(g, win, g->lo_a, top, hint_of(g, r, win, 0), total_a, &up_a) ||
            upper(g, win, g->lo_b, top, hint_of(g, r, win, 1), total_b, &up_b))
            goto done;
        /* K from the upper roots' mean: the root of the ``hi`` money is a little below */
        double mean = 0.5 * (up_a + up_b);
        lower(g, win, top, hint_of(g, r, win, 2), &mean, &down_a, &down_b);
        double scale = g->inv_unit[win] * (1 + 8 * UR);
        double rho_a = up_a * scale, rho_b = up_b * scale;
        double share = g->sigma_min[win] / (1 - 4 * UR) * (1 + 16 * UR);
        int pinned = 1;
        for (int64_t t = g->sup_ptr[win]; t < g->sup_ptr[win + 1] && pinned; t++) {
            int64_t i = g->sup[t];
            pinned = g->lo_a[i] >= share && g->lo_b[i] >= share;
        }
        /* every other project: beaten where its lower line is above, or out of reach, or
         * (the winner's rho being surely its lowest) later in the exact order */
        for (int64_t c = 0; c < m; c++) {
            if (!remaining[c] || out[c])
                continue;
            if (low_a[c] > rho_a && low_b[c] > rho_b)
                continue;
            if (pinned && g->place[c] > g->place[win])
                continue;
            double have_a, have_b;
            totals(g, c, g->hi_a, g->hi_b, &have_a, &have_b);
            if (have_a < reach[c] && have_b < reach[c]) {
                out[c] = 1; /* out of reach for good: money only shrinks */
                remaining[c] = 0;
                continue;
            }
            double scale_c = g->inv_unit[c] * (1 - 8 * UR);
            /* K first from the winner's rho, then, if that line is not high enough, from c's
             * own root */
            double guess = 0.5 * (rho_a + rho_b) / g->inv_unit[c];
            for (int attempt = 0; attempt < 2; attempt++) {
                double fresh_a, fresh_b;
                lower(g, c, top, hint_of(g, r, c, 2), attempt == 0 ? &guess : NULL, &fresh_a,
                      &fresh_b);
                fresh_a *= scale_c;
                fresh_b *= scale_c;
                if (fresh_a >= low_a[c] && fresh_b >= low_b[c]) {
                    low_a[c] = fresh_a;
                    low_b[c] = fresh_b;
                }
                if (low_a[c] > rho_a && low_b[c] > rho_b)
                    break;
            }
            if (check(g, low_a[c] - rho_a, low_b[c] - rho_b))
                goto done;
        }
        /* the supporters pay: upper money max(0, hi - down), lower lo - up or 0 */
        double cut_a = down_a - margin, cut_b = down_b - margin;
        double pay_a = up_a + margin, pay_b = up_b + margin;
        for (int64_t t = g->sup_ptr[win]; t < g->sup_ptr[win + 1]; t++) {
            int64_t i = g->sup[t];
            double ha = g->hi_a[i] - cut_a, hb = g->hi_b[i] - cut_b;
            double la = g->lo_a[i] - pay_a, lb = g->lo_b[i] - pay_b;
            g->hi_a[i] = ha > 0 ? ha : 0.0;
            g->hi_b[i] = hb > 0 ? hb : 0.0;
            int keep = la + lb > 0 && (la < lb ? la : lb) >= -top;
            g->lo_a[i] = keep ? la : 0.0;
            g->lo_b[i] = keep ? lb : 0.0;
        }
    }
    /* nothing else can be paid for: every project left is out of reach at both ends */
    double worst = INFINITY, worst_a = 0.0, worst_b = 0.0;
    for (int64_t c = 0; c < m; c++) {
        if (!remaining[c] || out[c])
            continue;
        double have_a, have_b;
        totals(g, c, g->hi_a, g->hi_b, &have_a, &have_b);
        double gap_a = reach[c] - have_a, gap_b = reach[c] - have_b;
        double least = gap_a < gap_b ? gap_a : gap_b;
        if (least < worst) {
            worst = least;
            worst_a = gap_a;
            worst_b = gap_b;
        }
    }
    if (isfinite(worst) && check(g, worst_a, worst_b))
        goto done;
    status = 0;
done:
    free(low_a);
    free(low_b);
    free(reach);
    free(out);
    free(remaining);
    return status;
}

/* ------------------------------------------------------------------ Python binding */

/* whether every one of ``n`` indices is in [0, limit) (negative ones wrap to huge) */
static int all_below(const int64_t *values, Py_ssize_t n, Py_ssize_t limit)
{
    uint64_t bad = 0;
    for (Py_ssize_t t = 0; t < n; t++)
        bad |= (uint64_t)values[t] >= (uint64_t)limit;
    return bad == 0;
}

/* whether ``ptr[0..m]`` rises from 0 to ``total`` (the starts of m lists in one array) */
static int spans(const int64_t *ptr, Py_ssize_t m, Py_ssize_t total)
{
    int ok = ptr[0] == 0 && ptr[m] == total;
    for (Py_ssize_t j = 0; ok && j < m; j++)
        ok = ptr[j] <= ptr[j + 1];
    return ok;
}

/* A 1-d C-contiguous buffer of float64 ('d') or int64 ('q'), of ``length`` items (-1: any). */
static int get_array(PyObject *obj, Py_buffer *view, char kind, int writable, Py_ssize_t length,
                     const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0)
        return -1;
    const char *format = view->format ? view->format : "B";
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;
    int ok = view->itemsize == 8 && view->ndim == 1 &&
             (kind == 'd' ? strcmp(format, "d") == 0
                          : (strcmp(format, "l") == 0 || strcmp(format, "q") == 0));
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "%s: a 1-d array of %s expected", name,
                     kind == 'd' ? "float64" : "int64");
        return -1;
    }
    if (length >= 0 && view->shape[0] != length) {
        PyErr_Format(PyExc_ValueError, "%s: length %zd expected, not %zd", name, length,
                     view->shape[0]);
        return -1;
    }
    return 0;
}

/* ``Supporters(sup_ptr, sup_ballot, n_ballots)``: each project's supporting ballots, checked
 * once (every index in range) and kept for the runs and proofs of one election. */
typedef struct {
    PyObject_HEAD
    Py_buffer ptr, ballots;
    Py_ssize_t m, nb;
} Supporters;

static void supporters_release(Supporters *self)
{
    PyBuffer_Release(&self->ptr);
    PyBuffer_Release(&self->ballots);
    memset(&self->ptr, 0, sizeof(Py_buffer));
    memset(&self->ballots, 0, sizeof(Py_buffer));
    self->m = -1;
}

static void supporters_dealloc(Supporters *self)
{
    supporters_release(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int supporters_init(Supporters *self, PyObject *args, PyObject *kwds)
{
    PyObject *ptr, *ballots;
    Py_ssize_t nb;
    if (kwds && PyDict_Size(kwds)) {
        PyErr_SetString(PyExc_TypeError, "Supporters takes no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOn", &ptr, &ballots, &nb))
        return -1;
    supporters_release(self);
    if (get_array(ptr, &self->ptr, 'q', 0, -1, "sup_ptr") != 0 ||
        get_array(ballots, &self->ballots, 'q', 0, -1, "sup_ballot") != 0)
        goto fail;
    Py_ssize_t m = self->ptr.shape[0] - 1, pairs = self->ballots.shape[0];
    if (m < 0 || nb < 0 || !spans(self->ptr.buf, m, pairs)) {
        PyErr_SetString(PyExc_ValueError, "sup_ptr: not a rising list from 0 to len(sup_ballot)");
        goto fail;
    }
    if (!all_below(self->ballots.buf, pairs, nb)) {
        PyErr_SetString(PyExc_ValueError, "sup_ballot: a ballot index out of range");
        goto fail;
    }
    self->m = m;
    self->nb = nb;
    return 0;
fail:
    supporters_release(self);
    return -1;
}

static PyTypeObject SupportersType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "budgeting._mesrun.Supporters",
    .tp_doc = PyDoc_STR("Supporters(sup_ptr, sup_ballot, n_ballots): each project's "
                        "supporting ballots (int64 arrays), checked once."),
    .tp_basicsize = sizeof(Supporters),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)supporters_init,
    .tp_dealloc = (destructor)supporters_dealloc,
};

static Supporters *get_supporters(PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, &SupportersType) || ((Supporters *)obj)->m < 0) {
        PyErr_SetString(PyExc_TypeError, "supporters: a Supporters object expected");
        return NULL;
    }
    return (Supporters *)obj;
}

/* The arrays of one call: fetched with their kind and expected length, released together. */
typedef struct {
    Py_buffer views[16];
    int held;
} Views;

static int fetch(Views *v, PyObject **objs, const char *kinds, const Py_ssize_t *lengths,
                 const char *const *names, int count, int writable_from)
{
    for (int t = 0; t < count; t++) {
        if (get_array(objs[t], &v->views[t], kinds[t], t >= writable_from, lengths[t],
                      names[t]) != 0) {
            if (v->views[t].obj)
                PyBuffer_Release(&v->views[t]);
            return -1;
        }
        v->held = t + 1;
    }
    return 0;
}

static void release(Views *v)
{
    for (int t = 0; t < v->held; t++)
        PyBuffer_Release(&v->views[t]);
    v->held = 0;
}

PyDoc_STRVAR(run_doc,
"run(supporters, weight, near_ptr, near, cost, unit, stale, rank, candidates, q_num, q_den,\n"
"    b0, eta, loose_eta, bb, berr) -> (certified, winners)\n"
"\n"
"One float run of MES with cost or cardinality satisfaction (see the C source and\n"
"budgeting.mes._compiled_run). ``near_ptr``, ``near``: per project, the projects that share\n"
"a ballot with it. ``bb`` and ``berr`` (float64, one per ballot, filled with the starting\n"
"money and its error bound) hold each ballot's float money and error bound afterwards.\n"
"``certified`` is False when a decision could not be certified; ``winners`` then lists the\n"
"projects certified before it.");

static PyObject *mesrun_run(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *sup_obj, *objs[12];
    double b0f, eta, loose_eta;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOdddOO", &sup_obj, &objs[0], &objs[1], &objs[2],
                          &objs[3], &objs[4], &objs[5], &objs[6], &objs[7], &objs[8], &objs[9],
                          &b0f, &eta, &loose_eta, &objs[10], &objs[11]))
        return NULL;
    Supporters *sup = get_supporters(sup_obj);
    if (!sup)
        return NULL;
    Py_ssize_t m = sup->m, nb = sup->nb, pairs = sup->ballots.shape[0];
    static const char *const names[12] = {"weight", "near_ptr", "near", "cost", "unit",
                                          "stale", "rank", "candidates", "q_num", "q_den",
                                          "bb", "berr"};
    static const char kinds[12] = {'d', 'q', 'q', 'd', 'd', 'd', 'q', 'q', 'q', 'q', 'd', 'd'};
    const Py_ssize_t lengths[12] = {nb, m + 1, -1, m, m, m, m, -1, m, m, nb, nb};
    Views v;
    memset(&v, 0, sizeof(v));
    PyObject *result = NULL;
    Run r;
    memset(&r, 0, sizeof(r));
    int64_t *winners = NULL;
    if (fetch(&v, objs, kinds, lengths, names, 12, 10) != 0)
        goto fail;
    r.sup_ptr = sup->ptr.buf;
    r.weight = v.views[0].buf;
    r.near_ptr = v.views[1].buf;
    r.near = v.views[2].buf;
    r.cost = v.views[3].buf;
    r.unit = v.views[4].buf;
    r.rank = v.views[6].buf;
    r.q_num = v.views[8].buf;
    r.q_den = v.views[9].buf;
    r.bb = v.views[10].buf;
    r.berr = v.views[11].buf;
    r.b0f = b0f;
    r.eta = eta;
    r.loose_eta = loose_eta;
    const int64_t *candidates = v.views[7].buf;
    Py_ssize_t n_candidates = v.views[7].shape[0], n_near = v.views[2].shape[0];
    if (!spans(r.near_ptr, m, n_near)) {
        PyErr_SetString(PyExc_ValueError, "near_ptr: not a rising list from 0 to len(near)");
        goto fail;
    }
    if (!all_below(r.near, n_near, m) || !all_below(candidates, n_candidates, m)) {
        PyErr_SetString(PyExc_ValueError, "near, candidates: a project index out of range");
        goto fail;
    }
    size_t mm = (size_t)(m > 0 ? m : 1), scratch = sizeof(double) * (size_t)(nb > 0 ? nb : 1);
    r.sup = malloc(sizeof(int64_t) * (size_t)(pairs > 0 ? pairs : 1));
    r.sup_len = malloc(sizeof(int64_t) * mm);
    r.touched = calloc(mm, sizeof(int64_t));
    r.eval_clock = malloc(sizeof(int64_t) * mm);
    r.evals = calloc(mm, sizeof(Eval));
    r.gb = malloc(scratch);
    r.gw = malloc(scratch);
    r.ge = malloc(scratch);
    winners = malloc(sizeof(int64_t) * (size_t)(n_candidates > 0 ? n_candidates : 1));
    if (!r.sup || !r.sup_len || !r.touched || !r.eval_clock || !r.evals || !r.gb || !r.gw ||
        !r.ge || !winners) {
        PyErr_NoMemory();
        goto fail;
    }
    memcpy(r.sup, sup->ballots.buf, sizeof(int64_t) * (size_t)pairs);
    for (Py_ssize_t j = 0; j < m; j++) {
        r.sup_len[j] = r.sup_ptr[j + 1] - r.sup_ptr[j];
        r.eval_clock[j] = -1;
    }
    int64_t n_winners = 0;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = run_mes(&r, m, candidates, n_candidates, v.views[5].buf, winners, &n_winners);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    PyObject *list = PyList_New((Py_ssize_t)n_winners);
    if (!list)
        goto fail;
    for (int64_t t = 0; t < n_winners; t++) {
        PyObject *item = PyLong_FromLongLong(winners[t]);
        if (!item) {
            Py_DECREF(list);
            goto fail;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)t, item);
    }
    result = Py_BuildValue("(ON)", status == 1 ? Py_True : Py_False, list);
fail:
    release(&v);
    free(r.sup);
    free(r.sup_len);
    free(r.touched);
    free(r.eval_clock);
    free(r.evals);
    free(r.gb);
    free(r.gw);
    free(r.ge);
    free(winners);
    return result;
}

PyDoc_STRVAR(prove_doc,
"prove(supporters, weight, cost, inv_unit, sigma_min, rho_min, place, tol_scale,\n"
"      supporters_f, candidates, hints, winners, start, end) -> share\n"
"\n"
"The band proof of budgeting.mes_band.Band for cost or cardinality satisfaction: 1.0 if MES\n"
"funds exactly ``winners``, in that order, for every starting money in [start, end];\n"
"otherwise the share of the interval on which the failing condition held (at most 0.999).\n"
"``hints`` (float64, m * m * 3, NaN where none) keeps the roots found, for the next proof.");

static PyObject *mesrun_prove(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *sup_obj, *objs[11];
    double start, end;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOdd", &sup_obj, &objs[0], &objs[1], &objs[2],
                          &objs[3], &objs[4], &objs[5], &objs[6], &objs[7], &objs[8], &objs[9],
                          &objs[10], &start, &end))
        return NULL;
    Supporters *sup = get_supporters(sup_obj);
    if (!sup)
        return NULL;
    Py_ssize_t m = sup->m, nb = sup->nb;
    /* the hints come last: the only array written */
    PyObject *ordered[11] = {objs[0], objs[1], objs[2], objs[3], objs[4], objs[5],
                             objs[6], objs[7], objs[8], objs[10], objs[9]};
    static const char *const names[11] = {"weight", "cost", "inv_unit", "sigma_min",
                                          "rho_min", "place", "tol_scale", "supporters_f",
                                          "candidates", "winners", "hints"};
    static const char kinds[11] = {'d', 'd', 'd', 'd', 'd', 'q', 'd', 'd', 'q', 'q', 'd'};
    const Py_ssize_t lengths[11] = {nb, m, m, m, m, m, m, m, -1, -1, m * m * 3};
    Views v;
    memset(&v, 0, sizeof(v));
    PyObject *result = NULL;
    Band g;
    memset(&g, 0, sizeof(g));
    if (fetch(&v, ordered, kinds, lengths, names, 11, 10) != 0)
        goto fail;
    const int64_t *cands = v.views[8].buf;
    if (!all_below(cands, v.views[8].shape[0], m)) {
        PyErr_SetString(PyExc_ValueError, "candidates: a project index out of range");
        goto fail;
    }
    g.sup_ptr = sup->ptr.buf;
    g.sup = sup->ballots.buf;
    g.weight = v.views[0].buf;
    g.cost = v.views[1].buf;
    g.inv_unit = v.views[2].buf;
    g.sigma_min = v.views[3].buf;
    g.rho_min = v.views[4].buf;
    g.place = v.views[5].buf;
    g.tol_scale = v.views[6].buf;
    g.supporters = v.views[7].buf;
    g.candidates = cands;
    g.n_candidates = v.views[8].shape[0];
    g.hints = v.views[10].buf;
    g.hint_rounds = m;
    g.m = m;
    g.nb = nb;
    size_t size = sizeof(double) * (size_t)(nb > 0 ? nb : 1);
    g.lo_a = malloc(size);
    g.lo_b = malloc(size);
    g.hi_a = malloc(size);
    g.hi_b = malloc(size);
    if (!g.lo_a || !g.lo_b || !g.hi_a || !g.hi_b) {
        PyErr_NoMemory();
        goto fail;
    }
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = band_prove(&g, v.views[9].buf, v.views[9].shape[0], start, end);
    Py_END_ALLOW_THREADS
    if (status == -2) {
        PyErr_NoMemory();
        goto fail;
    }
    double share = 1.0;
    if (status != 0) {
        share = 0.0;
        if (g.fail_start > 0 && 0 > g.fail_end)
            share = g.fail_start / (g.fail_start - g.fail_end);
        if (share > 0.999)
            share = 0.999;
    }
    result = PyFloat_FromDouble(share);
fail:
    release(&v);
    free(g.lo_a);
    free(g.lo_b);
    free(g.hi_a);
    free(g.hi_b);
    return result;
}

static PyMethodDef methods[] = {
    {"run", mesrun_run, METH_VARARGS, run_doc},
    {"prove", mesrun_prove, METH_VARARGS, prove_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mesrun",
    "Compiled float runs and band proofs of the Method of Equal Shares (see budgeting.mes).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__mesrun(void)
{
    if (PyType_Ready(&SupportersType) < 0)
        return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (!mod)
        return NULL;
    Py_INCREF(&SupportersType);
    if (PyModule_AddObject(mod, "Supporters", (PyObject *)&SupportersType) < 0) {
        Py_DECREF(&SupportersType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
