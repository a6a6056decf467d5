"""The generic move page (core.views.TransitionView) through one real move: a supervision item
sent back by the street officer who signs it off."""

from epigrid.accounts.models import Grant, User
from tests.scoping import PASSWORD, TransitionViewTests
from tests.supervision_cast import supervision


def _signer_of_grid_b(cast):
    """Holds the sign-off right, over grid B only."""
    user = User.objects.filter(username="street_grid_b").first()
    if user is None:
        user = User.objects.create_user("street_grid_b", password=PASSWORD)
        Grant.objects.create(user=user, role="street_officer", area=cast.grid_b)
    return user


class TestSendBack(TransitionViewTests):
    url_name = "supervision:send_back"
    mover = staticmethod(lambda cast: supervision(cast).street_b)
    forbidden = "auditor"
    outsider = staticmethod(_signer_of_grid_b)
    valid_data = {"reason": "照片看不清"}
    invalid_data = {"reason": ""}
    refused_message = "Only an item submitted with evidence can be signed off or sent back."
    next_data = {"next": "mine"}
    next_url = "/supervision/mine/"

    def make_ready(self, cast):
        return supervision(cast).submitted()

    def make_refused(self, cast):
        return supervision(cast).item()  # assigned, never submitted: nothing to send back

    def state(self, obj):
        return obj.status, obj.reopen_count
