"""Ops admin for AI-token wallets (public host only): wallets with their read-only ledger and an "adjust balance"
form, the full ledger, token packs, and purchases with the "mark paid" action (for orders placed before token
packs were invoiced: an invoiced order is paid by marking its invoice paid). Every change to a balance goes
through metering.wallets.services, so it is a ledger entry like any other; nothing here edits a balance or an
entry directly."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from config.admin import ReadOnlyAdminMixin
from config.money import money_format
from metering.models import TokenPack, TokenPurchase, Wallet, WalletEntry
from metering.wallets.services import (
    MAX_TOKENS,
    IdempotencyKeyReused,
    InsufficientBalance,
    WalletError,
    token_purchase_cancel,
    token_purchase_mark_paid,
    wallet_credit,
    wallet_ensure,
)

# The wallet page shows this many of the latest entries; the full ledger is its own list.
INLINE_ENTRIES = 50
ENTRY_FIELDS = ["created_at", "kind", "feature", "tokens", "balance_after", "owed_tokens", "grant", "grant_tokens",
                "refund_of", "reason", "idempotency_key", "created_by", "expires_at"]


class WalletEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WalletEntry
    fields = ENTRY_FIELDS
    readonly_fields = ENTRY_FIELDS
    ordering = ["-id"]
    extra = 0
    can_delete = False
    verbose_name_plural = f"ledger (latest {INLINE_ENTRIES})"


class WalletAddForm(forms.ModelForm):
    class Meta:
        model = Wallet
        fields = ["tenant"]


class WalletAdjustForm(forms.Form):
    tokens = forms.IntegerField(min_value=-MAX_TOKENS, max_value=MAX_TOKENS,
                                help_text="Positive adds tokens, negative removes them (never below zero).")
    reason = forms.CharField(max_length=255, help_text="Written on the ledger entry, which the tenant sees.")
    # One adjustment per form shown: submitting it twice (a double click, a resent POST) adjusts once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_tokens(self) -> int:
        tokens = self.cleaned_data["tokens"]
        if tokens == 0:
            raise forms.ValidationError("An adjustment changes the balance: use a number other than 0.")
        return tokens


class OwesTokensFilter(admin.SimpleListFilter):
    title = "owes tokens"
    parameter_name = "owes"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Wallet]) -> QuerySet[Wallet]:
        if self.value() == "yes":
            return queryset.filter(owed__gt=0)
        if self.value() == "no":
            return queryset.filter(owed=0)
        return queryset


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["tenant", "balance_display", "allowance_display", "owed_display", "low_balance_threshold",
                    "updated_at", "adjust_link"]
    list_filter = [OwesTokensFilter]
    search_fields = ["tenant__slug", "tenant__name"]
    list_select_related = ["tenant"]
    ordering = ["tenant__name"]
    readonly_fields = ["tenant", "balance_display", "allowance_display", "allowance_grant", "owed_display",
                       "low_balance_threshold", "created_at", "updated_at"]
    actions = ["adjust_balance"]
    change_form_template = "metering/wallet_admin_change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = WalletAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Wallet | None = None) -> list[str]:
        return self.readonly_fields if obj else ["tenant"]

    def get_readonly_fields(self, request: HttpRequest, obj: Wallet | None = None) -> list[str]:
        # The balance only ever changes through ledger entries (the adjust form), never by editing it.
        return self.readonly_fields if obj else []

    def get_inlines(self, request: HttpRequest, obj: Wallet | None):
        return [WalletEntryInline] if obj else []

    def get_formset_kwargs(self, request: HttpRequest, obj: Wallet, inline, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, WalletEntryInline):
            latest = list(obj.entries.order_by("-id").values_list("pk", flat=True)[:INLINE_ENTRIES])
            kwargs["queryset"] = kwargs["queryset"].filter(pk__in=latest)
        return kwargs

    def has_delete_permission(self, request: HttpRequest, obj: Wallet | None = None) -> bool:
        # The ledger points at the wallet: money history is never deleted.
        return False

    def save_model(self, request: HttpRequest, obj: Wallet, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        wallet = wallet_ensure(tenant=form.cleaned_data["tenant"])
        obj.pk = wallet.pk
        obj._state.adding = False

    @admin.display(description="Balance (tokens)", ordering="balance")
    def balance_display(self, wallet: Wallet) -> str:
        return f"{wallet.balance:,}"

    @admin.display(description="Open allowance (expires)", ordering="allowance")
    def allowance_display(self, wallet: Wallet) -> str:
        return f"{wallet.allowance:,}"

    @admin.display(description="Owed (tokens)", ordering="owed")
    def owed_display(self, wallet: Wallet) -> str:
        # Usage beyond the balance: the next credit repays it; what stays owed is for billing to invoice.
        return f"{wallet.owed:,}"

    @admin.display(description="")
    def adjust_link(self, wallet: Wallet) -> str:
        return format_html('<a href="{}">Adjust balance</a>', reverse("admin:metering_wallet_adjust", args=[wallet.pk]))

    def get_urls(self) -> list[URLPattern]:
        adjust = path("<path:object_id>/adjust/", self.admin_site.admin_view(self.adjust_view),
                      name="metering_wallet_adjust")
        return [adjust, *super().get_urls()]

    @admin.action(description="Adjust the balance of the selected wallet", permissions=["change"])
    def adjust_balance(self, request: HttpRequest, queryset: QuerySet[Wallet]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one wallet to adjust.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:metering_wallet_adjust", args=[queryset.get().pk]))

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        wallet = self.get_object(request, unquote(object_id))
        if wallet is None:
            raise Http404("No such wallet.")
        if not self.has_change_permission(request, wallet):
            raise PermissionDenied
        form = WalletAdjustForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            tokens = form.cleaned_data["tokens"]
            try:
                entry = wallet_credit(tenant=wallet.tenant, tokens=tokens, kind=WalletEntry.Kind.ADJUSTMENT,
                                      reason=form.cleaned_data["reason"],
                                      idempotency_key=f"adjustment:{form.cleaned_data['key']}",
                                      created_by=request.user.email)
            except InsufficientBalance as error:
                form.add_error("tokens", f"That would take the balance below zero. {error.message}")
            except IdempotencyKeyReused:
                form.add_error(None, "This form was already used for another adjustment: open it again.")
            else:
                self.message_user(request, f"Adjusted {wallet.tenant} by {tokens:+,} tokens; the balance is now "
                                           f"{entry.balance_after:,}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:metering_wallet_change", args=[wallet.pk]))
        return TemplateResponse(request, "metering/wallet_admin_adjust.html", {
            **self.admin_site.each_context(request),
            "title": f"Adjust the balance of {wallet.tenant}",
            "opts": self.model._meta,
            "original": wallet,
            "form": form,
        }, status=400 if form.errors else 200)


@admin.register(WalletEntry)
class WalletEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The full ledger of every wallet, read-only (open it from a wallet for that wallet only)."""

    list_display = ["created_at", "wallet", "kind", "feature", "tokens", "balance_after", "owed_tokens", "reason",
                    "created_by"]
    list_filter = ["kind", "feature"]
    search_fields = ["wallet__tenant__slug", "wallet__tenant__name", "idempotency_key", "reason"]
    list_select_related = ["wallet__tenant"]
    ordering = ["-id"]
    fields = ["wallet", *ENTRY_FIELDS]
    readonly_fields = fields
    show_full_result_count = False


