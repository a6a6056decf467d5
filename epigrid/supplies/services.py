"""Supplies' one way in (decision 0037): stock moves, requisitions, donations and allocations.

Every change of stock locks the `StockLevel` row (select_for_update), checks it, updates it and
writes its `Movement` in the same transaction: the balance is always the sum of the ledger, and two
keepers issuing the last boxes at once cannot both succeed. An allocation locks its donation line
first and claims the quantity with a conditional UPDATE (allocated + q ≤ quantity), so concurrent
allocations never pass what was received. A `user` of None is the system (a command, the demo).

Requisitions move through `Requisition.transition` (the conditional UPDATE and the history row);
approval is the level above's: the approver's grant must lie on a proper ancestor of the
requesting store's area (a street approves its communities' posts, never its own store).

Purchases 采购 spend donated money on goods: approval pays, locking each money line and claiming
the amount by a conditional UPDATE (allocated + spent ≤ received) as allocations do; the store
receives the goods as ledger rows linked to the purchase line."""

import decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, DecimalField, F, Prefetch, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.services import log_transition
from epigrid.core.scoping import may, may_at
from epigrid.supplies.models import (
    ZERO,
    Allocation,
    Donation,
    DonationLine,
    Movement,
    Purchase,
    PurchaseFunding,
    PurchaseLine,
    Requisition,
    RequisitionLine,
    StockLevel,
    Store,
)

VIEW_STORE = "supplies.view_store"
MOVE = "supplies.add_movement"
SET_LEVELS = "supplies.change_stocklevel"
REQUEST = "supplies.add_requisition"
APPROVE = "supplies.approve_requisition"
DELIVER = "supplies.deliver_requisition"
RECEIVE = "supplies.receive_requisition"
DONATE = "supplies.add_donation"
ALLOCATE = "supplies.add_allocation"
PURCHASE = "supplies.add_purchase"
APPROVE_PURCHASE = "supplies.approve_purchase"
RECEIVE_PURCHASE = "supplies.receive_purchase"

K = Movement.Kind
S = Requisition.Status
P = Purchase.Status
CENT = decimal.Decimal("0.01")


def _qty(value, label=None, allow_zero=False):
    try:
        number = decimal.Decimal(str(value)).quantize(CENT)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ValidationError(_("Give a quantity as a number."), code="quantity") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise ValidationError(_("A quantity must be more than zero."), code="quantity")
    return number


def _needs_text(value, message, code="reason"):
    # Two letters or characters at least: "." typed to get past the form is not a reason.
    text = (value or "").strip()
    if sum(ch.isalnum() for ch in text) < 2:
        raise ValidationError(message, code=code)
    return text


def _at_store(user, store, perm, message):
    if user is not None and not may(user, store, perm=perm):
        raise PermissionDenied(message)


# -- the ledger -----------------------------------------------------------------------------------


def lock_level(store, item):
    """The balance row of `item` at `store`, created on first use, locked for this transaction."""
    StockLevel.objects.get_or_create(store=store, item=item)
    return StockLevel.objects.select_for_update().select_related("store", "item").get(store=store, item=item)


def post(level, delta, kind, user, *, reserved_delta=ZERO, reason="", at=None, **links):
    """Move `delta` (signed) into the locked `level` and write its ledger row. Refuses to take
    what is not there, or what donors gave and nobody has allocated yet."""
    on_hand = level.on_hand + delta
    reserved = level.reserved + reserved_delta
    if on_hand < 0:
        raise ValidationError(
            _("Only %(n)s %(unit)s of %(item)s at %(store)s.")
            % {"n": _fmt(level.on_hand), "unit": level.item.unit, "item": level.item, "store": level.store},
            code="short",
        )
    if on_hand < reserved:
        raise ValidationError(
            _(
                "%(n)s %(unit)s of %(item)s at %(store)s are donated goods not yet allocated: they leave only by allocation."
            )
            % {"n": _fmt(level.reserved), "unit": level.item.unit, "item": level.item, "store": level.store},
            code="reserved",
        )
    level.on_hand, level.reserved = on_hand, reserved
    level.save(update_fields=["on_hand", "reserved", "last_updated"])
    return Movement.objects.create(
        at=at or timezone.now(),
        kind=kind,
        area_id=level.store.area_id,
        store=level.store,
        item=level.item,
        quantity=delta,
        balance_after=on_hand,
        by=user,
        reason=reason,
        **links,
    )


def _fmt(number):
    return f"{number.normalize():f}" if isinstance(number, decimal.Decimal) else str(number)


