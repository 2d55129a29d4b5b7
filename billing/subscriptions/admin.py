"""Ops admin for subscriptions (public host only): the list, each subscription with its history, pending items and
discounts (read-only), and the lifecycle through billing.subscriptions.services only: change price or seats
(previewed first, downgrades forced now if ops say so), extend a trial, apply a coupon, pause, resume, cancel
now or at the period's end, reactivate. Nothing here edits a subscription's fields: the services record who did
what (the operator's email) and apply entitlements at once. Their refusals become messages or form errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from billing.errors import BillingError
from billing.models import Coupon, CouponRedemption, PendingInvoiceItem, Price, Subscription, SubscriptionEvent
from billing.subscriptions.services import (
    ChangePreview,
    coupon_apply,
    subscription_cancel,
    subscription_change,
    subscription_change_preview,
    subscription_pause,
    subscription_reactivate,
    subscription_resume,
    subscription_trial_extend,
)
from config.admin import ReadOnlyAdminMixin
from config.money import Money, money_format, money_round

Status = Subscription.Status
SUBSCRIPTION_FIELDS = ["tenant", "plan", "price", "status", "quantity", "current_period_start", "current_period_end",
                       "trial_end", "trial_reminder_sent_at", "cancel_at_period_end", "scheduled_price",
                       "scheduled_quantity", "collection_method", "billing_anchor", "paused_at", "past_due_since",
                       "canceled_at", "ended_at", "created_at", "updated_at"]
# The one-click operations (a confirmation page, then the service): name -> (service, label, done message).
OPERATIONS = {
    "pause": (subscription_pause, "Pause", "Paused"),
    "resume": (subscription_resume, "Resume", "Resumed"),
    "reactivate": (subscription_reactivate, "Reactivate", "Reactivated"),
}


def _confirm_form(request: HttpRequest) -> forms.Form:
    """A confirmation: bound on POST even when nothing but the CSRF token (or, in tests, nothing) is posted."""
    return forms.Form(request.POST if request.method == "POST" else None)


def _form_error(form: forms.Form, error: BillingError) -> None:
    """A service's refusal on the field it names when the form has it, else on the whole form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _changes(event: SubscriptionEvent) -> str:
    before, after = event.before or {}, event.after or {}
    changed = [f"{name}: {before.get(name, '-')} → {after.get(name, '-')}"
               for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]
    return "; ".join(changed) or "-"


class SubscriptionEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SubscriptionEvent
    fields = ["created_at", "action", "actor", "changes"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    extra = 0
    verbose_name_plural = "history"

    @admin.display(description="What changed (before → after)")
    def changes(self, event: SubscriptionEvent) -> str:
        return _changes(event)


class PendingInvoiceItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PendingInvoiceItem
    fields = ["created_at", "kind", "description", "amount_display", "period_start", "period_end", "invoice"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "pending items (prorations waiting for an invoice, and those already invoiced)"

    @admin.display(description="Amount")
    def amount_display(self, item: PendingInvoiceItem) -> str:
        return money_format(Money(item.amount_exact, item.currency))


class CouponRedemptionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CouponRedemption
    fk_name = "subscription"
    fields = ["coupon", "promotion_code", "periods_left", "redeemed_at", "ended_at", "redeemed_by"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "discounts"


class PriceChangeForm(forms.Form):
    price = forms.ModelChoiceField(queryset=Price.objects.none(), help_text="Same currency; private plans allowed.")
    quantity = forms.IntegerField(min_value=1, label="Seats")
    force_now = forms.BooleanField(required=False, label="Apply a downgrade or fewer seats now",
                                   help_text="Otherwise they wait for the period's end (upgrades apply now anyway).")

    def __init__(self, *args, subscription: Subscription, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].queryset = (Price.objects.filter(is_active=True, plan__is_active=True,
                                                              currency=subscription.price.currency)
                                         .select_related("plan"))
        self.fields["price"].label_from_instance = (
            lambda price: f"{price.plan.name}: {price.code} ({money_format(price.fixed_money)} "
                          f"{price.get_interval_display().lower()})")


class TrialExtendForm(forms.Form):
    trial_end = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="UTC. Later than now; the reminder is sent again if the new end leaves time for it.")


class CouponApplyForm(forms.Form):
    coupon = forms.ModelChoiceField(queryset=Coupon.objects.filter(is_active=True),
                                    help_text="Its own limits and plan restrictions apply; one discount at a time.")


class CancelForm(forms.Form):
    WHEN = [("period_end", "At the end of the current period (the tenant may reactivate until then)"),
            ("now", "Now (the usage so far is invoiced at once)")]
    when = forms.ChoiceField(choices=WHEN, widget=forms.RadioSelect, initial="period_end")
    prorate_credit = forms.BooleanField(required=False, label="Credit the unused time",
                                        help_text="Now only, on an active subscription: to the account credit.")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["tenant", "plan", "price", "status", "quantity", "current_period_start", "current_period_end",
                    "trial_end", "cancel_at_period_end", "scheduled_display"]
    list_filter = ["status", "plan", "cancel_at_period_end", "collection_method", "billing_anchor"]
    search_fields = ["tenant__slug", "tenant__name", "price__code"]
    list_select_related = ["tenant", "plan", "price", "scheduled_price"]
    date_hierarchy = "current_period_end"
    ordering = ["-created_at"]
    fields = SUBSCRIPTION_FIELDS
    readonly_fields = SUBSCRIPTION_FIELDS
    inlines = [SubscriptionEventInline, PendingInvoiceItemInline, CouponRedemptionInline]
    actions = ["pause", "resume", "reactivate", "cancel_at_period_end", "cancel_now"]
    change_form_template = "billing/admin/subscription_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tenants subscribe on their billing page; a subscription is never typed in field by field.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Subscription | None = None) -> bool:
        # Invoices and history point at it: cancel it instead.
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Every field is read-only: changes are the actions above the form, never a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="At period end")
    def scheduled_display(self, subscription: Subscription) -> str:
        parts = []
        if subscription.scheduled_price_id:
            parts.append(f"moves to {subscription.scheduled_price}")
        if subscription.scheduled_quantity:
            parts.append(f"{subscription.scheduled_quantity} seat(s)")
        return ", ".join(parts) or "-"

    # --- Actions on the list ------------------------------------------------------------------------------------

    @admin.action(description="Pause the selected subscriptions", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        self._each(request, queryset, "Paused", subscription_pause)

    @admin.action(description="Resume the selected subscriptions", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        self._each(request, queryset, "Resumed", subscription_resume)

    @admin.action(description="Reactivate the selected subscriptions (undo a cancellation at period end)",
                  permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        self._each(request, queryset, "Reactivated", subscription_reactivate)

    @admin.action(description="Cancel the selected subscriptions at their period end", permissions=["change"])
    def cancel_at_period_end(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        self._each(request, queryset, "Canceled at period end", subscription_cancel, at_period_end=True)

    @admin.action(description="Cancel the selected subscriptions now (no credit)", permissions=["change"])
    def cancel_now(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        self._each(request, queryset, "Canceled", subscription_cancel, at_period_end=False)

    def _each(self, request: HttpRequest, queryset: QuerySet[Subscription], done_message: str, service,
              **options) -> None:
        done = 0
        for subscription in queryset.select_related("tenant").order_by("pk"):
            try:
                service(subscription=subscription, actor=request.user.email, now=timezone.now(), **options)
                done += 1
            except BillingError as error:
                self.message_user(request, f"{subscription.tenant}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done_message}: {done} subscription(s).", messages.SUCCESS)

    # --- Pages for one subscription -----------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("<path:object_id>/change-price/", view(self.change_price_view),
                 name="billing_subscription_change_price"),
            path("<path:object_id>/extend-trial/", view(self.extend_trial_view),
                 name="billing_subscription_extend_trial"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name="billing_subscription_cancel"),
            path("<path:object_id>/coupon/", view(self.coupon_view), name="billing_subscription_coupon"),
            path("<path:object_id>/operation/<slug:operation>/", view(self.operation_view),
                 name="billing_subscription_operation"),
            *super().get_urls(),
        ]

    def _subscription(self, request: HttpRequest, object_id: str) -> Subscription:
        subscription = self.get_object(request, unquote(object_id))
        if subscription is None:
            raise Http404("No such subscription.")
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        return subscription

    def _page(self, request: HttpRequest, subscription: Subscription, *, title: str, form: forms.Form,
              submit_label: str, intro: str = "", template: str = "billing/admin/object_form.html",
              **context) -> TemplateResponse:
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": subscription,
            "title": title, "intro": intro, "form": form, "submit_label": submit_label, **context,
        }, status=400 if form.errors else 200)

    def _done(self, request: HttpRequest, subscription: Subscription, message: str) -> HttpResponseRedirect:
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_subscription_change", args=[subscription.pk]))

    def change_price_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        subscription = self._subscription(request, object_id)
        form = PriceChangeForm(request.POST or None, subscription=subscription,
                               initial={"price": subscription.price_id, "quantity": subscription.quantity})
        preview = None
        if request.method == "POST" and form.is_valid():
            changes = {"price": form.cleaned_data["price"], "quantity": form.cleaned_data["quantity"],
                       "force_now": form.cleaned_data["force_now"], "allow_private": True}
            try:
                if "_preview" in request.POST:
                    preview = subscription_change_preview(subscription=subscription, now=timezone.now(), **changes)
                else:
                    subscription = subscription_change(subscription=subscription, actor=request.user.email,
                                                       now=timezone.now(), **changes)
                    return self._done(request, subscription, f"Changed: {subscription.tenant} is on "
                                                             f"{subscription.price} with {subscription.quantity} "
                                                             f"seat(s), or will be at the period's end.")
            except BillingError as error:
                _form_error(form, error)
        return self._page(request, subscription, title=f"Change the price or seats of {subscription.tenant}",
                          form=form, submit_label="Apply the change", preview=_preview_display(preview),
                          intro=f"Now on {subscription.price} with {subscription.quantity} seat(s). Preview a "
                                f"change to see its prorations before applying it.",
                          template="billing/admin/subscription_change_price.html")

    def extend_trial_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        subscription = self._subscription(request, object_id)
        form = TrialExtendForm(request.POST or None, initial={"trial_end": subscription.trial_end})
        if request.method == "POST" and form.is_valid():
            try:
                subscription = subscription_trial_extend(subscription=subscription,
                                                         trial_end=form.cleaned_data["trial_end"],
                                                         actor=request.user.email, now=timezone.now())
            except BillingError as error:
                _form_error(form, error)
            else:
                return self._done(request, subscription,
                                  f"The trial of {subscription.tenant} now ends {_moment(subscription.trial_end)}.")
        return self._page(request, subscription, title=f"Extend the trial of {subscription.tenant}", form=form,
                          submit_label="Extend the trial",
                          intro=f"The trial ends {_moment(subscription.trial_end)}." if subscription.trial_end
                          else "This subscription has no trial.")

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        subscription = self._subscription(request, object_id)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            at_period_end = form.cleaned_data["when"] == "period_end"
            try:
                subscription = subscription_cancel(subscription=subscription, actor=request.user.email,
                                                   now=timezone.now(), at_period_end=at_period_end,
                                                   prorate_credit=form.cleaned_data["prorate_credit"])
            except BillingError as error:
                _form_error(form, error)
            else:
                ending = _moment(subscription.current_period_end) if at_period_end else "now"
                return self._done(request, subscription, f"The subscription of {subscription.tenant} ends {ending}.")
        return self._page(request, subscription, title=f"Cancel the subscription of {subscription.tenant}",
                          form=form, submit_label="Cancel the subscription",
                          intro=f"The current period ends {_moment(subscription.current_period_end)}.")

    def coupon_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        subscription = self._subscription(request, object_id)
        form = CouponApplyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                redemption = coupon_apply(subscription=subscription, coupon=form.cleaned_data["coupon"],
                                          actor=request.user.email, now=timezone.now())
            except BillingError as error:
                form.add_error("coupon", error.message)
            else:
                return self._done(request, subscription, f"Applied {redemption.coupon} to {subscription.tenant}.")
        return self._page(request, subscription, title=f"Apply a coupon to {subscription.tenant}", form=form,
                          submit_label="Apply the coupon",
                          intro="The coupon discounts the subscription's next invoices (once, for some periods or "
                                "forever), without a promotion code.")

    def operation_view(self, request: HttpRequest, object_id: str, operation: str) -> HttpResponse:
        subscription = self._subscription(request, object_id)
        if operation not in OPERATIONS:
            raise Http404("No such operation.")
        service, label, done_message = OPERATIONS[operation]
        form = _confirm_form(request)
        if request.method == "POST" and form.is_valid():
            try:
                subscription = service(subscription=subscription, actor=request.user.email, now=timezone.now())
            except BillingError as error:
                form.add_error(None, error.message)
            else:
                return self._done(request, subscription, f"{done_message}: {subscription.tenant}.")
        return self._page(request, subscription, title=f"{label} the subscription of {subscription.tenant}",
                          form=form, submit_label=label,
                          intro=f"{subscription.get_status_display()} on {subscription.price}.")


def _moment(moment: datetime | None) -> str:
    return f"{moment:%d %b %Y %H:%M} UTC" if moment else "-"


def _preview_display(preview: ChangePreview | None) -> dict | None:
    """The preview as the invoice would show it: each line rounded once, the total the sum of rounded lines."""
    if preview is None:
        return None
    amounts = [money_round(Money(line.amount, preview.currency)) for line in preview.lines]
    total = sum(amounts, Money(Decimal(0), preview.currency))
    return {
        "kind": preview.kind.replace("_", " "),
        "effective": "now" if preview.effective == "now" else f"at the period's end ({_moment(preview.effective_at)})",
        "lines": [(line.description, money_format(amount)) for line, amount in zip(preview.lines, amounts,
                                                                                  strict=True)],
        "total": money_format(total),
        "invoice_now": preview.invoice_now,
        "blockers": [blocker.message for blocker in preview.blockers],
    }
