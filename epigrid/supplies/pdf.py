"""The donation certificate 捐赠证书 for the donor (Sahana Eden issues one from inv_recv): who gave
what, to which unit, directed or not, and where it stands — allocated, spent on purchases (with the
goods the money bought and where they went) and still in stock, from the ledger, so the certificate
and the public table can never disagree. Fixed Chinese, like the
offices' exports, whatever the clerk's language; the fonts are embedded by core/pdf.py."""

from fpdf.enums import XPos, YPos

from epigrid.core.pdf import SANS, SERIF, ChinesePDF
from epigrid.supplies import services


def _n(value):
    return f"{value.normalize():,f}" if value is not None else "—"


def _line(pdf, text, size=12, font=SERIF, align="L", height=8):
    pdf.set_font(font, size=size)
    pdf.multi_cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _bought(pdf, fundings):
    """The goods bought with the donor's money: per purchase, its goods, where they went and the
    part this donation paid (a purchase paid from several gifts says so)."""
    if not fundings:
        return
    pdf.ln(4)
    _line(pdf, "您捐赠的资金采购的物资：", size=12, font=SANS)
    for funding in fundings:
        purchase = funding.purchase
        goods = "、".join(f"{pl.item} {_n(pl.goods)}{pl.item.unit}" for pl in purchase.lines.all())
        share = f"使用您的捐款 {_n(funding.amount)} 元"
        if funding.amount != purchase.total:
            share += f"（采购总额 {_n(purchase.total)} 元，多笔捐款共同支付）"
        where = (
            f"已入库{purchase.store.name}"
            if purchase.status == "received"
            else f"待入库{purchase.store.name}"
        )
        _line(
            pdf,
            f"· {purchase.purchased_on:%Y年%m月%d日} 向{purchase.supplier}采购 {goods}，{where}，"
            f"用于{purchase.recipient_name}；{share}。",
            size=11,
            height=7,
        )


def certificate(donation):
    """The certificate of `donation` as PDF bytes."""
    rows = services.allocation_table(donation.lines.all())
    pdf = ChinesePDF()
    pdf.set_title(f"捐赠证书 {donation.number}")
    pdf.set_creator("epigrid")
    pdf.set_lang("zh-hans")
    pdf.set_margins(22, 22, 22)
    pdf.add_page()
    _line(pdf, "捐赠证书", size=26, font=SANS, align="C", height=18)
    _line(pdf, f"编号：{donation.number}", size=10, align="R")
    pdf.ln(6)
    _line(pdf, f"{donation.donor_name}：", size=14, font=SANS)
    pdf.ln(2)
    directed = f"定向捐赠给{donation.directed_to}" if donation.directed else "非定向捐赠"
    _line(
        pdf,
        f"    感谢您于{donation.received_on:%Y年%m月%d日}向{donation.recipient_unit}慷慨捐赠以下款物（{directed}），"
        "用于疫情防控工作。款物已登记入账，去向如下，并在捐赠款物分配公示表中向社会公开。",
        size=13,
        height=9,
    )
    pdf.ln(4)
    widths = (50, 24, 24, 22, 24, 22)
    pdf.set_font(SANS, size=10)
    for width, head in zip(
        widths, ("款物（规格）", "数量", "价值（元）", "已分配", "采购支出", "库存/结余"), strict=True
    ):
        pdf.cell(width, 8, head, border=1, align="C")
    pdf.ln()
    pdf.set_font(SERIF, size=10)
    for row in rows:
        line = row["line"]
        label = "资金" if line.kind == "money" else str(line.item)
        cells = (
            label,
            f"{_n(line.quantity)} {line.unit}",
            _n(line.value),
            _n(row["allocated"]),
            _n(row["spent"]) if line.kind == "money" else "—",
            _n(row["in_stock"]),
        )
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 8, text[:30], border=1, align="L" if width == widths[0] else "R")
        pdf.ln()
    total = sum((row["line"].value for row in rows), start=0)
    pdf.ln(2)
    _line(pdf, f"合计价值：人民币 {_n(total)} 元", size=12, font=SANS)
    _bought(pdf, [funding for row in rows for funding in row["purchases"]])
    pdf.ln(14)
    _line(pdf, f"{donation.recipient_unit}（盖章）", size=13, align="R")
    _line(pdf, f"{donation.received_on:%Y年%m月%d日}", size=13, align="R")
    return bytes(pdf.output())