def receive_stock(user, store, item, quantity, reason="", at=None):
    """Goods arriving from outside the system (a purchase, a higher level's direct delivery)."""
    _at_store(user, store, MOVE, _("You may not move stock at this store."))
    with transaction.atomic():
        return post(lock_level(store, item), _qty(quantity), K.RECEIPT, user, reason=reason, at=at)


def issue(user, store, item, quantity, reason="", at=None):
    """Goods handed out for use at the post (the day's masks to the checkpoint's shift)."""
    _at_store(user, store, MOVE, _("You may not move stock at this store."))
    with transaction.atomic():
        return post(lock_level(store, item), -_qty(quantity), K.ISSUE, user, reason=reason, at=at)


def transfer(user, source, target, item, quantity, reason="", at=None):
    """From one store to another in one transaction: both rows or neither."""
    _at_store(user, source, MOVE, _("You may not move stock at this store."))
    if source.pk == target.pk:
        raise ValidationError(_("A transfer goes to another store."), code="same_store")
    quantity = _qty(quantity)
    with transaction.atomic():
        # Both balance rows locked in id order: two opposite transfers cannot deadlock.
        levels = {s.pk: None for s in sorted((source, target), key=lambda s: s.pk)}
        for pk in levels:
            levels[pk] = lock_level(source if pk == source.pk else target, item)
        out = post(
            levels[source.pk], -quantity, K.TRANSFER_OUT, user, reason=reason, at=at, counterpart=target
        )
        post(levels[target.pk], quantity, K.TRANSFER_IN, user, reason=reason, at=at, counterpart=source)
        return out


def count(user, store, item, counted, reason="", at=None):
    """A stock count: the difference to the books is an adjustment with its reason; a count that
    agrees writes no row (a re-imported count sheet changes nothing) but dates the count."""
    _at_store(user, store, MOVE, _("You may not move stock at this store."))
    counted = _qty(counted, allow_zero=True)
    with transaction.atomic():
        level = lock_level(store, item)
        delta = counted - level.on_hand
        movement = None
        if delta:
            # The first count of an item at a store opens its books: nothing to explain.
            opening = not Movement.objects.filter(store=store, item=item).exists()
            if opening and not (reason or "").strip():
                reason = _("Opening count")
            reason = _needs_text(reason, _("Say why the count differs from the books."))
            movement = post(level, delta, K.ADJUSTMENT, user, reason=reason, at=at)
        level.counted_at = at or timezone.now()
        level.save(update_fields=["counted_at", "last_updated"])
        return movement


def set_levels(user, store, item, daily_use=None, min_days=None, max_days=None):
    """Daily use and the min/max in days of one item at a store (OpenLMIS' periods of stock)."""
    _at_store(user, store, SET_LEVELS, _("You may not set the stock levels of this store."))
    with transaction.atomic():
        level = lock_level(store, item)
        if daily_use is not None:
            level.daily_use = _qty(daily_use, allow_zero=True)
        if min_days is not None:
            level.min_days = _qty(min_days, allow_zero=True)
        if max_days is not None:
            level.max_days = _qty(max_days, allow_zero=True)
        if level.max_days < level.min_days:
            raise ValidationError(_("The maximum is below the minimum."), code="min_max")
        level.save()
        return level


def balance_from_ledger(store, item):
    """The sum of the ledger for one item at one store (what `StockLevel.on_hand` must equal)."""
    total = Movement.objects.filter(store=store, item=item).aggregate(n=Sum("quantity"))["n"]
    return total or ZERO


# -- requisitions 申领 ----------------------------------------------------------------------------


def may_approve(user, store):
    """The level above: a grant holding the approval right on a proper ancestor of the store's area."""
    if user is None:
        return True
    paths = user.scope_paths(APPROVE)
    if paths is None:
        return True
    path = store.area.path
    return any(path.startswith(p) and p != path for p in paths)


def _lock_req(req):
    return (
        Requisition.objects.select_for_update(of=("self",))
        .select_related("store__area", "supplier")
        .get(pk=req.pk)
    )


def request(user, store, lines, purpose="", needed_by=None, priority=Requisition.Priority.NORMAL, at=None):
    """A post asks for `lines` [(item, quantity)], each with what it holds now for the approver."""
    _at_store(user, store, REQUEST, _("You may not ask for supplies for this store."))
    if not lines:
        raise ValidationError(_("Ask for at least one item."), code="lines")
    items = [item.pk for item, _q in lines]
    if len(set(items)) != len(items):
        raise ValidationError(_("Each item once per requisition."), code="lines")
    with transaction.atomic():
        req = Requisition.objects.create(
            store=store,
            purpose=purpose,
            needed_by=needed_by,
            priority=priority,
            requested_by=user,
            requested_at=at or timezone.now(),
        )
        req.stores.add(store)
        held = {lvl.item_id: lvl for lvl in StockLevel.objects.filter(store=store, item__in=items)}
        RequisitionLine.objects.bulk_create(
            [
                RequisitionLine(
                    requisition=req,
                    item=item,
                    requested=_qty(quantity),
                    on_hand_then=held[item.pk].on_hand if item.pk in held else ZERO,
                    cover_then=held[item.pk].days_of_cover if item.pk in held else None,
                )
                for item, quantity in lines
            ]
        )
        log_transition(req, "", S.SUBMITTED, purpose)
        return req


