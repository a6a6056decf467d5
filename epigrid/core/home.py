from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

# Where each kind of user starts, first match wins (by URL name: core imports no app). Whoever
# works the key-person ledger starts on today's work: a grid worker on their grid's lists, a
# community, street or district on the roll-up of their areas (later: the dashboard).
LANDINGS = (
    ("control.view_controlmeasure", "control:today"),
    # Checkpoint staff start at their gate (or pick among their posts).
    ("checkpoints.add_passage", "checkpoints:my_gate"),
    ("people.view_person", "people:person_list"),
    # A sampler works at a desk: they start by picking it.
    ("testing.add_sample", "testing:desk_home"),
    # Couriers and lab staff start on their scan page: pick up, or receive.
    ("transport.pickup_box", "transport:pickup"),
    ("transport.receive_box", "transport:receive"),
    # Warehouse keepers start on the stock board of the stores they keep.
    ("supplies.deliver_requisition", "supplies:board"),
    # An enterprise's contact starts on their enterprise's phone page (gate temperatures, roster).
    ("enterprises.contact_enterprise", "enterprises:mine"),
)


@login_required
def home(request):
    """Start where the user works: today's work lists, the person search, the sampling desk, the
    courier's or the lab's scan page, else the area tree."""
    for perm, url_name in LANDINGS:
        if request.user.has_scoped_perm(perm):
            return redirect(url_name)
    return redirect("areas:area_tree")
