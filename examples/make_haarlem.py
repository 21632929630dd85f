"""Generate the synthetic Haarlem example: a respondent pool and quotas for a 30-person panel.

THE DATA ARE SYNTHETIC. No real person, address or survey response is in them. The script
imitates what a municipality gets back after sending lottery invitations for a resident panel
("bewonersadvies op basis van loting") in Haarlem: a pool of about 1,650 respondents from which
30 panel members are drawn by stratified sortition.

What the script models, on purpose:

* Residents are drawn from an approximate Haarlem 16+ population, with plausible correlations:
  Schalkwijk and Oost have more residents with a non-western migration background and fewer
  with higher education, Centrum and Zuid-West the reverse; older age bands have more lower
  education.
* Who answers is skewed the way response to lottery invitations usually is: older,
  higher-educated and native-born residents answer more often, and Schalkwijk answers less.
* About 8% of respondents share a household (same ``postcode`` + ``huisnummer``) with exactly
  one other respondent: mostly partners of similar age, sometimes a parent with an adult child.
  A draw should select at most one person per household.
* Postcodes are four digits (20xx) plus two letters, with the digits plausible for the wijk.

The quotas are derived from approximate population shares (constants below), not from the
pool, because a panel should mirror the city rather than the respondents.

Regenerate (from the repository root; needs only the standard library)::

    python examples/make_haarlem.py

This rewrites ``examples/haarlem/people.csv`` and ``examples/haarlem/quotas.csv``. The output
is deterministic: all randomness comes from one ``random.Random(20261128)``, so running the
script again gives byte-identical files.
"""

from __future__ import annotations

import csv
import math
import random
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

SEED = 20261128
PANEL_SIZE = 30
N_RESPONDENTS = 1650
N_SHARED_HOUSEHOLDS = 66  # 132 of 1,650 respondents (8%) live with one other respondent

OUT_DIR = Path(__file__).resolve().parent / "haarlem"

# Approximate shares of the Haarlem population aged 16 and over (about 140,000 people), in
# per mille. These are rounded approximations in the spirit of the municipal statistics (Haarlem
# in cijfers / CBS), good enough for an example; they are not official figures. The quotas are
# derived from them. Migration background uses the older CBS split westers / niet-westers.
POPULATION_SHARES: dict[str, dict[str, int]] = {
    "stadsdeel": {
        "Centrum": 120,
        "Noord": 270,
        "Oost": 160,
        "Zuid-West": 230,
        "Schalkwijk": 220,
    },
    "leeftijd": {
        "16-24": 130,
        "25-39": 270,
        "40-54": 250,
        "55-69": 210,
        "70+": 140,
    },
    "geslacht": {
        "vrouw": 507,
        "man": 488,
        "anders": 5,
    },
    "opleiding": {
        "laag": 250,
        "middelbaar": 350,
        "hoog": 400,
    },
    "migratieachtergrond": {
        "geen": 705,
        "westers": 130,
        "niet-westers": 165,
    },
}
QUOTA_FEATURES = tuple(POPULATION_SHARES)  # wijk is too fine-grained for 30 seats

# Wijken (neighbourhoods) per stadsdeel, with a relative weight and the four postcode digits
# used there. Real Haarlem neighbourhood names; the weights and digits are approximate.
WIJKEN: dict[str, list[tuple[str, int, tuple[str, ...]]]] = {
    "Centrum": [
        ("Binnenstad", 5, ("2011", "2012")),
        ("Burgwal", 2, ("2011",)),
        ("Vijfhoek", 1, ("2011",)),
    ],
    "Noord": [
        ("Kleverpark", 2, ("2023",)),
        ("Frans Halsbuurt", 2, ("2021",)),
        ("Transvaalwijk", 2, ("2022",)),
        ("Indischewijk", 2, ("2022",)),
        ("Planetenwijk", 2, ("2024",)),
        ("Delftwijk", 2, ("2025",)),
    ],
    "Oost": [
        ("Parkwijk", 2, ("2031", "2032")),
        ("Amsterdamsewijk", 3, ("2032",)),
        ("Slachthuisbuurt", 2, ("2033",)),
        ("Zomervaart", 1, ("2033",)),
    ],
    "Zuid-West": [
        ("Haarlemmerhoutkwartier", 2, ("2012", "2013")),
        ("Koninginnebuurt", 2, ("2012",)),
        ("Leidsebuurt", 2, ("2013",)),
        ("Houtvaartkwartier", 2, ("2015",)),
        ("Zuiderpolder", 2, ("2014",)),
    ],
    "Schalkwijk": [
        ("Molenwijk", 2, ("2033",)),
        ("Europawijk", 2, ("2034",)),
        ("Boerhaavewijk", 3, ("2035",)),
        ("Meerwijk", 3, ("2036",)),
    ],
}