def approve(user, req, supplier, quantities=None, note="", at=None):
    """The level above approves (quantities per line id, by default as asked) from `supplier`."""
    with transaction.atomic():
        req = _lock_req(req)
        _check_decider(user, req)
        if supplier.pk == req.store_id:
            raise ValidationError(
                _("The supplying store is another store than the requesting one."), code="supplier"
            )
        if user is not None and not Store.objects.restrict(user, "view").filter(pk=supplier.pk).exists():
            raise PermissionDenied(_("You may not supply from this store."))
        quantities = quantities or {}
        lines = list(req.lines.all())
        for line in lines:
            line.approved = _qty(quantities.get(line.pk, line.requested), allow_zero=True)
        if not any(line.approved for line in lines):
            raise ValidationError(_("Approve something, or reject the requisition."), code="nothing")
        RequisitionLine.objects.bulk_update(lines, ["approved"])
        req.stores.add(supplier)
        return req.transition(
            S.APPROVED,
            note,
            approver=user,
            approved_at=at or timezone.now(),
            supplier=supplier,
            decision_note=note,
        )


def reject(user, req, reason, at=None):
    with transaction.atomic():
        req = _lock_req(req)
        _check_decider(user, req)
        reason = _needs_text(reason, _("Give a reason for the rejection."))
        return req.transition(
            S.REJECTED, reason, approver=user, approved_at=at or timezone.now(), decision_note=reason
        )


def _check_decider(user, req):
    if not may_approve(user, req.store):
        raise PermissionDenied(_("Requisitions are approved by the level above the requesting store."))
    if user is not None and req.requested_by_id == user.pk:
        raise PermissionDenied(_("You cannot approve your own requisition."))


def deliver(user, req, quantities=None, carrier="", at=None):
    """The supplier sends (quantities per line id, by default as approved, never more): one
    delivery row out of the supplying store per line."""
    with transaction.atomic():
        req = _lock_req(req)
        if req.status != S.APPROVED:
            raise ValidationError(_("Only an approved requisition is delivered."), code="state")
        _at_store(user, req.supplier, DELIVER, _("You may not deliver from this store."))
        quantities = quantities or {}
        at = at or timezone.now()
        lines = list(req.lines.select_related("item").order_by("item_id"))
        for line in lines:
            line.delivered = _qty(quantities.get(line.pk, line.approved), allow_zero=True)
            if line.delivered > line.approved:
                raise ValidationError(
                    _("%(item)s: more than approved (%(n)s).")
                    % {"item": line.item, "n": _fmt(line.approved)},
                    code="over",
                )
            if line.delivered:
                post(
                    lock_level(req.supplier, line.item),
                    -line.delivered,
                    K.DELIVERY,
                    user,
                    at=at,
                    requisition=req,
                    counterpart=req.store,
                )
        RequisitionLine.objects.bulk_update(lines, ["delivered"])
        return req.transition(S.DELIVERED, carrier, delivered_by=user, delivered_at=at, carrier=carrier)


def receive(user, req, received=None, at=None):
    """The post receives: per line id (quantity, reason); a quantity other than delivered needs its
    reason and writes a discrepancy row after the receipt row, so the ledger shows both."""
    with transaction.atomic():
        req = _lock_req(req)
        if req.status != S.DELIVERED:
            raise ValidationError(_("Only a delivered requisition is received."), code="state")
        _at_store(user, req.store, RECEIVE, _("You may not receive at this store."))
        received = received or {}
        at = at or timezone.now()
        lines = list(req.lines.select_related("item").order_by("item_id"))
        differs = False
        for line in lines:
            quantity, reason = received.get(line.pk, (line.delivered, ""))
            line.received = _qty(quantity, allow_zero=True)
            if line.received != line.delivered:
                line.discrepancy_reason = _needs_text(
                    reason,
                    _("%(item)s: say why the quantity received differs from the delivery.")
                    % {"item": line.item},
                )
                differs = True
            if not (line.delivered or line.received):
                continue
            level = lock_level(req.store, line.item)
            if line.delivered:
                post(
                    level,
                    line.delivered,
                    K.RECEIPT_REQ,
                    user,
                    at=at,
                    requisition=req,
                    counterpart=req.supplier,
                )
            if line.received != line.delivered:
                post(
                    level,
                    line.received - line.delivered,
                    K.DISCREPANCY,
                    user,
                    at=at,
                    requisition=req,
                    counterpart=req.supplier,
                    reason=line.discrepancy_reason,
                )
        RequisitionLine.objects.bulk_update(lines, ["received", "discrepancy_reason"])
        return req.transition(S.RECEIVED, "", received_by=user, received_at=at, has_discrepancy=differs)