@admin.register(TokenPack)
class TokenPackAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "tokens_display", "price_display", "price_per_1k", "active"]
    list_filter = ["active", "currency"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at"]
    fields = ["code", "name", "tokens", "price", "currency", "active", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: TokenPack | None = None) -> list[str]:
        # Purchases copy tokens and price when ordered; the code is how the seeds and forms find a pack.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: TokenPack | None = None) -> bool:
        # Purchases point at their pack: deactivate it instead.
        return False

    @admin.display(description="Tokens", ordering="tokens")
    def tokens_display(self, pack: TokenPack) -> str:
        return f"{pack.tokens:,}"

    @admin.display(description="Price", ordering="price")
    def price_display(self, pack: TokenPack) -> str:
        return money_format(pack.price_money)

    @admin.display(description="Per 1K tokens")
    def price_per_1k(self, pack: TokenPack) -> str:
        # A unit price: to the hundredth of a cent, finer than the currency's minor units.
        return money_format(pack.price_money * 1000 / pack.tokens, places=4)


@admin.register(TokenPurchase)
class TokenPurchaseAdmin(admin.ModelAdmin):
    list_display = ["id", "tenant", "pack", "tokens_display", "price_display", "status", "invoice_link",
                    "created_by", "created_at", "paid_at"]
    list_filter = ["status", "pack", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["tenant__slug", "tenant__name", "created_by", "invoice__number"]
    list_select_related = ["tenant", "pack", "invoice"]
    readonly_fields = ["tenant", "pack", "tokens", "price", "currency", "status", "invoice_link", "tokens_refunded",
                       "created_by", "created_at", "paid_at"]
    fields = readonly_fields
    actions = ["mark_paid", "cancel"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tenants order on their Wallet page; ops grant tokens without payment with a wallet adjustment.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TokenPurchase | None = None) -> bool:
        return False

    @admin.display(description="Tokens", ordering="tokens")
    def tokens_display(self, purchase: TokenPurchase) -> str:
        return f"{purchase.tokens:,}"

    @admin.display(description="Price", ordering="price")
    def price_display(self, purchase: TokenPurchase) -> str:
        return money_format(purchase.price_money)

    @admin.display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, purchase: TokenPurchase) -> str:
        if purchase.invoice_id is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:billing_invoice_change", args=[purchase.invoice_id]),
                           purchase.invoice)

    @admin.action(description="Mark selected purchases paid (credits the tokens)", permissions=["change"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[TokenPurchase]) -> None:
        self._each(request, queryset, token_purchase_mark_paid, "Marked paid and credited")

    @admin.action(description="Cancel selected purchases", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[TokenPurchase]) -> None:
        self._each(request, queryset, token_purchase_cancel, "Cancelled")

    def _each(self, request: HttpRequest, queryset: QuerySet[TokenPurchase], service, done_message: str) -> None:
        done = 0
        for purchase in queryset.order_by("pk"):
            try:
                service(purchase=purchase, actor=request.user)
                done += 1
            except WalletError as error:  # not pending, or settled by its invoice (the message names it)
                self.message_user(request, error.message, messages.WARNING)
        if done:
            self.message_user(request, f"{done_message}: {done} purchase(s).", messages.SUCCESS)
