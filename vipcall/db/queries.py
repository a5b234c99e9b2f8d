"""SQL shared by the call-time store (asyncpg) and the service layer (SQLAlchemy).

These queries only gather data; every rule applied to it is a pure function in
:mod:`vipcall.presence` (no "in effect" or precedence logic is written in SQL).
Parameters are named ``:like_this``; :func:`numbered` turns them into asyncpg's ``$n``.
"""

from __future__ import annotations

from typing import Any

from vipcall.presence.activity import Period
from vipcall.presence.forwarding import Forwarding, Reached

#: Columns describing what decides where a user forwards: manual activity, scheduled
#: activities not yet ended and every forwarding (activity NULL = immediate). ``u`` is the
#: users row; ``:now`` the moment of the decision.
FORWARDING_FACTS = """
       u.activity AS manual_activity,
       ARRAY(SELECT s.activity FROM scheduled_activities s
              WHERE s.user_id = u.id AND s.ends_at > :now ORDER BY s.starts_at, s.id)
         AS sched_activities,
       ARRAY(SELECT s.starts_at FROM scheduled_activities s
              WHERE s.user_id = u.id AND s.ends_at > :now ORDER BY s.starts_at, s.id)
         AS sched_starts,
       ARRAY(SELECT s.ends_at FROM scheduled_activities s
              WHERE s.user_id = u.id AND s.ends_at > :now ORDER BY s.starts_at, s.id)
         AS sched_ends,
       ARRAY(SELECT CASE WHEN f.kind = 'immediate' THEN NULL ELSE f.activity END
               FROM forwardings f WHERE f.user_id = u.id ORDER BY f.id) AS fwd_activities,
       ARRAY(SELECT f.target FROM forwardings f WHERE f.user_id = u.id ORDER BY f.id)
         AS fwd_targets
"""

#: Every number on user ``u``'s VIP list: colleagues marked VIP (their mobile and
#: landline) and personal contacts marked VIP. Numbers are stored E.164, so matching a
#: caller is set membership (:func:`vipcall.presence.absence.is_vip`).
VIP_NUMBERS = """
ARRAY(SELECT c.number FROM contacts c WHERE c.owner_user_id = u.id AND c.is_vip
      UNION SELECT cu.mobile_number FROM vip_colleagues v JOIN users cu ON cu.id = v.colleague_id
             WHERE v.user_id = u.id
      UNION SELECT cu.landline_number FROM vip_colleagues v JOIN users cu ON cu.id = v.colleague_id
             WHERE v.user_id = u.id AND cu.landline_number IS NOT NULL)
"""

#: Every user reached by following forwardings (all of them, any kind) from the numbers
#: ``:start`` (text[]), at most 10 hops, with their :data:`FORWARDING_FACTS`.
FORWARDING_REACH = (
    """
WITH RECURSIVE reach(number, depth) AS (
    SELECT n, 0 FROM unnest(CAST(:start AS text[])) AS n
    UNION
    SELECT f.target, reach.depth + 1
      FROM reach
      JOIN users u2 ON reach.number IN (u2.mobile_number, u2.landline_number)
      JOIN forwardings f ON f.user_id = u2.id
     WHERE reach.depth < 10
)
SELECT u.mobile_number, u.landline_number,"""
    + FORWARDING_FACTS
    + """
  FROM users u
 WHERE EXISTS (SELECT 1 FROM reach
                WHERE reach.number IN (u.mobile_number, u.landline_number))
"""
)


def numbered(sql: str, *names: str) -> str:
    """``:name`` -> ``$n`` for asyncpg, in the order given."""
    for i, name in enumerate(names, start=1):
        sql = sql.replace(f":{name}", f"${i}")
    return sql


def forwarding_facts(row: Any) -> tuple[int, tuple[Period, ...], tuple[Forwarding, ...]]:
    """(manual activity, scheduled periods, forwardings) from a row with
    :data:`FORWARDING_FACTS`."""
    periods = tuple(
        Period(a, s, e)
        for a, s, e in zip(
            row["sched_activities"], row["sched_starts"], row["sched_ends"], strict=True
        )
    )
    forwards = tuple(
        Forwarding(t, a) for a, t in zip(row["fwd_activities"], row["fwd_targets"], strict=True)
    )
    return row["manual_activity"], periods, forwards


def reached(row: Any) -> Reached:
    """One row of :data:`FORWARDING_REACH` as the pure rules read it."""
    manual, periods, forwards = forwarding_facts(row)
    numbers = tuple(n for n in (row["mobile_number"], row["landline_number"]) if n)
    return Reached(numbers, manual, periods, forwards)