def cancel(user, req, reason):
    with transaction.atomic():
        req = _lock_req(req)
        _at_store(user, req.store, REQUEST, _("Only the requesting store cancels its requisition."))
        reason = _needs_text(reason, _("Give a reason for cancelling."))
        return req.transition(S.CANCELLED, reason, decision_note=reason)


# -- donations and allocations --------------------------------------------------------------------


def register_donation(
    user,
    *,
    number,
    donor_name,
    received_on,
    area,
    recipient_unit,
    lines,
    store=None,
    donor_kind=Donation.DonorKind.ENTERPRISE,
    directed=False,
    directed_to="",
    anonymous=False,
    note="",
    at=None,
):
    """A donation received: `lines` [{kind, item, quantity, value}]. Goods go into `store` as
    donated stock (reserved until allocated), money into the unit's fund; each line one ledger
    row. The number is the natural key: registering it again returns the first, unchanged."""
    if user is not None and not may_at(user, DONATE, area):
        raise PermissionDenied(_("You may not register donations for this unit."))
    existing = Donation.objects.filter(number=number).first()
    if existing is not None:
        return existing, False
    if not lines:
        raise ValidationError(_("A donation has at least one line of money or goods."), code="lines")
    if directed and not (directed_to or "").strip():
        raise ValidationError(_("A directed donation names its recipient."), code="directed_to")
    goods = [line for line in lines if line["kind"] == DonationLine.Kind.GOODS]
    if goods and store is None:
        raise ValidationError(_("Say which store keeps the donated goods."), code="store")
    if store is not None and not store.area.path.startswith(area.path):
        raise ValidationError(_("The store keeping the goods lies outside the receiving unit."), code="store")
    at = at or timezone.now()
    with transaction.atomic():
        donation = Donation.objects.create(
            number=number,
            donor_name=donor_name,
            donor_kind=donor_kind,
            anonymous=anonymous,
            received_on=received_on,
            area=area,
            recipient_unit=recipient_unit,
            store=store if goods else None,
            directed=directed,
            directed_to=(directed_to or "").strip() if directed else "",
            note=note,
            registered_by=user,
        )
        for data in lines:
            _receive_line(user, donation, data, at)
        return donation, True


def _receive_line(user, donation, data, at):
    quantity = _qty(data["quantity"])
    value = _qty(
        data.get("value") or (quantity if data["kind"] == DonationLine.Kind.MONEY else 0), allow_zero=True
    )
    line = DonationLine.objects.create(
        donation=donation, kind=data["kind"], item=data.get("item"), quantity=quantity, value=value
    )
    if line.kind == DonationLine.Kind.MONEY:
        Movement.objects.create(
            at=at,
            kind=K.DONATION_IN,
            area=donation.area,
            quantity=quantity,
            value=value,
            by=user,
            donation_line=line,
        )
    else:
        level = lock_level(donation.store, line.item)
        post(
            level,
            quantity,
            K.DONATION_IN,
            user,
            reserved_delta=quantity,
            at=at,
            donation_line=line,
            value=value,
        )
    return line


