"""Other modules' urgent tasks head today's work (core.panels.register_page, control.TodayView)."""

import pytest

from epigrid.core import panels


@pytest.fixture
def section(tmp_path, settings):
    """A section registered for today's page, rendering what its builder was given."""
    seen = []

    def build(request, area, held_here, now):
        seen.append((request.user.username, area, held_here))
        if area is None:
            return None  # nothing to say for this scope
        return {"label": f"urgent in {area.name}"}

    template = tmp_path / "urgent_section.html"
    template.write_text('<section data-testid="urgent">{{ panel.label }}</section>')
    first = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**first, "DIRS": [*first.get("DIRS", []), str(tmp_path)]}, *settings.TEMPLATES[1:]]
    panels.register_page(panels.TODAY, "urgent_section.html", build)
    yield seen
    panels._registry[panels.TODAY].remove(("urgent_section.html", build))


@pytest.mark.django_db
def test_a_registered_section_heads_the_grid_workers_today_page(client, cast, section):
    client.force_login(cast.grid_worker)
    page = client.get("/control/today/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<section data-testid="urgent">urgent in {cast.grid_a.name}</section>' in html
    assert section == [(cast.grid_worker.username, cast.grid_a, False)]


@pytest.mark.django_db
def test_a_section_with_nothing_to_say_is_left_out(client, cast, section):
    client.force_login(cast.commander)
    page = client.get("/control/today/")
    assert page.status_code == 200 and 'data-testid="urgent"' not in page.content.decode()
    assert section and section[0][1] is None
