"""The absence notice ("Tiedote loma ja poissa"): the call flow of an
:class:`~vipcall.routing.decisions.AbsenceNotice` decision.

Routing decides *whether* a call hears the notice (role 5 and a red activity, or a red
scheduled activity with the user's setting; VIP and repeat callers excepted:
:func:`vipcall.routing.rules.route_inbound`). This room decides what the caller then hears
and what each key does (:mod:`vipcall.absence.rules`, pure) and carries it out over the call
core (:mod:`vipcall.absence.flow`):

* the call is noted as stopped (what "repeat caller breaks through" counts);
* the notice for the activity: "The person you called is on holiday. To have the call put
  through to the person you called, press 2." [+ "For customer service, press 1." when the
  user offers it];
* key 2 rings the user; key 1 (only when offered) connects to the customer-service number;
* no key (or any other key): the notice once more; still no key: the caller may leave a
  message, or, for a user without voicemail, hears that the user cannot be reached.
"""