def allocate(user, line, quantity, recipient_name, reason, recipient_store=None, at=None):
    """Part of a donation line to a recipient, approved by `user` with a reason. The line's row is
    locked and the quantity claimed by a conditional UPDATE: two allocations of the last masks
    cannot both pass. A directed donation goes to its named recipient only."""
    donation = line.donation
    if user is not None and not may_at(user, ALLOCATE, donation.area):
        raise PermissionDenied(_("You may not allocate this unit's donations."))
    quantity = _qty(quantity)
    recipient_name = (recipient_name or "").strip()
    if recipient_store is not None and not recipient_name:
        recipient_name = recipient_store.name
    if not recipient_name:
        raise ValidationError(_("Name the recipient."), code="recipient")
    reason = _needs_text(reason, _("Give the reason for the allocation."))
    if donation.directed and recipient_name != donation.directed_to:
        raise ValidationError(
            _("This donation is directed to %(name)s: it goes to them only.")
            % {"name": donation.directed_to},
            code="directed",
        )
    at = at or timezone.now()
    with transaction.atomic():
        locked = (
            DonationLine.objects.select_for_update(of=("self",))
            .select_related("donation", "item")
            .get(pk=line.pk)
        )
        # What purchases spent of a money line is no longer there to allocate.
        claimed = DonationLine.objects.filter(
            pk=locked.pk, allocated__lte=F("quantity") - F("spent") - quantity
        ).update(allocated=F("allocated") + quantity)
        if not claimed:
            raise ValidationError(
                _("Only %(n)s %(unit)s of this line are left to allocate.")
                % {"n": _fmt(locked.remaining), "unit": locked.unit},
                code="over",
            )
        value = (locked.value * quantity / locked.quantity).quantize(CENT)
        allocation = Allocation.objects.create(
            line=locked,
            quantity=quantity,
            value=value,
            recipient_name=recipient_name,
            recipient_store=recipient_store,
            approved_by=user,
            reason=reason,
            at=at,
        )
        links = {"donation_line": locked, "allocation": allocation, "value": -value}
        if locked.kind == DonationLine.Kind.MONEY:
            Movement.objects.create(
                at=at,
                kind=K.ALLOCATION_OUT,
                area=donation.area,
                quantity=-quantity,
                by=user,
                reason=reason,
                **links,
            )
        else:
            post(
                lock_level(donation.store, locked.item),
                -quantity,
                K.ALLOCATION_OUT,
                user,
                reserved_delta=-quantity,
                reason=reason,
                at=at,
                counterpart=recipient_store,
                **links,
            )
            if recipient_store is not None:
                # Into the recipient's stock as ordinary stock: no longer the donation's line.
                post(
                    lock_level(recipient_store, locked.item),
                    quantity,
                    K.ALLOCATION_IN,
                    user,
                    reason=reason,
                    at=at,
                    counterpart=donation.store,
                    allocation=allocation,
                    value=value,
                )
        return allocation


# -- purchases 采购: donated money spent on goods --------------------------------------------------


def _directed_check(line, recipient_name):
    """Directed money buys for its named recipient only, as directed goods go to them only."""
    donation = line.donation
    if donation.directed and recipient_name != donation.directed_to:
        raise ValidationError(
            _("%(donation)s is directed to %(name)s: its money buys for them only.")
            % {"donation": donation.number, "name": donation.directed_to},
            code="directed",
        )


def propose_purchase(
    user,
    *,
    area,
    supplier,
    reason,
    store,
    lines,
    funding=None,
    pooled=False,
    recipient_name="",
    invoice="",
    purchased_on=None,
    at=None,
):
    """A purchase proposed for approval: `lines` [(item, quantity, unit price)], paid either from
    `funding` [(money DonationLine, yuan)] adding up to the total, or (`pooled`) from the unit's
    undirected money, drawn when approved. Nothing is paid yet: approval pays."""
    if user is not None and not may_at(user, PURCHASE, area):
        raise PermissionDenied(_("You may not propose purchases for this unit."))
    if user is not None and not Store.objects.restrict(user, "view").filter(pk=store.pk).exists():
        raise PermissionDenied(_("You may not buy into this store."))
    supplier = _needs_text(supplier, _("Name the supplier."), code="supplier")
    reason = _needs_text(reason, _("Give the reason for the purchase."))
    if not lines:
        raise ValidationError(_("Buy at least one item."), code="lines")
    items = [line[0].pk for line in lines]
    if len(set(items)) != len(items):
        raise ValidationError(_("Each item once per purchase."), code="lines")
    priced = [(item, _qty(quantity), _qty(price)) for item, quantity, price in lines]
    for item, quantity, price in priced:
        if not (quantity * price).quantize(CENT):
            raise ValidationError(
                _("%(item)s costs less than a cent: check the quantity and the unit price.") % {"item": item},
                code="quantity",
            )
    total = sum(((quantity * price).quantize(CENT) for _item, quantity, price in priced), ZERO)
    recipient_name = (recipient_name or "").strip() or store.name
    # The lines as they stand now (the caller's copies may predate an allocation or a purchase).
    fresh = DonationLine.objects.select_related("donation__area").in_bulk(
        [line.pk for line, _a in funding or []]
    )
    funding = [(fresh[line.pk], _qty(amount)) for line, amount in (funding or [])]
    if bool(pooled) == bool(funding):
        raise ValidationError(
            _("Name the donated money that pays, or pay from the unit's undirected money."), code="funding"
        )
    if len({line.pk for line, _amount in funding}) != len(funding):
        raise ValidationError(_("Each donation's money once per purchase."), code="funding")
    for line, amount in funding:
        if line.kind != DonationLine.Kind.MONEY:
            raise ValidationError(_("Only donated money pays for a purchase."), code="funding")
        if not line.donation.area.path.startswith(area.path):
            raise ValidationError(
                _("%(donation)s was received outside the purchasing unit.")
                % {"donation": line.donation.number},
                code="funding",
            )
        _directed_check(line, recipient_name)
        if amount > line.remaining:
            raise ValidationError(_over(line), code="over")
    paid = sum((amount for _line, amount in funding), ZERO)
    if funding and paid != total:
        raise ValidationError(
            _("The donated money named adds up to %(paid)s yuan; the purchase costs %(total)s yuan.")
            % {"paid": _fmt(paid), "total": _fmt(total)},
            code="funding",
        )
    with transaction.atomic():
        purchase = Purchase.objects.create(
            area=area,
            supplier=supplier,
            invoice=(invoice or "").strip(),
            purchased_on=purchased_on or timezone.localdate(),
            reason=reason,
            recipient_name=recipient_name,
            store=store,
            pooled=bool(pooled),
            total=total,
            requested_by=user,
            requested_at=at or timezone.now(),
        )
        for item, quantity, price in priced:
            PurchaseLine.objects.create(
                purchase=purchase,
                item=item,
                quantity=quantity,
                unit_price=price,
                amount=(quantity * price).quantize(CENT),
            )
        for line, amount in funding:
            PurchaseFunding.objects.create(purchase=purchase, line=line, amount=amount)
        log_transition(purchase, "", P.SUBMITTED, reason)
        return purchase