AGES = tuple(POPULATION_SHARES["leeftijd"])
EDUCATION = tuple(POPULATION_SHARES["opleiding"])
MIGRATION = tuple(POPULATION_SHARES["migratieachtergrond"])

# Population model per stadsdeel: age multipliers on the city-wide age shares, and the
# distribution of migration background and education. Rough, but in the right direction.
AGE_FACTOR = {
    "Centrum": (1.20, 1.35, 0.90, 0.80, 0.70),
    "Noord": (0.90, 1.00, 1.05, 1.00, 1.00),
    "Oost": (1.00, 1.10, 1.00, 0.95, 0.90),
    "Zuid-West": (0.90, 0.85, 1.05, 1.10, 1.15),
    "Schalkwijk": (1.15, 0.90, 0.95, 1.00, 1.05),
}
MIGRATION_DIST = {  # geen, westers, niet-westers
    "Centrum": (0.72, 0.17, 0.11),
    "Noord": (0.76, 0.12, 0.12),
    "Oost": (0.68, 0.12, 0.20),
    "Zuid-West": (0.78, 0.14, 0.08),
    "Schalkwijk": (0.55, 0.12, 0.33),
}
EDUCATION_DIST = {  # laag, middelbaar, hoog
    "Centrum": (0.15, 0.30, 0.55),
    "Noord": (0.22, 0.35, 0.43),
    "Oost": (0.28, 0.38, 0.34),
    "Zuid-West": (0.15, 0.30, 0.55),
    "Schalkwijk": (0.40, 0.38, 0.22),
}
EDUCATION_BY_AGE = {  # multipliers on laag, middelbaar, hoog (16-24: many still studying)
    "16-24": (1.10, 1.60, 0.50),
    "25-39": (0.70, 0.90, 1.30),
    "40-54": (0.90, 1.00, 1.05),
    "55-69": (1.20, 1.05, 0.85),
    "70+": (1.70, 0.90, 0.60),
}
EDUCATION_BY_MIGRATION = {
    "geen": (1.00, 1.00, 1.00),
    "westers": (0.90, 0.95, 1.10),
    "niet-westers": (1.50, 1.00, 0.60),
}
MIGRATION_BY_AGE = {  # younger residents more often have a migration background
    "16-24": (0.85, 1.00, 1.60),
    "25-39": (0.90, 1.20, 1.25),
    "40-54": (1.00, 1.00, 1.00),
    "55-69": (1.05, 0.90, 0.70),
    "70+": (1.10, 0.90, 0.40),
}

# Relative propensity to answer a lottery invitation (the response skew).
RESPONSE = {
    "stadsdeel": {"Centrum": 1.2, "Noord": 1.1, "Oost": 1.0, "Zuid-West": 1.15, "Schalkwijk": 0.7},
    "leeftijd": {"16-24": 0.45, "25-39": 0.8, "40-54": 1.0, "55-69": 1.5, "70+": 1.35},
    "geslacht": {"vrouw": 1.0, "man": 0.95, "anders": 1.0},
    "opleiding": {"laag": 0.45, "middelbaar": 0.8, "hoog": 1.5},
    "migratieachtergrond": {"geen": 1.0, "westers": 0.9, "niet-westers": 0.5},
}
RESPONSE_SCALE = 0.35  # keeps every acceptance probability below 1

POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
UNUSED_LETTER_PAIRS = {"SA", "SD", "SS"}

COLUMNS = (
    "id",
    "stadsdeel",
    "wijk",
    "leeftijd",
    "geslacht",
    "opleiding",
    "migratieachtergrond",
    "postcode",
    "huisnummer",
)

Person = dict[str, str]


def pick(rng: random.Random, values: tuple[str, ...], weights: tuple[float, ...]) -> str:
    """One value, with probability proportional to its weight."""
    return rng.choices(values, weights=weights, k=1)[0]


def scaled(base: tuple[float, ...], *factors: tuple[float, ...]) -> tuple[float, ...]:
    """The element-wise product of a distribution and multipliers (unnormalised)."""
    out = list(base)
    for factor in factors:
        out = [a * b for a, b in zip(out, factor, strict=True)]
    return tuple(out)


def draw_age(rng: random.Random, stadsdeel: str) -> str:
    base = tuple(float(v) for v in POPULATION_SHARES["leeftijd"].values())
    return pick(rng, AGES, scaled(base, AGE_FACTOR[stadsdeel]))


def draw_migration(rng: random.Random, stadsdeel: str, age: str) -> str:
    return pick(rng, MIGRATION, scaled(MIGRATION_DIST[stadsdeel], MIGRATION_BY_AGE[age]))


