"""Call history: vipcall's own record of each call (who, when, how long, how it was
routed), kept by the call flows — :mod:`rules` (pure: routing outcome -> history label,
in/out/missed, calls per day) and :mod:`recorder` (queued, batched writes off the ring
path; the dialplan reports the end of a call it was handed)."""