def _over(line):
    return _("Only %(n)s yuan of the money of %(donation)s is left.") % {
        "n": _fmt(line.remaining),
        "donation": line.donation.number,
    }


def _lock_purchase(purchase):
    return (
        Purchase.objects.select_for_update(of=("self",))
        .select_related("area", "store__area")
        .get(pk=purchase.pk)
    )


def _expect(purchase, target, message):
    # Before any money moves: a purchase in the wrong state says so, not "money short".
    if target not in purchase.allowed_transitions():
        raise ValidationError(message, code="state")


def may_decide_purchase(user, purchase):
    """An approver of the purchasing unit who did not propose it (four eyes on donated money)."""
    if user is None:
        return True
    return may_at(user, APPROVE_PURCHASE, purchase.area) and purchase.requested_by_id != user.pk


def _check_purchase_decider(user, purchase):
    if user is not None and not may_at(user, APPROVE_PURCHASE, purchase.area):
        raise PermissionDenied(_("You may not approve this unit's purchases."))
    if user is not None and purchase.requested_by_id == user.pk:
        raise PermissionDenied(_("You cannot approve your own purchase."))


def approve_purchase(user, purchase, note="", at=None):
    """The approver pays. Each money line is locked (in id order: two approvals cannot deadlock),
    its `spent` claimed by a conditional UPDATE (allocated + spent ≤ received), then its payment
    row written: two purchases, or a purchase and an allocation, cannot both take the last of a
    gift. A pooled purchase first draws the unit's undirected money, oldest gift first."""
    at = at or timezone.now()
    with transaction.atomic():
        purchase = _lock_purchase(purchase)
        _check_purchase_decider(user, purchase)
        _expect(purchase, P.APPROVED, _("Only a purchase awaiting approval is approved."))
        if purchase.pooled:
            shares = _draw_undirected(purchase)
        else:
            shares = list(purchase.funding.values_list("line_id", "amount"))
        for line_id, amount in sorted(shares):
            _pay(user, purchase, line_id, amount, at)
        return purchase.transition(P.APPROVED, note, approver=user, approved_at=at, decision_note=note)


def _lock_lines(queryset):
    return queryset.select_for_update(of=("self",)).select_related("donation").order_by("pk")


def _pay(user, purchase, line_id, amount, at):
    locked = _lock_lines(DonationLine.objects.filter(pk=line_id)).get()
    _directed_check(locked, purchase.recipient_name)
    claimed = DonationLine.objects.filter(
        pk=locked.pk, spent__lte=F("quantity") - F("allocated") - amount
    ).update(spent=F("spent") + amount)
    if not claimed:
        raise ValidationError(_over(locked), code="over")
    _payment_row(user, purchase, locked, -amount, purchase.reason, at)


def _payment_row(user, purchase, line, amount, reason, at):
    """The ledger's row of money leaving a line for a purchase (negative) or given back (positive)."""
    Movement.objects.create(
        at=at,
        kind=K.PURCHASE_PAYMENT,
        area_id=line.donation.area_id,
        quantity=amount,
        value=amount,
        by=user,
        reason=reason,
        donation_line=line,
        purchase=purchase,
    )


