from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Start where the user works: the person search for registry roles, else the area tree."""
    if request.user.has_scoped_perm("people.view_person"):
        return redirect("people:person_list")
    return redirect("areas:area_tree")