def draw_education(rng: random.Random, stadsdeel: str, age: str, migration: str) -> str:
    weights = scaled(
        EDUCATION_DIST[stadsdeel], EDUCATION_BY_AGE[age], EDUCATION_BY_MIGRATION[migration]
    )
    return pick(rng, EDUCATION, weights)


def draw_gender(rng: random.Random) -> str:
    shares = POPULATION_SHARES["geslacht"]
    return pick(rng, tuple(shares), tuple(float(v) for v in shares.values()))


def draw_resident(rng: random.Random) -> Person:
    """One resident of the approximate 16+ population (before anyone answers)."""
    shares = POPULATION_SHARES["stadsdeel"]
    stadsdeel = pick(rng, tuple(shares), tuple(float(v) for v in shares.values()))
    wijken = WIJKEN[stadsdeel]
    wijk = pick(rng, tuple(w[0] for w in wijken), tuple(float(w[1]) for w in wijken))
    age = draw_age(rng, stadsdeel)
    migration = draw_migration(rng, stadsdeel, age)
    return {
        "stadsdeel": stadsdeel,
        "wijk": wijk,
        "leeftijd": age,
        "geslacht": draw_gender(rng),
        "opleiding": draw_education(rng, stadsdeel, age, migration),
        "migratieachtergrond": migration,
    }


def responds(rng: random.Random, person: Person) -> bool:
    """Whether an invited resident answers, given the response skew."""
    propensity = RESPONSE_SCALE
    for feature, factors in RESPONSE.items():
        propensity *= factors[person[feature]]
    return rng.random() < propensity


def new_address(
    rng: random.Random, wijk_digits: tuple[str, ...], used: set[str]
) -> tuple[str, str]:
    """A postcode and house number in the wijk that no other household has."""
    while True:
        letters = rng.choice(POSTCODE_LETTERS) + rng.choice(POSTCODE_LETTERS)
        if letters in UNUSED_LETTER_PAIRS:
            continue
        postcode = rng.choice(wijk_digits) + letters
        huisnummer = str(1 + int(rng.random() ** 2 * 180))
        key = f"{postcode} {huisnummer}"
        if key not in used:
            used.add(key)
            return postcode, huisnummer


def neighbour_age(rng: random.Random, age: str) -> str:
    """A partner's age band: usually the same, otherwise an adjacent band."""
    i = AGES.index(age)
    if rng.random() < 0.7:
        return age
    j = i + rng.choice((-1, 1))
    return AGES[min(max(j, 0), len(AGES) - 1)]


def housemate(rng: random.Random, person: Person) -> Person:
    """A second respondent in the same household: a partner, a parent or an adult child."""
    stadsdeel, age = person["stadsdeel"], person["leeftijd"]
    if age in ("40-54", "55-69") and rng.random() < 0.2:
        kind, other_age = "child", "16-24"
    elif age == "16-24" and rng.random() < 0.5:
        kind, other_age = "parent", rng.choice(("40-54", "55-69"))
    else:
        kind, other_age = "partner", neighbour_age(rng, age)
    if kind == "partner" and person["geslacht"] in ("vrouw", "man") and rng.random() < 0.9:
        gender = "man" if person["geslacht"] == "vrouw" else "vrouw"
    else:
        gender = draw_gender(rng)
    same_background = 0.9 if kind != "partner" else 0.85
    if rng.random() < same_background:
        migration = person["migratieachtergrond"]
    else:
        migration = draw_migration(rng, stadsdeel, other_age)
    if kind == "partner" and rng.random() < 0.55:
        education = person["opleiding"]
    else:
        education = draw_education(rng, stadsdeel, other_age, migration)
    return {
        "stadsdeel": stadsdeel,
        "wijk": person["wijk"],
        "leeftijd": other_age,
        "geslacht": gender,
        "opleiding": education,
        "migratieachtergrond": migration,
        "postcode": person["postcode"],
        "huisnummer": person["huisnummer"],
    }


def make_people(rng: random.Random) -> list[Person]:
    """The respondent pool, shuffled, with ids R0001, R0002, ..."""
    wijk_digits = {name: digits for wijken in WIJKEN.values() for name, _, digits in wijken}
    used: set[str] = set()
    primaries: list[Person] = []
    while len(primaries) < N_RESPONDENTS - N_SHARED_HOUSEHOLDS:
        resident = draw_resident(rng)
        if responds(rng, resident):
            postcode, huisnummer = new_address(rng, wijk_digits[resident["wijk"]], used)
            resident["postcode"] = postcode
            resident["huisnummer"] = huisnummer
            primaries.append(resident)
    anchors = sorted(rng.sample(range(len(primaries)), N_SHARED_HOUSEHOLDS))
    people = primaries + [housemate(rng, primaries[i]) for i in anchors]
    rng.shuffle(people)
    for number, person in enumerate(people, start=1):
        person["id"] = f"R{number:04d}"
    return people