def _draw_undirected(purchase):
    """The undirected money of donations received within the purchasing unit, oldest gift first,
    as [(line id, amount)] covering the total; recorded as the purchase's funding."""
    candidates = list(
        _lock_lines(
            DonationLine.objects.filter(
                kind=DonationLine.Kind.MONEY,
                donation__directed=False,
                donation__area__path__startswith=purchase.area.path,
                spent__lt=F("quantity") - F("allocated"),
            )
        )
    )
    candidates.sort(key=lambda line: (line.donation.received_on, line.donation_id, line.pk))
    left, shares = purchase.total, []
    for line in candidates:
        if not left:
            break
        take = min(left, line.remaining)
        shares.append((line, take))
        left -= take
    if left:
        raise ValidationError(
            _("Only %(n)s yuan of undirected donated money is left; the purchase costs %(total)s yuan.")
            % {"n": _fmt(purchase.total - left), "total": _fmt(purchase.total)},
            code="over",
        )
    for line, amount in shares:
        PurchaseFunding.objects.create(purchase=purchase, line=line, amount=amount)
    return [(line.pk, amount) for line, amount in shares]


def reject_purchase(user, purchase, reason, at=None):
    with transaction.atomic():
        purchase = _lock_purchase(purchase)
        _check_purchase_decider(user, purchase)
        reason = _needs_text(reason, _("Give a reason for the rejection."))
        return purchase.transition(
            P.REJECTED, reason, approver=user, approved_at=at or timezone.now(), decision_note=reason
        )


def may_cancel_purchase(user, purchase):
    """Withdrawn by its unit while it awaits approval; once paid, by an approver only."""
    if purchase.status not in Purchase.OPEN:
        return False
    perm = APPROVE_PURCHASE if purchase.status == P.APPROVED else PURCHASE
    return may_at(user, perm, purchase.area)


def cancel_purchase(user, purchase, reason, at=None):
    """Cancelled before the goods came. A paid purchase gives its money back to every line it
    came from (a positive payment row each, with the reason): received = allocated + spent +
    balance still holds and the public table no longer counts it."""
    at = at or timezone.now()
    with transaction.atomic():
        purchase = _lock_purchase(purchase)
        if purchase.is_open and not may_cancel_purchase(user, purchase):
            raise PermissionDenied(
                _("You may not cancel this purchase: once paid, an approver of its unit cancels it.")
            )
        reason = _needs_text(reason, _("Give a reason for cancelling."))
        _expect(purchase, P.CANCELLED, _("Only an open purchase is cancelled."))
        if purchase.status == P.APPROVED:
            for funding in purchase.funding.order_by("line_id"):
                locked = _lock_lines(DonationLine.objects.filter(pk=funding.line_id)).get()
                DonationLine.objects.filter(pk=locked.pk).update(spent=F("spent") - funding.amount)
                _payment_row(user, purchase, locked, funding.amount, reason, at)
        return purchase.transition(P.CANCELLED, reason, decision_note=reason)


def receive_purchase(user, purchase, received=None, at=None):
    """The store receives the goods: per line id (quantity, reason), by default as ordered; a
    quantity other than ordered needs its reason. Each line comes in as one `purchase_in` row
    linked to the purchase line, ordinary stock of the store (as goods allocated into a store)."""
    at = at or timezone.now()
    with transaction.atomic():
        purchase = _lock_purchase(purchase)
        _expect(purchase, P.RECEIVED, _("Only an approved purchase is received."))
        _at_store(user, purchase.store, RECEIVE_PURCHASE, _("You may not receive at this store."))
        received = received or {}
        differs = False
        for line in purchase.lines.select_related("item").order_by("item_id"):
            quantity, reason = received.get(line.pk, (line.quantity, ""))
            line.received = _qty(quantity, allow_zero=True)
            if line.received != line.quantity:
                line.discrepancy_reason = _needs_text(
                    reason,
                    _("%(item)s: say why the quantity received differs from the order.")
                    % {"item": line.item},
                )
                differs = True
            line.save(update_fields=["received", "discrepancy_reason", "last_updated"])
            if line.received:
                post(
                    lock_level(purchase.store, line.item),
                    line.received,
                    K.PURCHASE_IN,
                    user,
                    reason=line.discrepancy_reason,
                    at=at,
                    purchase=purchase,
                    purchase_line=line,
                    value=(line.received * line.unit_price).quantize(CENT),
                )
        return purchase.transition(P.RECEIVED, "", received_by=user, received_at=at, has_discrepancy=differs)


