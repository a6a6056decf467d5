from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# Navigation by module; an entry shows when the user holds its permission somewhere.
NAVIGATION = [
    # The command dashboard: for whoever sees the key-person ledger (its tiles each check their own list).
    (_("Dashboard"), "dashboard:desk", "control.view_keyperson"),
    (_("Areas"), "areas:area_tree", "areas.view_area"),
    (_("Households"), "areas:household_list", "areas.view_household"),
    (_("Persons"), "people:person_list", "people.view_person"),
    (_("Key persons"), "control:keyperson_list", "control.view_keyperson"),
    (_("Today"), "control:today", "control.view_controlmeasure"),
    (_("Zones"), "control:zone_list", "control.view_zone"),
    (_("Sampling desk"), "testing:desk_home", "testing.add_sample"),
    (_("Testing rounds"), "testing:campaign_list", "testing.view_campaign"),
    (_("Unregistered finds"), "testing:find_list", "testing.view_find"),
    # Sample transport: each custody step's scan page for whoever signs it, then the board and lists.
    (_("Pack boxes"), "transport:pack", "transport.pack_box"),
    (_("Pick up boxes"), "transport:pickup", "transport.pickup_box"),
    (_("Receive boxes"), "transport:receive", "transport.receive_box"),
    (_("Transport board"), "transport:board", "transport.view_box"),
    (_("Boxes"), "transport:box_list", "transport.view_box"),
    (_("Lab results"), "results:tuberesult_list", "results.view_tuberesult"),
    (_("Turnaround"), "results:turnaround", "results.view_tuberesult"),
    (_("Pooled positive"), "retests:poolfollowup_list", "retests.view_poolfollowup"),
    (_("Zone proposals"), "retests:zoneproposal_list", "retests.view_zoneproposal"),
    (_("Antigen self-tests"), "antigen:antigenround_list", "antigen.view_antigenround"),
    (_("Isolation sites"), "isolation:site_list", "isolation.view_site"),
    (_("Contact tracing"), "tracing:case_list", "tracing.view_case"),
    (_("Checkpoints"), "checkpoints:checkpoint_list", "checkpoints.view_checkpoint"),
    (_("Household passes"), "passes:householdpass_list", "passes.view_householdpass"),
    (_("Assistance requests"), "assistance:assistrequest_list", "assistance.view_assistrequest"),
    (_("Assistance requests"), "assistance:assistperson_list", "assistance.view_assistperson"),
    # Daily reports: the community's page to send them, the roll-up above it (reports:home picks).
    (_("Daily reports"), "reports:home", "reports.view_submission"),
    (_("Report forms"), "reports:reportform_list", "reports.change_reportform"),
    # Supervision: the responsible person's own items first, then the whole list for those who raise.
    (_("My items"), "supervision:mine", "supervision.change_item"),
    (_("Supervision"), "supervision:item_list", "supervision.view_item"),
    # Duty staff land on their own shifts; planners and viewers on the roster of the next 24 h.
    (_("My shifts"), "rosters:my_shifts", "rosters.checkin_assignment"),
    (_("Duty roster"), "rosters:roster", "rosters.view_shift"),
    # Shops and markets: the inspector lands on their phone page; the others on outlets and alerts.
    (_("Market inspection"), "markets:inspect", "markets.add_inspection"),
    (_("Outlets"), "markets:outlet_list", "markets.view_outlet"),
    (_("Price alerts"), "markets:pricealert_list", "markets.view_pricealert"),
    # Supplies: the stock board with days of cover (stores, requisitions, ledger linked from it),
    # and the donation register for those who see donations.
    (_("Supplies"), "supplies:board", "supplies.view_stocklevel"),
    (_("Donations"), "supplies:donation_list", "supplies.view_donation"),
    # Resident services: volunteers land on their own requests; officers on the open requests board.
    (_("My service requests"), "homeservices:mine", "homeservices.change_servicerequest"),
    (_("Resident services"), "homeservices:board", "homeservices.view_servicerequest"),
    (_("Special groups"), "homeservices:specialcare_list", "homeservices.view_specialcare"),
    # Enterprises back to work: the contact's own enterprise on the phone; the register for the others.
    (_("My enterprise"), "enterprises:mine", "enterprises.contact_enterprise"),
    (_("Enterprises"), "enterprises:enterprise_list", "enterprises.view_enterprise"),
    # Disinfection: team leaders land on their sites of the day; planners on the rounds' coverage.
    (_("My sites today"), "disinfection:my_tasks", "disinfection.lead_team"),
    (_("Disinfection"), "disinfection:round_list", "disinfection.view_round"),
    (_("Audit log"), "audit:objectchange_list", "audit.view_objectchange"),
    (_("My jobs"), "jobs:job_list", None),
    (_("API"), "api-docs", "epigrid.use_api"),  # command centre and administrators (accounts.roles)
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items, labels = [], set()
    for label, url_name, perm in NAVIGATION:
        # One entry per label: a role holding both rights gets the first (the fuller) page.
        if (perm is None or user.has_scoped_perm(perm)) and label not in labels:
            labels.add(label)
            items.append({"label": label, "url": reverse(url_name), "active": False})
    # The longest matching prefix wins: /control/today/ is "Today", not also "Key persons".
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {"nav_items": items}
