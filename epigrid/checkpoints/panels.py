"""Today's work (/control/today/) heads with the arrivals checkpoints handed to the user's areas and
nobody has received yet (core.panels; decision 0027): the same minute the gate records them."""

from epigrid.checkpoints import services

ROWS = 20


def today_arrivals(request, area, held_here, now):
    user = request.user
    if not user.has_scoped_perm("control.change_keyperson"):
        return None
    rows = list(services.arrivals_to_receive(user, area)[: ROWS + 1])
    if not rows:
        return None
    return {"arrivals": rows[:ROWS], "arrival_count": len(rows[:ROWS]), "arrivals_more": len(rows) > ROWS}
