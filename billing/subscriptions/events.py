"""What subscriptions tell the apps above billing (which billing never imports).

`subscription_starting` is sent inside subscription_start's transaction, once the subscription row (and any
promotion code the tenant typed) is saved and before its first invoice is drafted, with `subscription` and `now`:
a receiver may apply a discount that the first invoice then carries (affiliates: a tenant-referred signup's
coupon). A receiver that raises rolls the start back, so receivers refuse quietly instead."""

from django.dispatch import Signal

subscription_starting = Signal()
