"""The affiliate portal's pages (public host, behind affiliate_required): the overview (figures, conversion rates,
charts over the last months, the link builder and the promotion code), commissions by status with their invoice
month, and payouts. Every read is for `request.affiliate`, the caller's own account."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from affiliates.access import affiliate_required
from affiliates.models import Commission
from affiliates.portal.selectors import (
    affiliate_link,
    affiliate_ref_link,
    commission_list,
    commission_totals,
    main_currency,
    month_series,
    payout_list,
    portal_figures,
)
from billing.analytics.charts import ChartSeries, month_chart

CHART_MONTHS = 6
COMMISSIONS_PER_PAGE = 50
DEFAULT_CURRENCY = "USD"


class LinkForm(forms.Form):
    to = forms.CharField(max_length=500, required=False, label="Page of the public site",
                         help_text="A path such as /pricing/ (or a full address on this site).")

    def clean_to(self) -> str:
        """A path on the public site only: a link that sends visitors elsewhere would make the redirect an open
        one. A full address on this site is reduced to its path."""
        value = self.cleaned_data["to"].strip() or "/"
        parts = urlsplit(value)
        if parts.scheme or parts.netloc:
            if parts.scheme not in ("http", "https") or parts.hostname != settings.BASE_DOMAIN:
                raise forms.ValidationError(f"Links go to pages of {settings.BASE_DOMAIN} only.")
            value = parts.path or "/"
            if parts.query:
                value = f"{value}?{parts.query}"
        if not value.startswith("/") or value.startswith("//") or "\\" in value:
            raise forms.ValidationError("Start the path with a single /, e.g. /pricing/.")
        return value


@affiliate_required
@require_GET
def portal_overview(request: HttpRequest) -> HttpResponse:
    affiliate = request.affiliate
    link_form = LinkForm(request.GET or None)
    built_link = affiliate_link(code=affiliate.code, to=link_form.cleaned_data["to"]) if link_form.is_valid() else None
    currency = main_currency(affiliate=affiliate, default=DEFAULT_CURRENCY)
    months = _last_months(timezone.now().date(), CHART_MONTHS)
    series = month_series(affiliate=affiliate, months=months, currency=currency)
    return render(request, "affiliates/portal/overview.html", {
        "affiliate": affiliate,
        "figures": portal_figures(affiliate=affiliate),
        "totals": commission_totals(affiliate=affiliate),
        "home_link": affiliate_link(code=affiliate.code),
        "ref_link": affiliate_ref_link(code=affiliate.code),
        "link_form": link_form,
        "built_link": built_link,
        "recent_commissions": list(commission_list(affiliate=affiliate)[:5]),
        "charts": {
            "activity": month_chart(months=months, series=[ChartSeries("Clicks", series.clicks),
                                                           ChartSeries("Signups", series.signups)], currency=""),
            "commissions": month_chart(months=months, series=[ChartSeries("Commissions", series.commissions)],
                                       currency=currency),
        },
        "currency": currency,
    }, status=400 if link_form.errors else 200)


@affiliate_required
@require_GET
def portal_commissions(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Commission.Status.values:
        status = ""
    page = Paginator(commission_list(affiliate=request.affiliate, status=status or None),
                     COMMISSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "affiliates/portal/commissions.html", {
        "affiliate": request.affiliate, "page": page, "status": status,
        "statuses": Commission.Status.choices, "totals": commission_totals(affiliate=request.affiliate),
    })


@affiliate_required
@require_GET
def portal_payouts(request: HttpRequest) -> HttpResponse:
    return render(request, "affiliates/portal/payouts.html", {
        "affiliate": request.affiliate, "payouts": list(payout_list(affiliate=request.affiliate)),
    })


def _last_months(today: date, count: int) -> list[date]:
    """The first days of the `count` months ending with today's, oldest first."""
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]