def purchases_to_decide_q(user):
    """Purchases awaiting approval in the units where the user approves, not their own."""
    decidable = Purchase.objects.restrict(user, perm=APPROVE_PURCHASE).values("pk")
    return Q(status=P.SUBMITTED) & ~Q(requested_by=user) & Q(pk__in=decidable)


def _sum_when(kind, sign=1):
    return Coalesce(
        Sum(
            Case(When(kind=kind, then=F("quantity") * sign), default=Value(ZERO), output_field=DecimalField())
        ),
        Value(ZERO),
        output_field=DecimalField(),
    )


def allocation_table(lines):
    """The public allocation table of donation `lines` (a DonationLine queryset), read from the
    ledger: per line, received (donation-in rows), allocated (allocation-out rows), spent on
    purchases (payment rows, money only) and in stock (every row of the line), with its
    allocations and what its money bought. received = allocated + spent + in stock holds because
    only those three kinds of row carry a donation line."""
    sums = {
        row["donation_line"]: row
        for row in Movement.objects.filter(donation_line__in=lines.values("pk"))
        .values("donation_line")
        .annotate(
            received=_sum_when(K.DONATION_IN),
            allocated=_sum_when(K.ALLOCATION_OUT, -1),
            spent=_sum_when(K.PURCHASE_PAYMENT, -1),
            in_stock=Coalesce(Sum("quantity"), Value(ZERO), output_field=DecimalField()),
        )
        .order_by()
    }
    bought = purchases_of(lines)
    rows = []
    for line in (
        lines.select_related("donation", "item")
        .prefetch_related("allocations")
        .order_by("donation__received_on", "donation__number", "id")
    ):
        figures = sums.get(line.pk, {"received": ZERO, "allocated": ZERO, "spent": ZERO, "in_stock": ZERO})
        rows.append(
            {
                "line": line,
                "donation": line.donation,
                "received": figures["received"],
                "allocated": figures["allocated"],
                "spent": figures["spent"],
                "in_stock": figures["in_stock"],
                "allocations": sorted(line.allocations.all(), key=lambda a: (a.at, a.pk)),
                "purchases": bought.get(line.pk, []),
            }
        )
    return rows


def purchases_of(lines):
    """What the money of donation `lines` bought: {line id: [PurchaseFunding]} of the paid
    purchases (approved or received), each with its purchase, store and goods."""
    fundings = (
        PurchaseFunding.objects.filter(line__in=lines.values("pk"), purchase__status__in=Purchase.PAID)
        .select_related("purchase__store")
        .prefetch_related(Prefetch("purchase__lines", queryset=PurchaseLine.objects.select_related("item")))
        .order_by("purchase__purchased_on", "purchase_id")
    )
    bought = {}
    for funding in fundings:
        bought.setdefault(funding.line_id, []).append(funding)
    return bought


def totals(rows):
    """Money received, allocated and spent on purchases, and goods' value received and allocated,
    over the table's rows."""
    out = {
        "money_received": ZERO,
        "money_allocated": ZERO,
        "money_spent": ZERO,
        "goods_value": ZERO,
        "goods_value_allocated": ZERO,
    }
    for row in rows:
        line = row["line"]
        if line.kind == DonationLine.Kind.MONEY:
            out["money_received"] += row["received"]
            out["money_allocated"] += row["allocated"]
            out["money_spent"] += row["spent"]
        else:
            out["goods_value"] += line.value
            out["goods_value_allocated"] += (line.value * row["allocated"] / line.quantity).quantize(CENT)
    return out


def stock_board(levels):
    """The stock levels with days of cover and whether under the minimum, for the board: the
    below-minimum first, then the fewest days of cover."""
    rows = list(levels.select_related("store__area", "item"))
    rows.sort(
        key=lambda r: (
            not r.below_min,
            r.days_of_cover if r.days_of_cover is not None else decimal.Decimal("1e9"),
        )
    )
    return rows


def below_minimum(user):
    """The stock levels the user sees that are under their minimum (the tile's and the board's)."""
    from epigrid.supplies.models import below_min_q

    return StockLevel.objects.restrict(user, "view").filter(below_min_q())


def open_requisitions_q():
    return Q(status__in=Requisition.OPEN)


def to_decide_q(user):
    """Submitted requisitions of stores below the user's approval grants (the level above's list)."""
    paths = user.scope_paths(APPROVE)
    if paths is None:
        return Q(status=S.SUBMITTED)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(store__area__path__startswith=path) & ~Q(store__area__path=path)
    return Q(status=S.SUBMITTED) & q