def quota_bounds(share_permille: int, k: int) -> tuple[int, int, Fraction]:
    """Min and max seats for a value with this population share, and the exact target.

    min = floor(target) - 1 and max = ceil(target) + 1 (min at least 0). A value with a target
    below one seat (``anders``) gets min 0 and max 1, so that it can be, but need not be, present.
    """
    target = Fraction(share_permille * k, 1000)
    if target < 1:
        return 0, 1, target
    return max(0, math.floor(target) - 1), math.ceil(target) + 1, target


def make_quotas(k: int) -> list[tuple[str, str, int, int, Fraction]]:
    rows = []
    for feature in QUOTA_FEATURES:
        shares = POPULATION_SHARES[feature]
        if sum(shares.values()) != 1000:
            raise SystemExit(f"population shares of {feature} do not add up to 1000 per mille")
        for value, share in shares.items():
            lo, hi, target = quota_bounds(share, k)
            rows.append((feature, value, lo, hi, target))
    return rows


def check_quotas(
    people: list[Person], quotas: list[tuple[str, str, int, int, Fraction]], k: int
) -> list[str]:
    """Necessary conditions for a feasible draw; returns the problems found (none is good).

    Per feature: the mins add up to at most k and the maxes to at least k. Per value: the pool
    has at least ``min`` households with someone of that value (at most one person per
    household is selected). These conditions are not sufficient in general; the joint check is
    an integer program (see README.md).
    """
    problems = []
    households: dict[tuple[str, str], set[str]] = {}
    for person in people:
        for feature in QUOTA_FEATURES:
            key = (feature, person[feature])
            households.setdefault(key, set()).add(f"{person['postcode']} {person['huisnummer']}")
    for feature in QUOTA_FEATURES:
        rows = [q for q in quotas if q[0] == feature]
        low = sum(q[2] for q in rows)
        high = sum(q[3] for q in rows)
        if not low <= k <= high:
            problems.append(f"{feature}: sum of mins {low}, sum of maxes {high}, panel {k}")
        for _, value, lo, hi, _ in rows:
            available = len(households.get((feature, value), ()))
            if lo > hi:
                problems.append(f"{feature}/{value}: min {lo} above max {hi}")
            if lo > available:
                problems.append(f"{feature}/{value}: min {lo} but only {available} households")
    return problems


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str | int, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> int:
    rng = random.Random(SEED)
    people = make_people(rng)
    quotas = make_quotas(PANEL_SIZE)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(
        OUT_DIR / "people.csv",
        COLUMNS,
        [tuple(person[c] for c in COLUMNS) for person in people],
    )
    write_csv(
        OUT_DIR / "quotas.csv",
        ("feature", "value", "min", "max"),
        [(feature, value, lo, hi) for feature, value, lo, hi, _ in quotas],
    )

    n = len(people)
    household_sizes = Counter(f"{p['postcode']} {p['huisnummer']}" for p in people)
    shared = sum(size for size in household_sizes.values() if size > 1)
    print(f"wrote {n} respondents and {len(quotas)} quota rows to {OUT_DIR}")
    print(
        f"households: {len(household_sizes)}; {shared} respondents ({shared / n:.1%}) "
        f"share one with another respondent"
    )
    print(f"{'feature':<20} {'value':<24} {'pool':>5} {'pool%':>6} {'pop%':>6} {'quota':>7}")
    bounds = {(f, v): (lo, hi) for f, v, lo, hi, _ in quotas}
    for feature in (*QUOTA_FEATURES[:1], "wijk", *QUOTA_FEATURES[1:]):
        counts = Counter(p[feature] for p in people)
        if feature == "wijk":
            values = tuple(w[0] for wijken in WIJKEN.values() for w in wijken)
        else:
            values = tuple(POPULATION_SHARES[feature])
        for value in values:
            pop = f"{POPULATION_SHARES[feature][value] / 10:.1f}" if feature != "wijk" else ""
            lo_hi = f"{bounds[feature, value][0]}-{bounds[feature, value][1]}" if pop else ""
            print(
                f"{feature:<20} {value:<24} {counts[value]:>5} "
                f"{counts[value] / n:>6.1%} {pop:>6} {lo_hi:>7}"
            )

    problems = check_quotas(people, quotas, PANEL_SIZE)
    if problems:
        print("quota check FAILED:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"quota check passed for a panel of {PANEL_SIZE} (necessary conditions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
