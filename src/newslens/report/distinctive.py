"""What distinguishes the groups, as the summary says it: each compared group's distinctive terms.

A term is listed only when the keywords stage called it distinctive (its 95% interval over
documents excludes 0, and enough of the group's documents use it), with its log ratio and
interval; a group too small to compare is named in the note with its size, never listed.
"""

from __future__ import annotations

import pandas as pd

from newslens.corpus.clean import is_missing_group
from newslens.report import prose
from newslens.wording import Words

# Labels that stand for "this unit has no group" (ingest's label for a missing group, and the
# one the reports used before): sentences name them as missing, never as a group.
# The summary lists every compared group up to this many, else the largest GROUPS_SHOWN
# (the keywords report has them all).
ALL_GROUPS_UP_TO = 20
GROUPS_SHOWN = 15
TERMS_SHOWN = 5
NONE_DISTINCTIVE = "none: no difference holds across its units"


def group_sizes(documents: pd.DataFrame) -> tuple[pd.Series, int]:
    """Units per named group, largest first (ties by name), and how many units have no group."""
    missing = documents["group"].map(is_missing_group)
    sizes = documents.loc[~missing, "group"].value_counts()
    sizes = sizes.sort_index().sort_values(ascending=False, kind="stable")
    return sizes, int(missing.sum())



def _term(row, display: dict[str, str]) -> str:
    return (f"{display.get(row.term, row.term)} ({row.log_ratio:+.1f}; "
            f"{row.log_ratio_low:+.1f} to {row.log_ratio_high:+.1f})")


def group_lines(keyness: pd.DataFrame, sizes: pd.DataFrame, documents: pd.DataFrame,
                display: dict[str, str], words: Words) -> tuple[pd.DataFrame, str | None]:
    """One row per compared group: its size and its distinctive over-used terms; and a note.

    A compared group with no distinctive term says so in its row. The note names the groups too
    small to compare (with their sizes), and says when only the largest groups are listed. No rows:
    fewer than two groups could be compared.
    """
    columns = [words.group, words.units, "distinctive terms (log ratio; 95% interval)"]
    groups = sizes[sizes["by"] == "group"]
    if len(groups) < 2:  # one group: nothing to compare, whatever its size
        return pd.DataFrame(columns=columns), None
    compared = groups[groups["compared"].astype(bool)]
    small = groups[~groups["compared"].astype(bool)]
    notes = []
    if len(small):
        named = prose.listed([f"{g} ({words.count(int(n))})" for g, n in zip(small["group"][:5], small["n_docs"])])
        more = f" and {len(small) - 5:,} more" if len(small) > 5 else ""
        notes.append(f"Too small to compare (fewer than the keywords stage's minimum of {words.units} or tokens): "
                     f"{named}{more}.")
    table = keyness[(keyness["by"] == "group") & (keyness["direction"] == "over")
                    & keyness["distinctive"].astype(bool)]
    if len(compared) < 2:
        return pd.DataFrame(columns=columns), " ".join(notes) or None
    rows = (table.sort_values(["group", "rank"]).groupby("group").head(TERMS_SHOWN).groupby("group")
            .apply(lambda g: "; ".join(_term(r, display) for r in g.itertuples()), include_groups=False))
    by_size, _ = group_sizes(documents)  # the named groups, largest first
    names = set(compared["group"].astype(str))
    listed = [g for g in by_size.index if str(g) in names]
    listed = listed if len(listed) <= ALL_GROUPS_UP_TO else listed[:GROUPS_SHOWN]
    unnamed = sorted(g for g in names if is_missing_group(g))  # the units without a group, compared too
    if len(listed) + len(unnamed) < len(compared):
        notes.append(f"The {len(listed)} largest of the {len(compared) - len(unnamed):,} compared {words.groups} "
                     "are listed; the keywords report has them all.")
    order = sorted(listed, key=lambda g: (str(g).casefold(), str(g))) + unnamed
    n_docs = compared.set_index(compared["group"].astype(str))["n_docs"]
    frame = pd.DataFrame({columns[0]: [str(g) for g in order], columns[1]: [int(n_docs[str(g)]) for g in order],
                          columns[2]: [rows.get(str(g), NONE_DISTINCTIVE) for g in order]})
    return frame, " ".join(notes) or None
