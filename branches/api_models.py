"""System accounts of the REST API and the figure batches they sent (imported by branches.models).

A system account (the data warehouse, a core-banking feed) is a Django user with an ApiClient
record and a DRF token. The record says which units the token may write figures for: the
subtree of ``scope_unit``, or the whole bank when empty. Reads through the API follow the same
scope. Each accepted figure batch is remembered by the client's batch id, so sending the same
batch again writes nothing and returns the first answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiClient(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("system account"), on_delete=models.CASCADE, related_name="api_client"
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 数据仓库日终推送 (data warehouse daily push)"))
    scope_unit = models.ForeignKey(
        "branches.Unit",
        verbose_name=_("scope unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The token may write and read this unit's subtree only; empty: the whole bank."),
    )
    can_write_figures = models.BooleanField(_("may send figures"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API client (系统账户)")
        verbose_name_plural = _("API clients (系统账户)")

    def __str__(self) -> str:
        return self.name


class ApiFigureBatch(models.Model):
    """A figure batch accepted from a client, keyed by the client's own batch id (idempotency)."""

    client_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+"
    )
    batch_id = models.CharField(_("client batch id"), max_length=100)
    payload_sha256 = models.CharField(_("content hash"), max_length=64)
    import_batch = models.ForeignKey(
        "branches.ImportBatch", verbose_name=_("import batch"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response = models.JSONField(_("answer sent"), default=dict)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API figure batch")
        verbose_name_plural = _("API figure batches")
        constraints = [models.UniqueConstraint(fields=["client_user", "batch_id"], name="api_batch_once_per_client")]

    def __str__(self) -> str:
        return f"{self.client_user_id}:{self.batch_id}"
